using System.Text.Json.Serialization;

namespace CvmControl.Api.V1;

/// <summary>Body of <c>POST /api/v1/bootstrap</c>. Properties are nullable so that a missing field can be reported by name.</summary>
public sealed class BootstrapRequest
{
    /// <summary>Identifies the owner; required, and the credential for a later shutdown.</summary>
    [JsonPropertyName("user_id")]
    public string? UserId { get; set; }

    /// <summary>Env files: file name → variables. Written under <c>$RUN_DIR/env</c>, mode 0644.</summary>
    [JsonPropertyName("env")]
    public Dictionary<string, Dictionary<string, string?>?>? Env { get; set; }

    /// <summary>Secret env files: file name → variables. Written under <c>$RUN_DIR/secret</c>, mode 0600.</summary>
    [JsonPropertyName("secret")]
    public Dictionary<string, Dictionary<string, string?>?>? Secret { get; set; }

    /// <summary>Encrypted volumes: device-mapper name → volume.</summary>
    [JsonPropertyName("volumes")]
    public Dictionary<string, VolumeSpec?>? Volumes { get; set; }
}

/// <summary>One volume in a bootstrap request.</summary>
public sealed class VolumeSpec
{
    /// <summary>Cloud volume id, e.g. an EBS id <c>vol-0abc…</c>.</summary>
    [JsonPropertyName("volume_id")]
    public string? VolumeId { get; set; }

    /// <summary>LUKS passphrase. Never logged, never stored.</summary>
    [JsonPropertyName("passphrase")]
    public string? Passphrase { get; set; }

    /// <summary>Absolute mount point; defaults to <c>/&lt;dm_name&gt;</c>.</summary>
    [JsonPropertyName("mount_point")]
    public string? MountPoint { get; set; }

    /// <summary>
    /// Opt-in keyed dm-integrity under dm-crypt, so a block the host changes reads as an I/O error instead
    /// of altered data; false (the default) when missing. Chosen when the volume is formatted: a volume is
    /// only ever opened the way it was formatted.
    /// </summary>
    [JsonPropertyName("integrity")]
    public bool? Integrity { get; set; }
}
