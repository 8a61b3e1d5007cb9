namespace CvmControl.Attestation.Verification.Tdx;

/// <summary>Verifies an Intel TDX quote (v4, v5) offline against the pinned Intel SGX Root CA.</summary>
internal static class TdxVerifier
{
    public static void Verify(ReadOnlySpan<byte> quote, VerificationOptions options, VerificationResult result)
    {
        _ = quote;
        _ = options;
        result.Fail("TDX verification is not implemented yet");
    }
}
