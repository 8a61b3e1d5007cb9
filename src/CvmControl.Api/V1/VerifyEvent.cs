using System.Text.Json.Serialization;

namespace CvmControl.Api.V1;

/// <summary>One event of a replayed log.</summary>
public sealed class VerifyEvent
{
    /// <summary>Position in the log, from 0.</summary>
    [JsonPropertyName("index")]
    public int Index { get; init; }

    /// <summary>The RTMR (0 to 3) the event names; left out when it names none.</summary>
    [JsonPropertyName("rtmr")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Rtmr { get; init; }

    /// <summary>The event type, a TCG type or dstack's runtime type 134217729 (0x08000001).</summary>
    [JsonPropertyName("type")]
    public uint Type { get; init; }

    /// <summary>The type's name when it is a known one (<c>EV_SEPARATOR</c>, <c>DSTACK_RUNTIME_EVENT</c>, ...).</summary>
    [JsonPropertyName("type_name")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? TypeName { get; init; }

    /// <summary>Hex of the SHA-384 digest extended (recomputed for a runtime event). EV_NO_ACTION events are not extended.</summary>
    [JsonPropertyName("digest")]
    public required string Digest { get; init; }

    /// <summary>A dstack runtime event's name (<c>app-id</c>, <c>compose-hash</c>, ...).</summary>
    [JsonPropertyName("name")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Name { get; init; }

    /// <summary>Hex of a dstack runtime event's payload.</summary>
    [JsonPropertyName("payload")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Payload { get; init; }
}
