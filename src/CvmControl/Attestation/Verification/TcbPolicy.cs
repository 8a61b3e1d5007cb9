using CvmControl.Attestation.Verification.Snp;
using CvmControl.Attestation.Verification.Tdx;

namespace CvmControl.Attestation.Verification;

/// <summary>How current the platform's trusted computing base must be, and what to judge it by.</summary>
internal sealed record TcbPolicy
{
    public static readonly TcbPolicy None = new();

    /// <summary>Intel PCS TDX TCB info (version 3), the exact bytes of the file: its signature covers them.</summary>
    public byte[]? IntelTcbInfo { get; init; }

    /// <summary>Intel PCS QE identity of the TD quoting enclave (version 2), the exact bytes of the file.</summary>
    public byte[]? IntelQeIdentity { get; init; }

    /// <summary>The worst Intel TCB status accepted; UpToDate and SWHardeningNeeded pass by default.</summary>
    public TcbStatus MinimumStatus { get; init; } = TcbStatus.SWHardeningNeeded;

    /// <summary>Accept collateral whose nextUpdate has passed at the verification time.</summary>
    public bool AllowStaleCollateral { get; init; }

    /// <summary>SEV-SNP: the lowest security patch levels REPORTED_TCB may show (an FMC level applies to Turin only).</summary>
    public TcbVersion? SnpMinimum { get; init; }
}
