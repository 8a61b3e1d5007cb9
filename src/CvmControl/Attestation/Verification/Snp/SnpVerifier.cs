namespace CvmControl.Attestation.Verification.Snp;

/// <summary>Verifies an AMD SEV-SNP attestation report offline against the pinned AMD roots.</summary>
internal static class SnpVerifier
{
    public static void Verify(ReadOnlySpan<byte> report, VerificationOptions options, VerificationResult result)
    {
        _ = report;
        _ = options;
        result.Fail("SEV-SNP verification is not implemented yet");
    }
}
