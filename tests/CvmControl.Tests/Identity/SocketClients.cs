using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace CvmControl.Tests.Identity;

/// <summary>HTTP clients over a Unix socket, and descriptors to pass as systemd would.</summary>
internal static partial class SocketClients
{
    /// <summary>A client whose every connection goes to <paramref name="path"/>; https when <paramref name="tls"/>.</summary>
    public static HttpClient Unix(string path, bool tls = false) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        },
        SslOptions = new System.Net.Security.SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    })
    {
        BaseAddress = new Uri(tls ? "https://cvm-control" : "http://cvm-control"),
        Timeout = TimeSpan.FromSeconds(60),
    };

    public static HttpClient Https(Uri url) => new(new SocketsHttpHandler
    {
        SslOptions = new System.Net.Security.SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    })
    {
        BaseAddress = url,
        Timeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>
    /// A duplicate of the socket's descriptor, for the daemon to take over as systemd's; the test keeps
    /// (and closes) its own, so no descriptor is closed twice.
    /// </summary>
    public static int Duplicate(Socket socket)
    {
        var fd = Dup((int)socket.SafeHandle.DangerousGetHandle());
        fd.Should().BeGreaterThan(2, Marshal.GetLastPInvokeErrorMessage());
        return fd;
    }

    [LibraryImport("libc", EntryPoint = "dup", SetLastError = true)]
    private static partial int Dup(int fd);
}
