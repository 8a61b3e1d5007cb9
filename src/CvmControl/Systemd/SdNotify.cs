using System.Net.Sockets;
using System.Text;

namespace CvmControl.Systemd;

/// <summary>
/// The sd_notify(3) wire: one datagram of newline-separated <c>KEY=VALUE</c> assignments to the
/// AF_UNIX socket named by <c>NOTIFY_SOCKET</c>. The same as Microsoft.Extensions.Hosting.Systemd's
/// SystemdNotifier sends, including abstract names written with a leading <c>@</c>.
/// </summary>
internal sealed class SdNotify(string socket)
{
    private readonly UnixDomainSocketEndPoint _endpoint = new(socket[0] == '@' ? "\0" + socket[1..] : socket);

    public string Socket { get; } = socket;

    /// <exception cref="SocketException">The manager's socket is gone or refuses the message.</exception>
    public void Send(string assignments)
    {
        using var datagram = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        datagram.Connect(_endpoint);
        // A few hundred bytes at most: far below the socket buffer, so the send never blocks.
        datagram.Send(Encoding.UTF8.GetBytes(assignments));
    }
}
