using CvmControl.Api.V1;

namespace CvmControl.Client;

/// <summary>A daemon's reply: its HTTP status and either the body it promised or its error body.</summary>
internal sealed record DaemonAnswer<T>(int StatusCode, T? Value, ErrorResponse? Error)
    where T : class
{
    public bool Ok => StatusCode is >= 200 and < 300 && Value is not null;

    /// <summary>The error in one line, e.g. <c>409 a bootstrap is in progress</c>.</summary>
    public string Describe() => Error is null
        ? $"{StatusCode} (no error body)"
        : Error.Detail is null ? $"{StatusCode} {Error.Error}" : $"{StatusCode} {Error.Error} ({Error.Detail})";
}
