namespace CvmControl.Attestation.Verification;

internal enum EvidenceKind
{
    SevSnp,
    Tdx,
}
