using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CvmControl.Attestation.Verification.EventLog;

/// <summary>
/// dstack's JSON event log: an array of <c>{imr, event_type, digest, event, event_payload}</c>,
/// where <c>imr</c> counts RTMRs from 0 and the byte fields are hex. It is found as the array
/// itself, as the <c>event_log</c> field of an object (dstack's TCB info; its quote response holds
/// the array as a JSON string), or inside the <c>tcb_info</c> field of dstack's attestation info
/// (an object, or a JSON string). A runtime event's digest is
/// <c>SHA-384(type as u32 LE ‖ ":" ‖ event ‖ ":" ‖ payload)</c> (dstack's version 1 format): it is
/// recomputed here, and a different claimed digest is reported, since an event's name and payload
/// are what a verifier reads.
/// </summary>
internal static class DstackEventLogParser
{
    /// <summary>Nesting of JSON documents inside JSON strings: info → tcb_info → event_log is two.</summary>
    private const int MaxStringNesting = 2;

    /// <summary>dstack's TdxEvent fields; <c>version</c> and <c>hash_input</c> are recent and optional.</summary>
    private static readonly string[] KnownFields = ["imr", "event_type", "digest", "event", "event_payload", "version", "hash_input"];

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = 16,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        // The same key twice could mean one thing here and another to the tool that wrote it.
        AllowDuplicateProperties = false,
    };

    public static ParsedEventLog Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray(), DocumentOptions);
            var problems = new List<string>();
            var events = ReadEvents(FindEventArray(document.RootElement, "the document", 0), problems);
            return new ParsedEventLog(EventLogFormat.DstackJson, events, problems);
        }
        catch (JsonException ex)
        {
            throw new EventLogException($"event log is not valid JSON: {ex.Message}");
        }
        catch (InvalidOperationException ex)
        {
            // A string that is not valid UTF-8 parses, and fails only when it is read.
            throw new EventLogException($"event log has a string that is not valid UTF-8: {ex.Message}");
        }
    }

    /// <summary>The event array, wherever dstack's tools put it. Nested documents are parsed to a fixed depth only.</summary>
    private static List<JsonElement> FindEventArray(JsonElement element, string where, int nesting)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Array when element.GetArrayLength() > CcelParser.MaxEvents:
                throw new EventLogException($"{where} has {element.GetArrayLength()} events, more than {CcelParser.MaxEvents}");
            case JsonValueKind.Array:
                return [.. element.EnumerateArray()];
            case JsonValueKind.Object when element.TryGetProperty("event_log", out var log):
                return FindEventArray(Unwrap(log, "event_log", nesting), "event_log", nesting + (log.ValueKind == JsonValueKind.String ? 1 : 0));
            case JsonValueKind.Object when element.TryGetProperty("tcb_info", out var tcbInfo):
                return FindEventArray(Unwrap(tcbInfo, "tcb_info", nesting), "tcb_info", nesting + (tcbInfo.ValueKind == JsonValueKind.String ? 1 : 0));
            case JsonValueKind.Object:
                throw new EventLogException($"{where} is a JSON object without an event_log or tcb_info field (not a dstack event log)");
            default:
                throw new EventLogException($"{where} is a JSON {element.ValueKind.ToString().ToLowerInvariant()}, not an event log");
        }
    }

    /// <summary>A field that holds JSON text is parsed; any other value is taken as it is.</summary>
    private static JsonElement Unwrap(JsonElement value, string field, int nesting)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return value;
        }
        if (nesting >= MaxStringNesting)
        {
            throw new EventLogException($"{field} is JSON inside JSON more than {MaxStringNesting} levels deep");
        }
        using var inner = JsonDocument.Parse(value.GetString()!, DocumentOptions);
        return inner.RootElement.Clone();
    }

    private static List<MeasuredEvent> ReadEvents(List<JsonElement> array, List<string> problems)
    {
        var events = new List<MeasuredEvent>(array.Count);
        for (var index = 0; index < array.Count; index++)
        {
            events.Add(ReadEvent(array[index], index, problems));
        }
        return events;
    }

    private static MeasuredEvent ReadEvent(JsonElement element, int index, List<string> problems)
    {
        var where = $"event {index}";
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new EventLogException($"{where} is not a JSON object");
        }
        foreach (var property in element.EnumerateObject())
        {
            // A field this parser does not read could carry meaning it would silently drop.
            if (!KnownFields.Contains(property.Name))
            {
                throw new EventLogException($"{where} has a field this verifier does not know: {Quoted(property.Name)}");
            }
        }
        var imr = Number(element, "imr", where, required: true)!.Value;
        var type = Number(element, "event_type", where, required: true)!.Value;
        if (imr > 3)
        {
            throw new EventLogException($"{where}: imr {imr} is not an RTMR (0 to 3)");
        }
        var name = Text(element, "event", where) ?? "";
        var payload = Hex(element, "event_payload", where) ?? [];
        var claimed = Hex(element, "digest", where);

        var hashInput = Hex(element, "hash_input", where);
        if (type != EventTypes.DstackRuntime)
        {
            if (hashInput is not null)
            {
                throw new EventLogException($"{where} has a hash_input, which only dstack runtime events carry");
            }
            if (type != EventTypes.NoAction && claimed?.Length != CcelParser.Sha384Size)
            {
                throw new EventLogException($"{where}: digest must be {CcelParser.Sha384Size} bytes (SHA-384), not {claimed?.Length ?? 0}");
            }
            return new MeasuredEvent { Index = index, Type = type, Rtmr = (int)imr, Digest = claimed ?? [], Data = payload };
        }

        if (Number(element, "version", where, required: false) is { } version and not 1)
        {
            throw new EventLogException($"{where} ({Quoted(name)}) is a dstack runtime event of version {version}; only version 1 digests are computed here");
        }
        var preimage = RuntimePreimage(name, payload);
        var digest = SHA384.HashData(preimage);
        if (claimed is { Length: > 0 } && !CryptographicOperations.FixedTimeEquals(claimed, digest))
        {
            problems.Add($"{where} ({Quoted(name)}, RTMR{imr}): its digest {Convert.ToHexStringLower(claimed)} is not the SHA-384 of its name and payload ({Convert.ToHexStringLower(digest)}): the event was edited");
        }
        if (hashInput is not null && !hashInput.AsSpan().SequenceEqual(preimage))
        {
            problems.Add($"{where} ({Quoted(name)}, RTMR{imr}): its hash_input is not type ‖ \":\" ‖ name ‖ \":\" ‖ payload: the event was edited");
        }
        return new MeasuredEvent { Index = index, Type = type, Rtmr = (int)imr, Digest = digest, Data = payload, Name = name };
    }

    /// <summary>dstack's version 1 runtime digest: <c>SHA-384(0x08000001 as u32 LE ‖ ":" ‖ name ‖ ":" ‖ payload)</c>.</summary>
    public static byte[] RuntimeDigest(string name, ReadOnlySpan<byte> payload) => SHA384.HashData(RuntimePreimage(name, payload));

    private static byte[] RuntimePreimage(string name, ReadOnlySpan<byte> payload)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var preimage = new byte[4 + 1 + nameBytes.Length + 1 + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(preimage, EventTypes.DstackRuntime);
        preimage[4] = (byte)':';
        nameBytes.CopyTo(preimage, 5);
        preimage[5 + nameBytes.Length] = (byte)':';
        payload.CopyTo(preimage.AsSpan(6 + nameBytes.Length));
        return preimage;
    }

    /// <summary>A name for messages: quoted, shortened, control characters shown as '?'.</summary>
    public static string Quoted(string name) => "'" + Validation.Printable.Of(name) + (name.Length > Validation.Printable.MaxLength ? "…'" : "'");

    private static uint? Number(JsonElement element, string field, string where, bool required)
    {
        if (!element.TryGetProperty(field, out var value))
        {
            return required ? throw new EventLogException($"{where} has no {field}") : null;
        }
        return value.ValueKind == JsonValueKind.Number && value.TryGetUInt32(out var number)
            ? number
            : throw new EventLogException($"{where}: {field} is not a whole number from 0 to {uint.MaxValue}");
    }

    private static string? Text(JsonElement element, string field, string where)
    {
        if (!element.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw new EventLogException($"{where}: {field} is not a string");
    }

    private static byte[]? Hex(JsonElement element, string field, string where)
    {
        var text = Text(element, field, where);
        if (text is null)
        {
            return null;
        }
        try
        {
            return Convert.FromHexString(text);
        }
        catch (FormatException)
        {
            throw new EventLogException($"{where}: {field} is not hex");
        }
    }
}
