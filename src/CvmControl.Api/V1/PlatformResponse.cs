using System.Text.Json.Serialization;

namespace CvmControl.Api.V1;

/// <summary>
/// Body of <c>GET /api/v1/platform</c>: what the daemon found at start. Every field is always
/// present; one the daemon could not read is <c>null</c>.
/// </summary>
public sealed class PlatformResponse
{
    /// <summary>One of the <see cref="ApiTee"/> values.</summary>
    [JsonPropertyName("tee")]
    public required string Tee { get; init; }

    /// <summary>Whether evidence can be had through configfs-tsm, and from which provider.</summary>
    [JsonPropertyName("configfs_tsm")]
    public required ConfigFsTsmStatus ConfigFsTsm { get; init; }

    /// <summary>Whether a TPM resource manager (<c>/dev/tpmrm0</c>) is present.</summary>
    [JsonPropertyName("tpm")]
    public required bool Tpm { get; init; }

    /// <summary>The running kernel's release, e.g. <c>6.8.0-1021-aws</c>.</summary>
    [JsonPropertyName("kernel_release")]
    public required string? KernelRelease { get; init; }

    /// <summary>The CPU's <c>vendor_id</c>, e.g. <c>AuthenticAMD</c> or <c>GenuineIntel</c>.</summary>
    [JsonPropertyName("cpu_vendor")]
    public required string? CpuVendor { get; init; }

    /// <summary>
    /// One of the <see cref="ApiCloud"/> values: whose disk naming <c>volume_id</c> follows, as set by
    /// <c>--cloud</c> or detected from DMI at start.
    /// </summary>
    [JsonPropertyName("cloud")]
    public required string Cloud { get; init; }
}

/// <summary>The <c>configfs_tsm</c> part of <see cref="PlatformResponse"/>.</summary>
public sealed class ConfigFsTsmStatus
{
    /// <summary>True when a report entry could be made and a provider answered.</summary>
    [JsonPropertyName("available")]
    public required bool Available { get; init; }

    /// <summary>The provider's name, <c>sev_guest</c> or <c>tdx_guest</c>; null when not available.</summary>
    [JsonPropertyName("provider")]
    public required string? Provider { get; init; }
}
