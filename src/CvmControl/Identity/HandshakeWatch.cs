using CvmControl.Metrics;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace CvmControl.Identity;

/// <summary>
/// Counts TLS handshakes that never completed, per listener: connection middleware on both sides of
/// Kestrel's HTTPS middleware, which only calls the inner one once a handshake has succeeded.
/// </summary>
internal sealed class HandshakeWatch
{
    public const string NoClientHello = "no_client_hello";
    public const string ClientCertificateRefused = "client_certificate_refused";
    public const string Failed = "handshake_failed";

    private bool _helloSeen;
    private bool _refused;
    private bool _completed;

    /// <summary>The server's certificate was asked for: a ClientHello arrived.</summary>
    public static void HelloSeen(Microsoft.AspNetCore.Connections.ConnectionContext connection)
    {
        if (connection.Features.Get<HandshakeWatch>() is { } watch)
        {
            watch._helloSeen = true;
        }
    }

    /// <summary>The client's certificate was refused during the handshake.</summary>
    public static void Refused(Microsoft.AspNetCore.Connections.ConnectionContext connection)
    {
        if (connection.Features.Get<HandshakeWatch>() is { } watch)
        {
            watch._refused = true;
        }
    }

    /// <summary>Wraps <paramref name="useHttps"/> (which adds Kestrel's HTTPS middleware) with the watch.</summary>
    public static ListenOptions Around(ListenOptions listen, string listener, CvmMetrics metrics, Action<ListenOptions> useHttps)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(useHttps);
        listen.Use(next => async connection =>
        {
            var watch = new HandshakeWatch();
            connection.Features.Set(watch);
            await next(connection);
            if (!watch._completed)
            {
                metrics.TlsHandshakeFailed(listener, watch._refused ? ClientCertificateRefused : watch._helloSeen ? Failed : NoClientHello);
            }
        });
        useHttps(listen);
        listen.Use(next => connection =>
        {
            connection.Features.Get<HandshakeWatch>()!._completed = true;
            return next(connection);
        });
        return listen;
    }
}
