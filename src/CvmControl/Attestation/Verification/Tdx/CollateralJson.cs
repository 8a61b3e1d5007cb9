using System.Globalization;
using System.Text.Json;

namespace CvmControl.Attestation.Verification.Tdx;

/// <summary>Intel's collateral cannot be read as documented; the message names the field.</summary>
internal sealed class CollateralFormatException(string message) : Exception(message);

/// <summary>
/// Strict readers for the fields of Intel's collateral JSON: each names the field it failed on,
/// bounds numbers to their documented ranges and hex strings to their documented lengths.
/// </summary>
internal static class CollateralJson
{
    /// <summary>More TCB levels than Intel has ever published for one FMSPC, by far.</summary>
    public const int MaxArrayLength = 1024;

    public static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = 16,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowDuplicateProperties = false,
    };

    public static JsonElement Property(JsonElement element, string name, string where)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new CollateralFormatException($"{where} is not a JSON object");
        }
        return element.TryGetProperty(name, out var value) ? value : throw new CollateralFormatException($"{where} has no {name}");
    }

    public static string Text(JsonElement element, string name, string where)
    {
        var value = Property(element, name, where);
        return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw new CollateralFormatException($"{where}.{name} is not a string");
    }

    public static int Integer(JsonElement element, string name, string where, int max)
    {
        var value = Property(element, name, where);
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number >= 0 && number <= max
            ? number
            : throw new CollateralFormatException($"{where}.{name} is not a whole number from 0 to {max}");
    }

    public static byte[] Hex(JsonElement element, string name, string where, int length)
    {
        var text = Text(element, name, where);
        if (text.Length != length * 2)
        {
            throw new CollateralFormatException($"{where}.{name} must be {length} bytes ({length * 2} hex digits), not {text.Length} digits");
        }
        try
        {
            return Convert.FromHexString(text);
        }
        catch (FormatException)
        {
            throw new CollateralFormatException($"{where}.{name} is not hex");
        }
    }

    public static DateTimeOffset Time(JsonElement element, string name, string where)
    {
        var text = Text(element, name, where);
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new CollateralFormatException($"{where}.{name} \"{Printable(text)}\" is not an ISO 8601 time");
    }

    public static List<JsonElement> Array(JsonElement element, string name, string where, bool required = true)
    {
        if (!required && (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out _)))
        {
            return [];
        }
        var value = Property(element, name, where);
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new CollateralFormatException($"{where}.{name} is not an array");
        }
        var length = value.GetArrayLength();
        return length <= MaxArrayLength
            ? [.. value.EnumerateArray()]
            : throw new CollateralFormatException($"{where}.{name} has {length} entries, more than {MaxArrayLength}");
    }

    /// <summary>A level's <c>tcbStatus</c>, one of <paramref name="allowed"/>.</summary>
    public static TcbStatus Status(JsonElement element, string where, params TcbStatus[] allowed)
    {
        var text = Text(element, "tcbStatus", where);
        return TcbStatuses.Parse(text) is { } status && (allowed.Length == 0 || allowed.Contains(status))
            ? status
            : throw new CollateralFormatException($"{where}.tcbStatus \"{Printable(text)}\" is not a status this verifier knows for this kind of level");
    }

    /// <summary>The optional <c>advisoryIDs</c> of a level (INTEL-SA-xxxxx).</summary>
    public static IReadOnlyList<string> Advisories(JsonElement level, string where)
    {
        var ids = Array(level, "advisoryIDs", where, required: false);
        return [.. ids.Select((id, i) => id.ValueKind == JsonValueKind.String
            ? Printable(id.GetString()!)
            : throw new CollateralFormatException($"{where}.advisoryIDs[{i}] is not a string"))];
    }

    public static string Printable(string text) => Validation.Printable.Of(text);
}
