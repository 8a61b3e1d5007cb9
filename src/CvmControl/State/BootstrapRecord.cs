using System.Text.Json.Serialization;
using CvmControl.Volumes;

namespace CvmControl.State;

/// <summary>
/// <c>$RUN_DIR/bootstrap.json</c>: what a successful bootstrap set up, so that a restarted daemon
/// can recover. It never holds a passphrase or a secret value.
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

    [JsonIgnore]
    public IReadOnlyList<VolumeTarget> Targets =>
        [.. Volumes.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new VolumeTarget(kv.Key, kv.Value.VolumeId, kv.Value.MountPoint))];

    public static BootstrapRecord From(string userId, IEnumerable<VolumeTarget> volumes, DateTimeOffset completedAt) => new()
    {
        UserId = userId,
        CompletedAt = completedAt,
        Volumes = volumes.ToDictionary(v => v.DmName, v => new RecordedVolume { VolumeId = v.VolumeId, MountPoint = v.MountPoint }, StringComparer.Ordinal),
    };
}

internal sealed class RecordedVolume
{
    [JsonPropertyName("volume_id")]
    public required string VolumeId { get; init; }

    [JsonPropertyName("mount_point")]
    public required string MountPoint { get; init; }
}
