namespace CvmControl.Attestation;

internal enum AttestationFailure
{
    /// <summary>Nothing on this machine can produce evidence (no configfs-tsm, or no provider behind it).</summary>
    NoProvider,

    /// <summary>A provider exists but did not deliver: an I/O error, or a concurrent writer spoilt the report.</summary>
    ProviderFailed,
}
