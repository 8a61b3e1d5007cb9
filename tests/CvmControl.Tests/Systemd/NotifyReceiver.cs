using System.Net.Sockets;
using System.Text;

namespace CvmControl.Tests.Systemd;

/// <summary>
/// A stand-in for the service manager's end of sd_notify(3): a Unix datagram socket that records every
/// message, in order, with what the test knew when it arrived.
/// </summary>
internal sealed class NotifyReceiver : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly List<string> _messages = [];
    private readonly Task _loop;
    private readonly CancellationTokenSource _stop = new();

    public NotifyReceiver()
    {
        Path = _dir.Combine("notify");
        _socket.Bind(new UnixDomainSocketEndPoint(Path));
        _loop = Task.Run(ReceiveAsync);
    }

    public string Path { get; }

    public IReadOnlyList<string> Messages
    {
        get { lock (_messages) { return [.. _messages]; } }
    }

    public int Count(string assignment) => Messages.Count(m => m.Split('\n').Contains(assignment));

    /// <summary>Waits (bounded) until some message holds <paramref name="assignment"/>; returns that message.</summary>
    public async Task<string> WaitForAsync(string assignment, TimeSpan? within = null, int occurrences = 1)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            var found = Messages.Where(m => m.Split('\n').Contains(assignment)).ToList();
            if (found.Count >= occurrences)
            {
                return found[occurrences - 1];
            }
            await Task.Delay(20);
        }
        throw new TimeoutException($"no {assignment} ({occurrences}) arrived; got: {string.Join(" | ", Messages)}");
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[4096];
        while (!_stop.IsCancellationRequested)
        {
            int length;
            try
            {
                length = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            lock (_messages)
            {
                _messages.Add(Encoding.UTF8.GetString(buffer, 0, length));
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _loop.Wait(TimeSpan.FromSeconds(5));
        _socket.Dispose();
        _stop.Dispose();
        _dir.Dispose();
    }
}
