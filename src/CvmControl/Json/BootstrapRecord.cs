using System.Text.Json.Serialization;

namespace CvmControl.Json;

/// <summary>
/// The shape of <c>$RUN_DIR/bootstrap.json</c>: what a successful bootstrap set up, so that a restarted
/// daemon can recover. It never holds a passphrase or a secret value. Only the shape lives here, beside
/// the one JSON context that lists it; reading, writing and checking it is State's work.
/// </summary>
internal sealed class BootstrapRecord
{
    public const int CurrentVersion = 1;

    [JsonPropertyName("version")]
    public int Version { get; init; } = CurrentVersion;

    [JsonPropertyName("user_id")]
    public required string UserId { get; init; }

    [JsonPropertyName("completed_at")]
    public DateTimeOffset CompletedAt { get; init; }

    [JsonPropertyName("volumes")]
    public required Dictionary<string, RecordedVolume> Volumes { get; init; }
}

internal sealed class RecordedVolume
{
    [JsonPropertyName("volume_id")]
    public required string VolumeId { get; init; }

    [JsonPropertyName("mount_point")]
    public required string MountPoint { get; init; }

    /// <summary>Whether the volume was set up with dm-integrity; a record written before the field existed reads as false.</summary>
    [JsonPropertyName("integrity")]
    public bool Integrity { get; init; }
}
