using System.Text.Json.Serialization;

namespace CvmControl.Api.V1;

/// <summary>The body of every error reply.</summary>
public sealed class ErrorResponse
{
    /// <summary>Creates an error body.</summary>
    public ErrorResponse(string error, string? detail = null)
    {
        Error = error;
        Detail = detail;
    }

    /// <summary>A short message.</summary>
    [JsonPropertyName("error")]
    public string Error { get; }

    /// <summary>More context, such as a tool's stderr with secrets removed.</summary>
    [JsonPropertyName("detail")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Detail { get; }
}
