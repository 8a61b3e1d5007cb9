using CvmControl.OS;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace CvmControl.Identity;

/// <summary>Connection middleware that every listener is built from.</summary>
internal static class ListenerSetup
{
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
