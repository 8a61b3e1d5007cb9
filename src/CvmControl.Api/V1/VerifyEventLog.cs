using System.Text.Json.Serialization;

namespace CvmControl.Api.V1;

/// <summary>The event log <c>verify</c> replayed against the quote's RTMRs.</summary>
public sealed class VerifyEventLog
{
    /// <summary><c>ccel</c> (TCG2 binary from ACPI) or <c>dstack</c> (dstack's JSON).</summary>
    [JsonPropertyName("format")]
    public required string Format { get; init; }

    /// <summary>Every event, in log order.</summary>
    [JsonPropertyName("events")]
    public required IReadOnlyList<VerifyEvent> Events { get; init; }
}
