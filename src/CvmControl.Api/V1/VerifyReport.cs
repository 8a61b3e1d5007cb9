using System.Text.Json.Serialization;

namespace CvmControl.Api.V1;

/// <summary>What <c>cvm-control verify --json</c> prints: a stable contract for scripts.</summary>
public sealed class VerifyReport
{
    /// <summary>True only when every check passed.</summary>
    [JsonPropertyName("verified")]
    public bool Verified { get; init; }

    /// <summary><c>sev-snp</c> or <c>tdx</c>; null when the evidence was not recognised.</summary>
    [JsonPropertyName("kind")]
    public string? Kind { get; init; }

    /// <summary><c>Milan</c>, <c>Genoa</c> or <c>Turin</c> for SEV-SNP; null otherwise.</summary>
    [JsonPropertyName("product")]
    public string? Product { get; init; }

    /// <summary><c>vcek</c>, <c>vlek</c> or <c>pck</c>.</summary>
    [JsonPropertyName("signing_key")]
    public string? SigningKey { get; init; }

    /// <summary>Hex: the SNP MEASUREMENT or the TDX MRTD.</summary>
    [JsonPropertyName("measurement")]
    public string? Measurement { get; init; }

    /// <summary>Hex: the 64 bytes of REPORT_DATA / REPORTDATA.</summary>
    [JsonPropertyName("report_data")]
    public string? ReportData { get; init; }

    /// <summary>TDX: hex of RTMR0 to RTMR3 as the quote has them.</summary>
    [JsonPropertyName("rtmrs")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Rtmrs { get; init; }

    /// <summary>TDX: the event log replayed, when one was given or sent by the daemon.</summary>
    [JsonPropertyName("event_log")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public VerifyEventLog? EventLog { get; init; }

    /// <summary>TDX: Intel's TCB status from <c>--tcb-info</c> and <c>--qe-identity</c>.</summary>
    [JsonPropertyName("tcb")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public VerifyTcb? Tcb { get; init; }

    /// <summary>SEV-SNP: REPORTED_TCB as <c>bl:tee:snp:ucode</c> (<c>:fmc</c> added on Turin), the form <c>--min-tcb</c> takes.</summary>
    [JsonPropertyName("reported_tcb")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ReportedTcb { get; init; }

    /// <summary>SEV-SNP only: the VMPL (0-3) of the guest software that requested the report; left out for TDX.</summary>
    [JsonPropertyName("vmpl")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public uint? Vmpl { get; init; }

    /// <summary>Every reason verification failed; empty when verified.</summary>
    [JsonPropertyName("errors")]
    public IReadOnlyList<string> Errors { get; init; } = [];

    /// <summary>Online only: hex SHA-256 of the SubjectPublicKeyInfo the server presented.</summary>
    [JsonPropertyName("tls_spki_sha256")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? TlsSpkiSha256 { get; init; }

    /// <summary>Online only: the same key as a curl <c>--pinnedpubkey</c> value, <c>sha256//BASE64</c>.</summary>
    [JsonPropertyName("pinned_pubkey")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? PinnedPubkey { get; init; }
}
