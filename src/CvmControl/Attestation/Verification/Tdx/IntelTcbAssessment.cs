namespace CvmControl.Attestation.Verification.Tdx;

/// <summary>
/// Intel's verdict on a TDX platform, from its collateral. <see cref="Status"/> folds the others
/// together as Intel's quote verification library does.
/// </summary>
internal sealed record IntelTcbAssessment
{
    public required TcbStatus Status { get; init; }

    /// <summary>The status of the platform TCB level matched (SGX and TDX components, PCESVN).</summary>
    public required TcbStatus PlatformStatus { get; init; }

    /// <summary>The TDX module's own status from its identity's levels; null for a module of major version 0, which has none.</summary>
    public TcbStatus? ModuleStatus { get; init; }

    public required TcbStatus QeStatus { get; init; }

    /// <summary>Intel security advisories (INTEL-SA-xxxxx) of every level matched, each once.</summary>
    public required IReadOnlyList<string> AdvisoryIds { get; init; }

    public required byte[] Fmspc { get; init; }

    /// <summary>The date of the platform TCB level matched.</summary>
    public required DateTimeOffset TcbDate { get; init; }

    public required int EvaluationDataNumber { get; init; }
}
