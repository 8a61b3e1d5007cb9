using System.Text.Json.Serialization;

namespace CvmControl.Api.V1;

/// <summary>Body of <c>GET /api/v1/bootstrap</c> and <c>GET /api/v1/passphrase</c>.</summary>
public sealed class OperationStatusResponse
{
    /// <summary><c>idle</c>, <c>in_progress</c>, <c>completed</c> or <c>failed</c>.</summary>
    [JsonPropertyName("status")]
    public required string Status { get; init; }

    /// <summary>Why the operation failed.</summary>
    [JsonPropertyName("error")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Error { get; init; }

    /// <summary>Per-volume results, when the operation reports them.</summary>
    [JsonPropertyName("volumes")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, VolumeResult>? Volumes { get; init; }
}

/// <summary>The outcome of one volume.</summary>
public sealed class VolumeResult
{
    /// <summary><c>ok</c> or <c>error</c>; <c>in_progress</c> while the volume's part of a running operation goes on.</summary>
    [JsonPropertyName("status")]
    public required string Status { get; init; }

    /// <summary>While in progress: the step the volume is on, e.g. <c>luksFormat</c>.</summary>
    [JsonPropertyName("step")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Step { get; init; }

    /// <summary>Short error, e.g. <c>luksFormat failed</c>.</summary>
    [JsonPropertyName("error")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Error { get; init; }

    /// <summary>The upstream tool's stderr with secrets removed.</summary>
    [JsonPropertyName("detail")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Detail { get; init; }

    /// <summary>
    /// What went wrong without failing the volume, e.g. a stale keyslot that survived cleanup (the volume
    /// is <c>ok</c> and usable, but someone else's passphrase may still open it). Left out when there is none.
    /// </summary>
    [JsonPropertyName("warnings")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Warnings { get; init; }

    /// <summary>A rotation with <c>revoke_old</c>: the keyslot numbers removed (empty when none was left to remove). Left out otherwise.</summary>
    [JsonPropertyName("revoked_slots")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<int>? RevokedSlots { get; init; }
}
