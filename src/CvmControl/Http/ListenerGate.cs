using CvmControl.Identity;
using Microsoft.AspNetCore.Http.Features;

namespace CvmControl.Http;

/// <summary>
/// A listener serves only its share of the routes (<see cref="ListenerFeature.Serves"/>): a local Unix
/// socket the read-only ones unless the full API is allowed there, the probe listener status alone.
/// Other routes get 403 with what to change. Requests without a listener (the in-process test server)
/// pass.
/// </summary>
internal static class ListenerGate
{
    public static WebApplication UseListenerGate(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            var listener = context.Features.Get<ListenerFeature>();
            if (listener?.Kind == ListenerKind.Probe && context.Features.Get<IHttpMetricsTagsFeature>() is { } metrics)
            {
                // The watchdog's own requests are not traffic: keep them out of the request metrics.
                metrics.MetricsDisabled = true;
            }
            // Routing ran first, so the route template is known; an unrouted request goes on to its 404.
            if (listener is null || (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText is not { } route || listener.Serves(route))
            {
                return next(context);
            }
            var detail = listener.Kind == ListenerKind.Local
                ? "this Unix socket serves only GET /api/v1/status, /api/v1/platform and /metrics; the daemon's --unix-socket-full-api serves the whole API on it"
                : "this listener serves only the daemon's own probe";
            return ApiErrors.Of(StatusCodes.Status403Forbidden, "not served on this listener", detail).ExecuteAsync(context);
        });
        return app;
    }
}
