using CvmControl.Api.V1;
using CvmControl.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CvmControl.Http;

/// <summary>Every error reply is <c>{"error": ..., "detail": ...}</c> through the source-generated context.</summary>
internal static class ApiErrors
{
    public static JsonHttpResult<ErrorResponse> Of(int status, string error, string? detail = null) =>
        TypedResults.Json(new ErrorResponse(error, detail), CvmJsonContext.Default.ErrorResponse, statusCode: status);

    public static JsonHttpResult<ErrorResponse> BadRequest(string error, string? detail = null) => Of(StatusCodes.Status400BadRequest, error, detail);

    public static JsonHttpResult<ErrorResponse> Conflict(string error) => Of(StatusCodes.Status409Conflict, error);

    public static JsonHttpResult<ErrorResponse> Unauthorized(string error, string? detail = null) => Of(StatusCodes.Status401Unauthorized, error, detail);

    /// <summary>First problem as the error, all of them in the detail.</summary>
    public static JsonHttpResult<ErrorResponse> Invalid(IReadOnlyList<string> problems) =>
        BadRequest(problems[0], problems.Count > 1 ? string.Join("; ", problems) : null);
}
