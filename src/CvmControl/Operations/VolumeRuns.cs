using CvmControl.OS;
using CvmControl.Volumes;

namespace CvmControl.Operations;

/// <summary>Runs one piece of work per volume in parallel; each runs to completion on its own and reports its steps to the progress board.</summary>
internal static partial class VolumeRuns
{
    public static async Task<IReadOnlyDictionary<string, VolumeOutcome>> RunAllAsync<T>(
        IEnumerable<T> items,
        Func<T, string> dmName,
        Func<T, Action<string>, Task<VolumeOutcome>> work,
        IEnumerable<string> secrets,
        VolumeProgress progress,
        ILogger logger)
    {
        var secretList = secrets.ToList();
        var runs = items.Select(async item =>
        {
            VolumeOutcome outcome;
            try
            {
                // Start every volume before awaiting any, even if one throws synchronously.
                outcome = await Task.Run(() => work(item, progress.For(dmName(item))));
            }
            catch (VolumeOperationException ex)
            {
                outcome = VolumeOutcome.Failure(ex.Message, ex.Detail);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                outcome = VolumeOutcome.Failure("internal error", ex.Message);
            }
            // Belt and braces: whatever produced the detail (tool output, exception text), no secret
            // leaves through it. Errors are the daemon's own fixed words.
            outcome = outcome with
            {
                Detail = outcome.Detail is null ? null : SecretScrubber.Scrub(outcome.Detail, secretList),
                Warnings = [.. outcome.Warnings.Select(w => SecretScrubber.Scrub(w, secretList))],
            };
            progress.Finish(dmName(item), outcome.Ok, outcome.Error);
            if (outcome.Ok && outcome.Warnings.Count > 0)
            {
                LogVolumeWarned(logger, dmName(item), outcome.Warnings.Count);
            }
            else if (outcome.Ok)
            {
                LogVolumeOk(logger, dmName(item));
            }
            else
            {
                LogVolumeFailed(logger, dmName(item), outcome.Error ?? "");
            }
            return (DmName: dmName(item), outcome);
        }).ToList();
        var results = await Task.WhenAll(runs);
        return results.ToDictionary(r => r.DmName, r => r.outcome, StringComparer.Ordinal);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {DmName} ok")]
    private static partial void LogVolumeOk(ILogger logger, string dmName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Volume {DmName} ok with {Warnings} warning(s)")]
    private static partial void LogVolumeWarned(ILogger logger, string dmName, int warnings);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Volume {DmName} failed: {Error}")]
    private static partial void LogVolumeFailed(ILogger logger, string dmName, string error);
}
