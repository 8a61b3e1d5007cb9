using CvmControl.Api.V1;
using CvmControl.Json;
using CvmControl.Operations;
using CvmControl.Provisioning;
using CvmControl.Validation;
using CvmControl.Volumes.Devices;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CvmControl.Http;

internal static class BootstrapApi
{
    public static RouteGroupBuilder MapBootstrapApi(this RouteGroupBuilder api)
    {
        api.MapPost("/bootstrap", PostBootstrap);
        api.MapGet("/bootstrap", GetBootstrap);
        return api;
    }

    public static async Task<Results<Ok<StatusResponse>, Accepted<StatusResponse>, JsonHttpResult<ErrorResponse>>> PostBootstrap(
        HttpRequest request, IBootstrapService bootstrap, RunDirectory runDir, CloudSelection cloud)
    {
        var body = await JsonBody.ReadAsync(request, CvmJsonContext.Default.BootstrapRequest);
        if (body.Error is { } bodyError)
        {
            return bodyError;
        }
        var validated = RequestValidator.Validate(body.Value!, runDir.Root, cloud.Cloud);
        if (!validated.IsValid)
        {
            return ApiErrors.Invalid(validated.Errors);
        }

        var admission = bootstrap.Submit(validated.Plan!);
        return admission.Decision switch
        {
            BootstrapDecision.Start or BootstrapDecision.AlreadyRunning =>
                TypedResults.Accepted("/api/v1/bootstrap", new StatusResponse(ApiStatus.InProgress)),
            BootstrapDecision.AlreadyReady => TypedResults.Ok(new StatusResponse(ApiStatus.Ready)),
            _ => ApiErrors.Conflict(admission.Reason ?? "conflict"),
        };
    }

    public static Ok<OperationStatusResponse> GetBootstrap(OperationTracker tracker) =>
        TypedResults.Ok(tracker.BootstrapStatus());
}
