using CvmControl.Api.V1;
using CvmControl.Json;
using CvmControl.Operations;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CvmControl.Http;

internal static class ShutdownApi
{
    public static RouteGroupBuilder MapShutdownApi(this RouteGroupBuilder api)
    {
        api.MapPost("/shutdown", PostShutdown);
        return api;
    }

    public static async Task<Results<Ok<StatusResponse>, JsonHttpResult<ErrorResponse>>> PostShutdown(
        HttpRequest request, IShutdownService shutdown)
    {
        // Before bootstrap no credential is needed, so an empty body is a plain power-off.
        var body = await JsonBody.ReadAsync(request, CvmJsonContext.Default.ShutdownRequest, whenEmpty: () => new ShutdownRequest());
        if (body.Error is { } bodyError)
        {
            return bodyError;
        }

        var outcome = await shutdown.RequestAsync(body.Value!.UserId, body.Value.Reboot ?? false);
        return outcome switch
        {
            { PowerFailed: true } => ApiErrors.Of(StatusCodes.Status500InternalServerError, outcome.Error!, outcome.Detail),
            { Decision: ShutdownDecision.Begin } => TypedResults.Ok(new StatusResponse(ApiStatus.Ok)),
            { Decision: ShutdownDecision.Unauthorized } => ApiErrors.Unauthorized(outcome.Error ?? "unauthorized"),
            _ => ApiErrors.Conflict(outcome.Error ?? "conflict"),
        };
    }
}
