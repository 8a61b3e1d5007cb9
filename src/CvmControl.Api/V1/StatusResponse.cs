using System.Text.Json.Serialization;

namespace CvmControl.Api.V1;

/// <summary>A body that carries only a status word: <c>GET /api/v1/status</c>, 202 and idempotent 200 replies.</summary>
public sealed class StatusResponse
{
    /// <summary>Creates a response with the given status.</summary>
    public StatusResponse(string status) => Status = status;

    /// <summary>One of the <see cref="ApiStatus"/> values.</summary>
    [JsonPropertyName("status")]
    public string Status { get; }
}
