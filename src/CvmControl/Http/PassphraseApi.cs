using CvmControl.Api.V1;
using CvmControl.Json;
using CvmControl.Operations;
using CvmControl.Validation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CvmControl.Http;

internal static class PassphraseApi
{
    public static RouteGroupBuilder MapPassphraseApi(this RouteGroupBuilder api)
    {
        api.MapPost("/passphrase", PostPassphrase);
        api.MapGet("/passphrase", GetPassphrase);
        return api;
    }

    public static async Task<Results<Accepted<StatusResponse>, JsonHttpResult<ErrorResponse>>> PostPassphrase(
        HttpRequest request, IPassphraseService passphrases)
    {
        var body = await JsonBody.ReadAsync(request, CvmJsonContext.Default.PassphraseRequest);
        if (body.Error is { } bodyError)
        {
            return bodyError;
        }
        var validated = RequestValidator.Validate(body.Value!);
        if (!validated.IsValid)
        {
            return ApiErrors.Invalid(validated.Errors);
        }

        var admission = await passphrases.SubmitAsync(validated.Plan!);
        return admission.Decision switch
        {
            PassphraseDecision.Accepted => TypedResults.Accepted("/api/v1/passphrase", new StatusResponse(ApiStatus.InProgress)),
            PassphraseDecision.UnknownVolumes => ApiErrors.BadRequest(admission.Reason ?? "unknown volume"),
            PassphraseDecision.Unauthorized => ApiErrors.Unauthorized(admission.Reason ?? "old passphrase is wrong", admission.Detail),
            PassphraseDecision.CheckFailed => ApiErrors.Of(StatusCodes.Status500InternalServerError, admission.Reason ?? "could not check the old passphrase", admission.Detail),
            _ => ApiErrors.Conflict(admission.Reason ?? "conflict"),
        };
    }

    public static Ok<OperationStatusResponse> GetPassphrase(OperationTracker tracker) =>
        TypedResults.Ok(tracker.PassphraseStatus());
}
