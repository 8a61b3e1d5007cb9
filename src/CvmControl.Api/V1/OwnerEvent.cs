using System.Text.Json.Serialization;

namespace CvmControl.Api.V1;

/// <summary>
/// One line of the owner commands' output when it is not a terminal (or with <c>--json</c>):
/// <c>cvm-control bootstrap | rotate | shutdown | status</c> print one such object per state change
/// of each target. A stable contract for orchestrators.
/// </summary>
public sealed class OwnerEvent
{
    /// <summary>The daemon, as <c>https://HOST:PORT</c>; left out of the fleet summary.</summary>
    [JsonPropertyName("target")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Target { get; init; }

    /// <summary>What happened; one of the <see cref="OwnerEvents"/> values.</summary>
    [JsonPropertyName("event")]
    public required string Event { get; init; }

    /// <summary><c>bootstrap</c>, <c>passphrase</c>, <c>shutdown</c> or <c>status</c>.</summary>
    [JsonPropertyName("operation")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Operation { get; init; }

    /// <summary>The operation's status as the daemon reports it (or the daemon's status for <c>status</c>).</summary>
    [JsonPropertyName("status")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Status { get; init; }

    /// <summary>Why the target failed, or the daemon's error.</summary>
    [JsonPropertyName("error")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Error { get; init; }

    /// <summary>More about <see cref="Error"/>.</summary>
    [JsonPropertyName("detail")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Detail { get; init; }

    /// <summary>Per-volume state, as the daemon reports it.</summary>
    [JsonPropertyName("volumes")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, VolumeResult>? Volumes { get; init; }

    /// <summary>The TLS key every connection to this target is pinned to, as <c>sha256//BASE64</c>.</summary>
    [JsonPropertyName("pinned_pubkey")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? PinnedPubkey { get; init; }

    /// <summary>The verification, as <c>verify --json</c> prints it (on <c>attested</c> and <c>refused</c>).</summary>
    [JsonPropertyName("attestation")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public VerifyReport? Attestation { get; init; }

    /// <summary><c>status</c>: the bootstrap operation, as <c>GET /api/v1/bootstrap</c> reports it.</summary>
    [JsonPropertyName("bootstrap")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public OperationStatusResponse? Bootstrap { get; init; }

    /// <summary><c>status</c>: the last passphrase rotation, as <c>GET /api/v1/passphrase</c> reports it.</summary>
    [JsonPropertyName("passphrase")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public OperationStatusResponse? Passphrase { get; init; }

    /// <summary><c>done</c>: this target's exit code; <c>summary</c>: the command's.</summary>
    [JsonPropertyName("exit_code")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? ExitCode { get; init; }

    /// <summary><c>summary</c>: how many targets succeeded.</summary>
    [JsonPropertyName("succeeded")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Succeeded { get; init; }

    /// <summary><c>summary</c>: how many targets failed.</summary>
    [JsonPropertyName("failed")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Failed { get; init; }
}
