namespace CvmControl.Attestation.Platform;

internal enum TeeType
{
    None,
    SevSnp,
    Tdx,
}
