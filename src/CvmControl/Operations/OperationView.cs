using CvmControl.Api.V1;
using CvmControl.Volumes;

namespace CvmControl.Operations;

/// <summary>An immutable snapshot of an operation's state, as <c>GET</c> reports it.</summary>
internal sealed record OperationView(string Status, string? Error = null, IReadOnlyDictionary<string, VolumeResult>? Volumes = null)
{
    public const string VolumesFailed = "one or more volumes failed";

    public static readonly OperationView Idle = new(ApiStatus.Idle);
    public static readonly OperationView InProgress = new(ApiStatus.InProgress);
    public static readonly OperationView Completed = new(ApiStatus.Completed);

    public static OperationView Failed(string error, IReadOnlyDictionary<string, VolumeResult>? volumes = null) =>
        new(ApiStatus.Failed, error, volumes);

    /// <summary>
    /// Completed when every volume is ok, otherwise failed with the per-volume results. A success lists
    /// the volumes when asked to, and always when one carries a warning, so that the caller sees it.
    /// </summary>
    public static OperationView FromOutcomes(IReadOnlyDictionary<string, VolumeOutcome> outcomes, bool includeVolumesOnSuccess)
    {
        var volumes = outcomes.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(
            kv => kv.Key,
            kv => new VolumeResult
            {
                Status = kv.Value.Ok ? ApiStatus.Ok : ApiStatus.Error,
                Error = kv.Value.Error,
                Detail = kv.Value.Detail,
                Warnings = kv.Value.Warnings.Count > 0 ? kv.Value.Warnings : null,
                RevokedSlots = kv.Value.RevokedSlots,
            },
            StringComparer.Ordinal);
        var warned = outcomes.Values.Any(o => o.Warnings.Count > 0);
        return outcomes.Values.All(o => o.Ok)
            ? new OperationView(ApiStatus.Completed, null, includeVolumesOnSuccess || warned ? volumes : null)
            : Failed(VolumesFailed, volumes);
    }

    public OperationStatusResponse ToResponse() => new() { Status = Status, Error = Error, Volumes = Volumes };

    /// <summary>
    /// An operation in progress with each volume's state: <c>in_progress</c> with its step, or, once that
    /// volume is done, <c>ok</c> or <c>error</c> with the short error (the detail comes with the result).
    /// </summary>
    public OperationStatusResponse ToResponse(IReadOnlyDictionary<string, VolumeProgressEntry> progress) => progress.Count == 0
        ? ToResponse()
        : new()
        {
            Status = Status,
            Error = Error,
            Volumes = progress.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(
                kv => kv.Key,
                kv => new VolumeResult
                {
                    Status = !kv.Value.Finished ? ApiStatus.InProgress : kv.Value.Ok ? ApiStatus.Ok : ApiStatus.Error,
                    Step = kv.Value.Step,
                    Error = kv.Value.Error,
                },
                StringComparer.Ordinal),
        };
}
