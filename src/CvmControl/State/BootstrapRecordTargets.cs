using CvmControl.Json;
using CvmControl.Volumes;

namespace CvmControl.State;

/// <summary>The record's volumes as the volume layer names them, and a record made from them.</summary>
internal static class BootstrapRecordTargets
{
    extension(BootstrapRecord record)
    {
        /// <summary>The recorded volumes, sorted by dm name.</summary>
        public IReadOnlyList<VolumeTarget> Targets =>
            [.. record.Volumes.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new VolumeTarget(kv.Key, kv.Value.VolumeId, kv.Value.MountPoint, kv.Value.Integrity))];
    }

    extension(BootstrapRecord)
    {
        public static BootstrapRecord From(string userId, IEnumerable<VolumeTarget> volumes, DateTimeOffset completedAt) => new()
        {
            UserId = userId,
            CompletedAt = completedAt,
            Volumes = volumes.ToDictionary(v => v.DmName, v => new RecordedVolume { VolumeId = v.VolumeId, MountPoint = v.MountPoint, Integrity = v.Integrity }, StringComparer.Ordinal),
        };
    }
}
