using CvmControl.Metrics;
using CvmControl.OS;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace CvmControl.Identity;

/// <summary>Kestrel's listeners from a <see cref="ListenerPlan"/>, and the connection middleware they are built from.</summary>
internal static class ListenerSetup
{
    /// <summary>
    /// Every planned listener, marked with what it is; TLS ones through <paramref name="useHttps"/> with
    /// failed handshakes counted. A passed socket is taken over by its descriptor.
    /// </summary>
    public static void Listen(this KestrelServerOptions kestrel, IReadOnlyList<PlannedListener> plan, Action<ListenOptions> useHttps, CvmMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(plan);
        foreach (var listener in plan)
        {
            void Configure(ListenOptions listen)
            {
                listen.Mark(listener.Feature);
                if (listener.Tls)
                {
                    HandshakeWatch.Around(listen, listener.Feature.Name, metrics, useHttps);
                }
            }

            if (listener.Fd is { } fd)
            {
                kestrel.ListenHandle((ulong)fd, Configure);
            }
            else if (listener.UnixPath is { } path)
            {
                kestrel.ListenUnixSocket(path, Configure);
            }
            else
            {
                kestrel.Listen(listener.TcpEndPoint!, Configure);
            }
        }
    }

    /// <summary>Marks each connection with what its listener is (<see cref="ListenerFeature"/>); requests are gated on it.</summary>
    public static ListenOptions Mark(this ListenOptions listen, ListenerFeature listener)
    {
        listen.Use(next => connection =>
        {
            connection.Features.Set(listener);
            return next(connection);
        });
        return listen;
    }

    /// <summary>Closes every connection that does not come from this very process (SO_PEERCRED).</summary>
    public static ListenOptions OnlyFromThisProcess(this ListenOptions listen)
    {
        listen.Use(next => connection =>
        {
            var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
            if (socket is null || PeerCredentials.Of(socket)?.ProcessId != Environment.ProcessId)
            {
                connection.Abort(new ConnectionAbortedException("the probe listener serves this process only"));
                return Task.CompletedTask;
            }
            return next(connection);
        });
        return listen;
    }
}
