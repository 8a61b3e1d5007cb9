using CvmControl.Api.V1;
using CvmControl.Json;

namespace CvmControl.Http;

/// <summary>
/// Makes every error, including the framework's own (404, 405, malformed HTTP, crashes), use the
/// <c>{"error", "detail"}</c> body, and logs each request's method, path, status and duration (never bodies).
/// </summary>
internal static partial class ErrorPipeline
{
    public static WebApplication UseCvmControlPipeline(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CvmControl.Http.Requests");
        var time = app.Services.GetRequiredService<TimeProvider>();

        app.Use(async (context, next) =>
        {
            var started = time.GetTimestamp();
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
            finally
            {
                LogRequest(logger, context.Request.Method, context.Request.Path, context.Response.StatusCode, time.GetElapsedTime(started).TotalMilliseconds);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "{Method} {Path} {StatusCode} {ElapsedMs:0.0} ms")]
    private static partial void LogRequest(ILogger logger, string method, string path, int statusCode, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error in {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, string method, string path, Exception exception);
}
