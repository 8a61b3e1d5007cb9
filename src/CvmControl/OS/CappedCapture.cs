using System.Text;
using CliWrap;

namespace CvmControl.OS;

/// <summary>
/// A CliWrap pipe target that keeps the first <c>cap</c> bytes of a stream and reads the rest to the
/// end without storing it, so a chatty child never blocks on a full pipe and never grows the daemon.
/// (CliWrap's buffered mode keeps everything.)
/// </summary>
internal sealed class CappedCapture(int cap) : PipeTarget
{
    /// <summary>
    /// How long reading goes on once the child was killed. A dead child's pipe ends at once, and
    /// what it wrote before it died is still read (a timed-out tool's last words); only a grandchild
    /// that escaped the kill can keep the pipe open that long.
    /// </summary>
    public static readonly TimeSpan DrainAfterKill = TimeSpan.FromSeconds(1);

    private readonly MemoryStream _kept = new();

    /// <summary>What was kept, decoded as UTF-8. Read it only once the run is over.</summary>
    public string Text => Encoding.UTF8.GetString(_kept.GetBuffer(), 0, (int)_kept.Length);

    public override async Task CopyFromAsync(Stream origin, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(origin);
        using var stop = new CancellationTokenSource();
        // CliWrap cancels this token when it kills the child.
        using var killed = cancellationToken.Register(static s => ((CancellationTokenSource)s!).CancelAfter(DrainAfterKill), stop);
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await origin.ReadAsync(buffer, stop.Token).ConfigureAwait(false)) > 0)
            {
                var room = cap - (int)_kept.Length;
                if (room > 0)
                {
                    _kept.Write(buffer, 0, Math.Min(room, read));
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Keep what was read; CliWrap reports the kill itself.
        }
    }
}
