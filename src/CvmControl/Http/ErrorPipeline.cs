using CvmControl.Api.V1;
using CvmControl.Json;
using Serilog;
// Serilog brings its own ILogger; the daemon logs through Microsoft.Extensions.Logging.
using ILogger = Microsoft.Extensions.Logging.ILogger;

namespace CvmControl.Http;

/// <summary>
/// Makes every error, including the framework's own (404, 405, malformed HTTP, crashes), use the
/// <c>{"error", "detail"}</c> body. Outside it, Serilog.AspNetCore's request logging writes one line per
/// request with its method, path, status and duration (never bodies; see Hosting/RequestLogging).
/// </summary>
internal static partial class ErrorPipeline
{
    public static WebApplication UseCvmControlPipeline(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CvmControl.Http.Requests");

        // Outermost, so that it sees the status the error handling below settled on.
        app.UseSerilogRequestLogging();
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
            {
                await WriteAsync(context, ex.StatusCode, ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? "request body too large" : "bad request");
            }
            catch (Exception ex) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                LogUnhandled(logger, context.Request.Method, context.Request.Path, ex);
                await WriteAsync(context, StatusCodes.Status500InternalServerError, "internal error");
            }
        });

        app.UseClientGate();

        app.UseStatusCodePages(async status =>
        {
            var code = status.HttpContext.Response.StatusCode;
            await WriteAsync(status.HttpContext, code, code switch
            {
                StatusCodes.Status404NotFound => "not found",
                StatusCodes.Status405MethodNotAllowed => "method not allowed",
                _ => ReasonPhrase(code),
            });
        });
        return app;
    }

    private static Task WriteAsync(HttpContext context, int status, string error)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new ErrorResponse(error), CvmJsonContext.Default.ErrorResponse);
    }

    private static string ReasonPhrase(int code) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(code) is { Length: > 0 } phrase ? phrase.ToLowerInvariant() : "error";

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error in {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, string method, string path, Exception exception);
}
