using CvmControl.Api.V1;

namespace CvmControl.Attestation.Platform;

/// <summary>
/// What the daemon found at start. <see cref="TeeSource"/> names the evidence for <see cref="Tee"/>
/// (e.g. <c>configfs-tsm provider sev_guest</c>), so the log says why, not just what.
/// </summary>
internal sealed record PlatformInfo(
    TeeType Tee,
    string TeeSource,
    bool ConfigFsTsm,
    string? TsmProvider,
    bool Tpm,
    string? KernelRelease,
    string? CpuVendor)
{
    /// <summary>The wire name: <c>sev-snp</c>, <c>tdx</c> or <c>none</c>.</summary>
    public string TeeName => Tee switch
    {
        TeeType.SevSnp => ApiTee.SevSnp,
        TeeType.Tdx => ApiTee.Tdx,
        _ => ApiTee.None,
    };
}
