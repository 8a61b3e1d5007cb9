using CvmControl.Identity;
using Serilog.AspNetCore;
using Serilog.Events;

namespace CvmControl.Hosting;

/// <summary>
/// Serilog.AspNetCore's request logging, shaped to the daemon's one line per request: method, path
/// (never the query, never a body), status, duration and the connection id. The property names are
/// those the daemon's own middleware wrote before, so JSON consumers see the same keys.
/// </summary>
internal static class RequestLogging
{
    public const string MessageTemplate = "{Method} {Path} {StatusCode} {ElapsedMs:0.0} ms";

    public static void Configure(RequestLoggingOptions options, Serilog.ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Without it the middleware would write to Serilog's static Log.Logger, which is silent here.
        options.Logger = logger;
        options.MessageTemplate = MessageTemplate;
        options.IncludeQueryInRequestPath = false;
        options.GetMessageTemplateProperties = Properties;
        options.GetLevel = Level;
    }

    // The daemon's own probe runs every few seconds under a watchdog: debug, not the request log.
    // Otherwise Serilog.AspNetCore's own rule: an error for a 5xx or an exception, else information.
    private static LogEventLevel Level(HttpContext http, double elapsedMs, Exception? exception) =>
        http.Features.Get<ListenerFeature>()?.Kind == ListenerKind.Probe ? LogEventLevel.Debug
        : exception is not null || http.Response.StatusCode > 499 ? LogEventLevel.Error
        : LogEventLevel.Information;

    private static IEnumerable<LogEventProperty> Properties(HttpContext http, string path, double elapsedMs, int statusCode) =>
    [
        new("Method", new ScalarValue(http.Request.Method)),
        new("Path", new ScalarValue(path)),
        new("StatusCode", new ScalarValue(statusCode)),
        new("ElapsedMs", new ScalarValue(elapsedMs)),
        // Kestrel's per-connection log scope used to bring this; the middleware writes to Serilog
        // directly, past the scopes of Microsoft.Extensions.Logging.
        new("ConnectionId", new ScalarValue(http.Connection.Id)),
    ];
}
