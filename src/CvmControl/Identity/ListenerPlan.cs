using System.Net;
using System.Net.Sockets;
using CvmControl.OS;
using CvmControl.Systemd;

namespace CvmControl.Identity;

/// <summary>One listener the daemon will serve on: a socket systemd passed, a TCP endpoint, or a Unix socket path.</summary>
internal sealed record PlannedListener(ListenerFeature Feature, bool Tls, string Description)
{
    /// <summary>A descriptor passed by the service manager (socket activation).</summary>
    public int? Fd { get; init; }

    /// <summary>A TCP endpoint to bind.</summary>
    public IPEndPoint? TcpEndPoint { get; init; }

    /// <summary>The network address served (bound here, or by systemd); null for Unix sockets.</summary>
    public IPEndPoint? Network { get; init; }

    /// <summary>A Unix socket file to bind (after a stale one is removed).</summary>
    public string? UnixPath { get; init; }
}

/// <summary>
/// What the daemon listens on, decided before the host is built, so that a socket it cannot serve stops
/// it with the reason. With sockets from systemd (LISTEN_FDS) those replace --address and --port:
/// an AF_INET/AF_INET6 socket serves HTTPS (with client authentication when configured), an AF_UNIX
/// socket serves plain HTTP with the local route set. A FileDescriptorName= of <c>https</c> or
/// <c>local</c> says so explicitly (HTTPS over a Unix socket, for a proxy in front; plain HTTP is
/// never served on a network socket). --unix-socket adds a local listener either way.
/// </summary>
internal static class ListenerPlan
{
    public const string HttpsName = "https";
    public const string LocalName = "local";

    /// <summary>AF_VSOCK; .NET has no AddressFamily member for it.</summary>
    private const int AfVsock = 40;

    /// <exception cref="ListenerException">A passed socket cannot be served, or the Unix socket path cannot be used.</exception>
    public static IReadOnlyList<PlannedListener> Create(ListenerOptions settings, SystemdEnvironment systemd)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(systemd);
        var listeners = new List<PlannedListener>();
        if (systemd.Passed.Count > 0)
        {
            listeners.AddRange(systemd.Passed.Select(passed => Inspect(passed, settings.UnixSocketFullApi)));
        }
        else
        {
            var endpoint = new IPEndPoint(settings.Address, settings.Port);
            listeners.Add(new PlannedListener(new ListenerFeature(ListenerKind.Https, "tcp"), Tls: true, $"https://{endpoint}") { TcpEndPoint = endpoint, Network = endpoint });
        }
        if (settings.UnixSocket is { } path)
        {
            listeners.Add(new PlannedListener(
                new ListenerFeature(ListenerKind.Local, "unix", settings.UnixSocketFullApi),
                Tls: false,
                $"http+unix:{path} ({(settings.UnixSocketFullApi ? "the whole API" : "status, platform and metrics")})")
            { UnixPath = path });
        }
        return listeners;
    }

    private static PlannedListener Inspect(PassedSocket passed, bool fullApi)
    {
        var where = $"passed socket fd {passed.Fd}{(passed.Name is { } n ? $" ({n})" : "")}";
        AddressFamily family;
        string address;
        IPEndPoint? network;
        try
        {
            FileDescriptors.SetCloseOnExec(passed.Fd);
            // Borrowed, not owned: Kestrel takes the descriptor over once it is known to be usable.
            using var socket = new Socket(new SafeSocketHandle(passed.Fd, ownsHandle: false));
            if (socket.SocketType != SocketType.Stream)
            {
                throw new ListenerException($"{where} is a {socket.SocketType} socket; the daemon serves stream sockets only (ListenStream=)");
            }
            if (socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.AcceptConnection) is 0)
            {
                throw new ListenerException($"{where} is not listening; socket units pass listening sockets unless Accept=yes, which this daemon does not support");
            }
            family = socket.AddressFamily;
            address = socket.LocalEndPoint?.ToString() ?? "?";
            network = socket.LocalEndPoint as IPEndPoint;
        }
        catch (IOException ex)
        {
            throw new ListenerException($"{where} cannot be used: {ex.Message}");
        }
        catch (SocketException ex)
        {
            throw new ListenerException($"{where} cannot be used: {ex.Message}");
        }
        catch (Exception ex) when (ex is NotSupportedException or PlatformNotSupportedException or ArgumentException)
        {
            throw new ListenerException($"{where} has an address family .NET cannot serve ({ex.Message}). For AF_VSOCK, listen with systemd and forward to the daemon with systemd-socket-proxyd (deploy/cvm-control-vsock.socket)");
        }

        var name = passed.Name ?? $"fd{passed.Fd}";
        switch (family)
        {
            case AddressFamily.InterNetwork or AddressFamily.InterNetworkV6:
                if (passed.Name == LocalName)
                {
                    throw new ListenerException($"{where} is a network socket ({address}); plain HTTP is served on Unix sockets only, so name it {HttpsName} or leave FileDescriptorName= unset");
                }
                return new PlannedListener(new ListenerFeature(ListenerKind.Https, name), Tls: true, $"https://{address} ({where})") { Fd = passed.Fd, Network = network };
            case AddressFamily.Unix:
                return passed.Name == HttpsName
                    ? new PlannedListener(new ListenerFeature(ListenerKind.Https, name), Tls: true, $"https+unix:{address} ({where})") { Fd = passed.Fd }
                    : new PlannedListener(new ListenerFeature(ListenerKind.Local, name, fullApi), Tls: false,
                        $"http+unix:{address} ({where}; {(fullApi ? "the whole API" : "status, platform and metrics")})") { Fd = passed.Fd };
            case (AddressFamily)AfVsock:
                throw new ListenerException($"{where} is an AF_VSOCK socket, which .NET cannot accept on (dotnet/runtime#58327); listen with systemd and forward to the daemon with systemd-socket-proxyd (deploy/cvm-control-vsock.socket)");
            default:
                throw new ListenerException($"{where} is an {family} socket; the daemon serves AF_INET, AF_INET6 and AF_UNIX stream sockets");
        }
    }
}
