namespace CvmControl.Attestation.Verification.Tdx;

/// <summary>
/// Intel's TCB statuses, best first. The order is this verifier's, for <c>--min-tcb-status</c>:
/// software hardening is a lesser concern than platform configuration, and both are lesser than a
/// TCB Intel calls out of date. Revoked is never acceptable.
/// </summary>
internal enum TcbStatus
{
    UpToDate,
    SWHardeningNeeded,
    ConfigurationNeeded,
    ConfigurationAndSWHardeningNeeded,
    OutOfDate,
    OutOfDateConfigurationNeeded,
    Revoked,
}

internal static class TcbStatuses
{
    /// <summary>Intel's spelling, exactly; null for anything else.</summary>
    public static TcbStatus? Parse(string? text) => text switch
    {
        "UpToDate" => TcbStatus.UpToDate,
        "SWHardeningNeeded" => TcbStatus.SWHardeningNeeded,
        "ConfigurationNeeded" => TcbStatus.ConfigurationNeeded,
        "ConfigurationAndSWHardeningNeeded" => TcbStatus.ConfigurationAndSWHardeningNeeded,
        "OutOfDate" => TcbStatus.OutOfDate,
        "OutOfDateConfigurationNeeded" => TcbStatus.OutOfDateConfigurationNeeded,
        "Revoked" => TcbStatus.Revoked,
        _ => null,
    };
}
