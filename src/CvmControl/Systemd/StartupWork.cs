namespace CvmControl.Systemd;

/// <summary>
/// Work that must have finished before the daemon calls itself ready, beyond the host's own start
/// (for example the TLS certificate context, which is built beside the start).
/// </summary>
internal sealed record StartupWork(IReadOnlyList<Task> Pending)
{
    public static readonly StartupWork Nothing = new([]);
}
