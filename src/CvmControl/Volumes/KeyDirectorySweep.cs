using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CvmControl.Volumes;

/// <summary>
/// Clears the key directory at start (see <see cref="KeyDirectory.RemoveLeftovers"/>), before the
/// listeners open (a web application starts its hosted services before its server), so no file from
/// a killed run outlives the restart.
/// </summary>
internal sealed partial class KeyDirectorySweep(KeyDirectory keys, ILogger<KeyDirectorySweep> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var removed = keys.RemoveLeftovers();
            if (removed.Count > 0)
            {
                LogRemoved(logger, removed.Count, string.Join(", ", removed));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Not fatal: every operation makes and deletes its own files; the leftovers stay until reboot.
            LogCannotSweep(logger, ex.Message);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removed {Count} file(s) an earlier run left in the key directory: {Names}")]
    private static partial void LogRemoved(ILogger logger, int count, string names);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot clear the key directory of an earlier run's files ({Reason})")]
    private static partial void LogCannotSweep(ILogger logger, string reason);
}
