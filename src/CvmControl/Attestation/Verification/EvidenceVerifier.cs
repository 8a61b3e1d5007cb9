using System.Buffers.Binary;
using CvmControl.Attestation.Verification.Snp;
using CvmControl.Attestation.Verification.Tdx;

namespace CvmControl.Attestation.Verification;

/// <summary>Recognises a piece of evidence by its own header and hands it to the matching verifier.</summary>
internal static class EvidenceVerifier
{
    public static VerificationResult Verify(ReadOnlySpan<byte> evidence, VerificationOptions options)
    {
        var result = new VerificationResult();
        switch (Detect(evidence))
        {
            case EvidenceKind.SevSnp:
                result.Kind = EvidenceKind.SevSnp;
                SnpVerifier.Verify(evidence, options, result);
                RefuseInapplicable(options, result);
                break;
            case EvidenceKind.Tdx:
                result.Kind = EvidenceKind.Tdx;
                TdxVerifier.Verify(evidence, options, result);
                RefuseInapplicable(options, result);
                break;
            default:
                result.Fail($"unrecognised evidence ({evidence.Length} bytes): neither an SEV-SNP attestation report nor a TDX quote");
                break;
        }
        return result;
    }

    /// <summary>
    /// An expectation the evidence cannot answer is a failure, not a silent pass: a caller who asked
    /// for an event log replay or an AMD TCB minimum must not get "verified" without it.
    /// </summary>
    private static void RefuseInapplicable(VerificationOptions options, VerificationResult result)
    {
        if (result.Kind == EvidenceKind.SevSnp)
        {
            if (!options.Measurements.IsEmpty)
            {
                result.Fail("an event log, RTMR, MRTD or event expectation applies to TDX quotes; this is SEV-SNP evidence");
            }
            if (options.Tcb.IntelTcbInfo is not null || options.Tcb.IntelQeIdentity is not null)
            {
                result.Fail("Intel TCB info and QE identity apply to TDX quotes; this is SEV-SNP evidence (use --min-tcb)");
            }
        }
        else if (options.Tcb.SnpMinimum is not null)
        {
            result.Fail("--min-tcb applies to SEV-SNP reports; this is a TDX quote (use --tcb-info and --qe-identity)");
        }
    }

    /// <summary>
    /// A TDX quote starts with u16 version 4 or 5, u16 attestation key type 2 and u32 TEE type 0x81;
    /// an SNP report starts with a u32 version of 2 to 5, so its bytes 2–3 are zero. The two cannot
    /// be confused.
    /// </summary>
    public static EvidenceKind? Detect(ReadOnlySpan<byte> evidence)
    {
        if (evidence.Length < 8)
        {
            return null;
        }
        var u16Version = BinaryPrimitives.ReadUInt16LittleEndian(evidence);
        if (u16Version is 4 or 5 && BinaryPrimitives.ReadUInt16LittleEndian(evidence[2..]) == 2 && BinaryPrimitives.ReadUInt32LittleEndian(evidence[4..]) == 0x81)
        {
            return EvidenceKind.Tdx;
        }
        var u32Version = BinaryPrimitives.ReadUInt32LittleEndian(evidence);
        return u32Version is >= 2 and <= 5 ? EvidenceKind.SevSnp : null;
    }
}
