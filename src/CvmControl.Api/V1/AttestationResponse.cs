using System.Text.Json.Serialization;

namespace CvmControl.Api.V1;

/// <summary>
/// Body of <c>GET /api/v1/attestation?nonce=&lt;hex&gt;</c>: hardware evidence whose report data is
/// <c>SHA-512("cvm-control-attestation-v1" || nonce || tls_spki_sha256)</c>.
/// </summary>
/// <remarks>Readers skip fields they do not know, so an older <c>verify</c> keeps working against a newer daemon.</remarks>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed class AttestationResponse
{
    /// <summary>The configfs-tsm provider that produced the evidence: <c>sev_guest</c> or <c>tdx_guest</c>.</summary>
    [JsonPropertyName("provider")]
    public required string Provider { get; init; }

    /// <summary>Base64 of the SEV-SNP attestation report or the TDX quote.</summary>
    [JsonPropertyName("evidence")]
    public required string Evidence { get; init; }

    /// <summary>Base64 of the provider's auxiliary blob (the SEV-SNP certificate table), when it gave one.</summary>
    [JsonPropertyName("certificates")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Certificates { get; init; }

    /// <summary>
    /// TDX: base64 of the guest's event log, the ACPI CCEL (TCG2, SHA-384) up to its last event, when
    /// the guest has one. Unsigned: it counts only once it replays to the quote's RTMRs.
    /// </summary>
    [JsonPropertyName("event_log")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? EventLog { get; init; }

    /// <summary>Lowercase hex of the 64 bytes placed in the evidence's report data.</summary>
    [JsonPropertyName("report_data")]
    public required string ReportData { get; init; }

    /// <summary>Lowercase hex of the nonce the client sent.</summary>
    [JsonPropertyName("nonce")]
    public required string Nonce { get; init; }

    /// <summary>Lowercase hex of the SHA-256 of the DER SubjectPublicKeyInfo of the daemon's TLS certificate.</summary>
    [JsonPropertyName("tls_spki_sha256")]
    public required string TlsSpkiSha256 { get; init; }
}
