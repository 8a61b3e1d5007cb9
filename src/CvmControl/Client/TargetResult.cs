using CvmControl.Api.V1;

namespace CvmControl.Client;

/// <summary>How one target ended.</summary>
/// <param name="Status">The operation's (or daemon's) last status as the daemon reported it, when one was read.</param>
/// <param name="Error">Why the target failed; null when it succeeded.</param>
/// <param name="Volumes">The operation's last per-volume results.</param>
internal sealed record TargetResult(
    Uri Target,
    int ExitCode,
    string? Status,
    string? Error = null,
    string? Detail = null,
    IReadOnlyDictionary<string, VolumeResult>? Volumes = null)
{
    public string Name => Target.GetLeftPart(UriPartial.Authority);

    /// <summary>One word or phrase for the summary table.</summary>
    public string Outcome => Error ?? Status ?? "done";
}
