using CvmControl.OS;

namespace CvmControl.Identity;

/// <summary>
/// The files of the Unix sockets the daemon binds itself (--unix-socket): a stale one is removed
/// before Kestrel binds, and the new one is made owner-and-group only once it exists.
/// </summary>
internal sealed class LocalSocketFiles(IReadOnlyList<PlannedListener> plan) : IHostedLifecycleService
{
    private IEnumerable<string> Paths => plan.Select(l => l.UnixPath).OfType<string>();

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        foreach (var path in Paths)
        {
            try
            {
                UnixSocketFile.PrepareForBind(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new ListenerException($"cannot listen on {path}: {ex.Message}");
            }
        }
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        foreach (var path in Paths)
        {
            UnixSocketFile.Restrict(path);
        }
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
