using CvmControl.Identity;
using CvmControl.Metrics;

namespace CvmControl.Http;

/// <summary>
/// With client authentication on, every route needs an allowed client. A client whose certificate
/// passed the handshake but is not allowed gets 403, naming the ID or key it presented (neither is
/// a secret, and it tells an owner what to add); the refusal is logged once per connection.
/// </summary>
internal static partial class ClientGate
{
    public static WebApplication UseClientGate(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<ClientAuthenticator>().Enabled)
        {
            return app;
        }
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CvmControl.Http.ClientGate");
        var metrics = app.Services.GetRequiredService<CvmMetrics>();
        app.Use((context, next) =>
        {
            // The daemon's own probe, and local sockets, whose file mode and owner decide who connects.
            if (context.Features.Get<ListenerFeature>()?.Kind is ListenerKind.Probe or ListenerKind.Local)
            {
                return next(context);
            }
            var tls = context.Features.Get<TlsConnection>();
            if (tls?.Client is { Allowed: true })
            {
                return next(context);
            }
            var (error, detail) = tls?.Client is { } client
                ? ("client not allowed", NotAllowed(client))
                // Only a listener without TLS gets here (the handshake demands a certificate).
                : ("client certificate required", "this connection presented no client certificate");
            metrics.ClientRefused("request");
            if (tls is null || tls.FirstRefusal())
            {
                LogRefused(logger, context.Connection.RemoteIpAddress?.ToString() ?? "?", context.Connection.Id, context.Request.Method, context.Request.Path, detail);
            }
            return ApiErrors.Of(StatusCodes.Status403Forbidden, error, detail).ExecuteAsync(context);
        });
        return app;
    }

    private static string NotAllowed(ClientIdentity client) => client.SpiffeId is { } id
        ? $"{id} is not allowed by --allow-client, and its key {client.Key} is not among the --allow-client-key pins"
        : $"the key {client.Key} is not among the --allow-client-key pins";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused {Remote} (connection {ConnectionId}, {Method} {Path}): {Detail}")]
    private static partial void LogRefused(ILogger logger, string remote, string connectionId, string method, string path, string detail);
}
