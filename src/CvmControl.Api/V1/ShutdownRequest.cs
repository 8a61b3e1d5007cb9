using System.Text.Json.Serialization;

namespace CvmControl.Api.V1;

/// <summary>Body of <c>POST /api/v1/shutdown</c>.</summary>
public sealed class ShutdownRequest
{
    /// <summary>Must match the bootstrap user once the daemon is ready.</summary>
    [JsonPropertyName("user_id")]
    public string? UserId { get; set; }

    /// <summary>Reboot instead of powering off.</summary>
    [JsonPropertyName("reboot")]
    public bool? Reboot { get; set; }
}
