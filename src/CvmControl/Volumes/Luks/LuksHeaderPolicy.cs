using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using CvmControl.Tools;

namespace CvmControl.Volumes.Luks;

/// <summary>
/// The allow-list a LUKS2 header must pass before the daemon opens, cleans up or rotates a volume.
/// The host can rewrite the unauthenticated header (CVE-2025-59054 / CVE-2025-58356): a
/// <c>cipher_null</c> segment or keyslot would make the guest write plaintext, or leak the volume key.
/// So every object is checked field by field; unknown fields, duplicate keys, unknown types, weak
/// ciphers and hashes, absurd costs and unknown requirements are all rejected, and the problem is
/// named by its path (<c>segments.0.encryption</c>).
/// </summary>
internal static class LuksHeaderPolicy
{
    /// <summary>Type of the token this daemon writes after formatting a volume.</summary>
    public const string MarkerTokenType = "cvm-control";

    private static readonly string[] StrongHashes = ["sha256", "sha384", "sha512"];
    private static readonly int[] SectorSizes = [512, 4096];

    private static readonly byte[] Magic = [(byte)'L', (byte)'U', (byte)'K', (byte)'S', 0xBA, 0xBE];

    /// <summary>The binary part of a LUKS2 header, before its JSON area.</summary>
    public const int BinaryHeaderSize = 4096;

    /// <summary>Offset of the NUL-terminated UUID text in the binary header (LUKS2 on-disk format).</summary>
    private const int UuidOffset = 0xA8;

    private const int UuidField = 40;

    /// <summary>
    /// The checked result: the keyslot numbers, whether this daemon's marker token is present, the
    /// header's UUID (as text, the way cryptsetup names the mapping after it), and the size of one header
    /// copy (binary header and JSON area); the keyslot area starts after two of them.
    /// </summary>
    public sealed record Verdict(IReadOnlyList<int> Keyslots, bool HasMarker, string Uuid, long HeaderSize)
    {
        /// <summary>
        /// The most memory one KDF run on this header can take: the largest argon2 <c>memory</c> of its
        /// keyslots, in bytes (pbkdf2 slots need next to none). cryptsetup tries slots one after another,
        /// so this bounds any unlock of the header; the KDF gate admits the run by it.
        /// </summary>
        public long KdfMemoryBytes { get; init; }

        /// <summary>
        /// Where the encrypted data starts on the device the header describes. 0 means the data lives on
        /// another device (a volume with integrity: the header is detached from the dm-integrity device
        /// below dm-crypt); otherwise the data follows the header and keyslot area on the same device.
        /// </summary>
        public long DataOffset { get; init; }

        /// <summary>Whether the header was made for data on a separate device (see <see cref="DataOffset"/>).</summary>
        public bool DetachedData => DataOffset == 0;
    }

    /// <summary>Checks the binary header (magic, version, size, UUID) and the JSON metadata.</summary>
    /// <exception cref="HeaderRejected">The header is not acceptable; the message names the field.</exception>
    public static Verdict Check(ReadOnlySpan<byte> binaryHeader, string json)
    {
        if (binaryHeader.Length < 8 || !binaryHeader[..6].SequenceEqual(Magic))
        {
            throw new HeaderRejected("header: no LUKS magic");
        }
        var version = (binaryHeader[6] << 8) | binaryHeader[7];
        if (version != 2)
        {
            throw new HeaderRejected($"header: version is {version}; only LUKS2 is allowed");
        }
        if (binaryHeader.Length < BinaryHeaderSize)
        {
            throw new HeaderRejected($"header: {binaryHeader.Length} bytes, a LUKS2 binary header has {BinaryHeaderSize}");
        }
        var headerSize = BinaryPrimitives.ReadUInt64BigEndian(binaryHeader[8..]);
        // LUKS2 allows header copies of 16 KiB to 4 MiB, powers of two.
        if (headerSize is < 16 * 1024 or > 4 * 1024 * 1024 || !ulong.IsPow2(headerSize))
        {
            throw new HeaderRejected($"header: hdr_size {headerSize} is not a LUKS2 header size");
        }
        var uuid = Uuid(binaryHeader.Slice(UuidOffset, UuidField));

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            throw new HeaderRejected($"metadata: not valid JSON ({ex.Message})");
        }
        using (document)
        {
            var root = Object(document.RootElement, "metadata", required: ["keyslots", "tokens", "segments", "digests", "config"], optional: []);
            var layout = CheckConfig(root["config"], (long)headerSize);
            var keyslots = CheckKeyslots(root["keyslots"], layout, out var kdfMemory);
            var hasMarker = CheckTokens(root["tokens"]);
            var dataOffset = CheckSegments(root["segments"], layout);
            CheckDigests(root["digests"], keyslots);
            return new Verdict([.. keyslots.Order()], hasMarker, uuid, (long)headerSize) { KdfMemoryBytes = kdfMemory, DataOffset = dataOffset };
        }
    }

    /// <summary>The UUID text: 36 characters in the 8-4-4-4-12 hex form, then NULs.</summary>
    private static string Uuid(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        var text = System.Text.Encoding.ASCII.GetString(end < 0 ? field : field[..end]);
        if (text.Length != 36 || !Guid.TryParseExact(text, "D", out _) || field[36..].ContainsAnyExcept((byte)0))
        {
            throw new HeaderRejected($"header: uuid {Show(text)} is not a UUID");
        }
        return text;
    }

    /// <summary>Where the keyslot area lies: after both header copies, for <c>keyslots_size</c> bytes.</summary>
    private readonly record struct Layout(long KeyslotsStart, long KeyslotsEnd);

    private static Layout CheckConfig(JsonElement element, long headerSize)
    {
        var config = Object(element, "config", required: ["json_size", "keyslots_size"], optional: ["flags", "requirements"]);
        var jsonSize = NumericString(config["json_size"], "config.json_size", 4096, 4 * 1024 * 1024);
        var keyslotsSize = NumericString(config["keyslots_size"], "config.keyslots_size", 0, 128L * 1024 * 1024);
        if (jsonSize != headerSize - BinaryHeaderSize)
        {
            throw new HeaderRejected($"config.json_size {jsonSize} does not match the binary header's hdr_size {headerSize}");
        }
        // Persistent activation flags (allow-discards, ...) would change how the data is mapped: none allowed.
        if (config.TryGetValue("flags", out var flags) && (flags.ValueKind != JsonValueKind.Array || flags.GetArrayLength() > 0))
        {
            throw new HeaderRejected("config.flags: no persistent activation flags are allowed");
        }
        if (config.TryGetValue("requirements", out var requirements))
        {
            var req = Object(requirements, "config.requirements", required: [], optional: ["mandatory"]);
            if (req.TryGetValue("mandatory", out var mandatory) && (mandatory.ValueKind != JsonValueKind.Array || mandatory.GetArrayLength() > 0))
            {
                throw new HeaderRejected("config.requirements.mandatory: unknown requirements flags are not allowed");
            }
        }
        return new Layout(2 * headerSize, (2 * headerSize) + keyslotsSize);
    }

    private static List<int> CheckKeyslots(JsonElement element, Layout layout, out long kdfMemoryBytes)
    {
        var slots = new List<int>();
        kdfMemoryBytes = 0;
        foreach (var (id, value) in Members(element, "keyslots"))
        {
            var path = $"keyslots.{id}";
            slots.Add(Index(id, path, 31));
            var slot = Object(value, path, required: ["type", "key_size", "af", "area", "kdf"], optional: ["priority"]);
            Exact(slot["type"], $"{path}.type", "luks2");
            Number(slot["key_size"], $"{path}.key_size", LuksParameters.KeyBytes, LuksParameters.KeyBytes);
            if (slot.TryGetValue("priority", out var priority))
            {
                Number(priority, $"{path}.priority", 0, 2);
            }

            var af = Object(slot["af"], $"{path}.af", required: ["type", "stripes", "hash"], optional: []);
            Exact(af["type"], $"{path}.af.type", "luks1");
            Number(af["stripes"], $"{path}.af.stripes", 4000, 4000);
            OneOf(af["hash"], $"{path}.af.hash", StrongHashes);

            var area = Object(slot["area"], $"{path}.area", required: ["type", "offset", "size", "encryption", "key_size"], optional: []);
            Exact(area["type"], $"{path}.area.type", "raw");
            // Inside the keyslot area: a new or removed keyslot must never write into a header copy or the data.
            var areaOffset = NumericString(area["offset"], $"{path}.area.offset", layout.KeyslotsStart, layout.KeyslotsEnd - 1);
            NumericString(area["size"], $"{path}.area.size", 1, layout.KeyslotsEnd - areaOffset);
            Exact(area["encryption"], $"{path}.area.encryption", LuksParameters.Cipher);
            Number(area["key_size"], $"{path}.area.key_size", LuksParameters.KeyBytes, LuksParameters.KeyBytes);

            kdfMemoryBytes = Math.Max(kdfMemoryBytes, CheckKdf(slot["kdf"], $"{path}.kdf"));
        }
        return slots;
    }

    /// <summary>Checks one keyslot's KDF; returns the memory one run of it takes, in bytes.</summary>
    private static long CheckKdf(JsonElement element, string path)
    {
        var type = element.ValueKind == JsonValueKind.Object && element.TryGetProperty("type", out var t) ? t.ToString() : null;
        switch (type)
        {
            case "argon2id":
                {
                    var kdf = Object(element, path, required: ["type", "time", "memory", "cpus", "salt"], optional: []);
                    // Bounds: strong enough to matter, small enough that a forged slot cannot stall or OOM the guest.
                    Number(kdf["time"], $"{path}.time", 1, 1000);
                    var memoryKiB = Number(kdf["memory"], $"{path}.memory", 32, 4 * 1024 * 1024);
                    Number(kdf["cpus"], $"{path}.cpus", 1, 64);
                    String(kdf["salt"], $"{path}.salt");
                    return memoryKiB * 1024;
                }
            case "pbkdf2":
                {
                    var kdf = Object(element, path, required: ["type", "hash", "iterations", "salt"], optional: []);
                    OneOf(kdf["hash"], $"{path}.hash", StrongHashes);
                    Number(kdf["iterations"], $"{path}.iterations", 1000, 100_000_000);
                    String(kdf["salt"], $"{path}.salt");
                    return 0;
                }
            default:
                throw new HeaderRejected($"{path}.type is {Show(type)}; only argon2id or pbkdf2 (sha256 or stronger) are allowed");
        }
    }

    private static bool CheckTokens(JsonElement element)
    {
        var marker = false;
        foreach (var (id, value) in Members(element, "tokens"))
        {
            var path = $"tokens.{id}";
            Index(id, path, 31);
            var token = Object(value, path, required: ["type", "keyslots"], optional: ["version", "created"]);
            Exact(token["type"], $"{path}.type", MarkerTokenType);
            if (token["keyslots"].ValueKind != JsonValueKind.Array || token["keyslots"].GetArrayLength() != 0)
            {
                throw new HeaderRejected($"{path}.keyslots: the marker token is bound to no keyslot");
            }
            marker = true;
        }
        return marker;
    }

    private static long CheckSegments(JsonElement element, Layout layout)
    {
        var segments = Members(element, "segments").ToList();
        if (segments.Count != 1 || segments[0].Name != "0")
        {
            throw new HeaderRejected($"segments: exactly one segment \"0\" is allowed, found {segments.Count}");
        }
        var segment = Object(segments[0].Value, "segments.0", required: ["type", "offset", "size", "iv_tweak", "encryption", "sector_size"], optional: ["flags"]);
        Exact(segment["type"], "segments.0.type", "crypt");
        Exact(segment["encryption"], "segments.0.encryption", LuksParameters.Cipher);
        var sector = Number(segment["sector_size"], "segments.0.sector_size", 512, 4096);
        if (!SectorSizes.Contains((int)sector))
        {
            throw new HeaderRejected($"segments.0.sector_size is {sector}; only 512 or 4096 are allowed");
        }
        // The data must start past both header copies and the keyslot area, or writing data would overwrite
        // them; or at 0, which only a header kept apart from its data device can mean. Which of the two a
        // volume must have is the caller's to check: it knows whether it asked for integrity.
        var offset = NumericString(segment["offset"], "segments.0.offset", 0, long.MaxValue);
        if (offset != 0 && offset < layout.KeyslotsEnd)
        {
            throw new HeaderRejected($"segments.0.offset {offset} overlaps the header and keyslot area");
        }
        NumericString(segment["iv_tweak"], "segments.0.iv_tweak", 0, 0);
        if (segment["size"].ValueKind != JsonValueKind.String || (segment["size"].GetString() != "dynamic" && !long.TryParse(segment["size"].GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            throw new HeaderRejected("segments.0.size must be \"dynamic\" or a byte count");
        }
        if (segment.TryGetValue("flags", out var flags) && (flags.ValueKind != JsonValueKind.Array || flags.GetArrayLength() > 0))
        {
            throw new HeaderRejected("segments.0.flags: no segment flags (e.g. reencryption) are allowed");
        }
        return offset;
    }

    private static void CheckDigests(JsonElement element, List<int> keyslots)
    {
        var covered = new HashSet<int>();
        foreach (var (id, value) in Members(element, "digests"))
        {
            var path = $"digests.{id}";
            Index(id, path, 31);
            var digest = Object(value, path, required: ["type", "keyslots", "segments", "hash", "iterations", "salt", "digest"], optional: []);
            Exact(digest["type"], $"{path}.type", "pbkdf2");
            OneOf(digest["hash"], $"{path}.hash", StrongHashes);
            Number(digest["iterations"], $"{path}.iterations", 1000, 100_000_000);
            String(digest["salt"], $"{path}.salt");
            String(digest["digest"], $"{path}.digest");
            foreach (var slot in StringArray(digest["keyslots"], $"{path}.keyslots"))
            {
                covered.Add(Index(slot, $"{path}.keyslots", 31));
            }
            if (!StringArray(digest["segments"], $"{path}.segments").SequenceEqual(["0"]))
            {
                throw new HeaderRejected($"{path}.segments must be [\"0\"]");
            }
        }
        var unbound = keyslots.Where(k => !covered.Contains(k)).ToList();
        if (unbound.Count > 0)
        {
            throw new HeaderRejected($"keyslots.{unbound[0]}: not bound to the segment's digest");
        }
    }

    // ---- strict JSON helpers ----

    private static Dictionary<string, JsonElement> Object(JsonElement element, string path, string[] required, string[] optional)
    {
        var members = Members(element, path).ToDictionary(m => m.Name, m => m.Value, StringComparer.Ordinal);
        foreach (var name in members.Keys)
        {
            if (!required.Contains(name) && !optional.Contains(name))
            {
                throw new HeaderRejected($"{path}.{Truncate(name)}: unknown field");
            }
        }
        foreach (var name in required)
        {
            if (!members.ContainsKey(name))
            {
                throw new HeaderRejected($"{path}.{name}: missing");
            }
        }
        return members;
    }

    /// <summary>An object's members; duplicate keys are rejected (readers disagree on which one wins).</summary>
    private static IEnumerable<(string Name, JsonElement Value)> Members(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new HeaderRejected($"{path}: must be an object");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var list = new List<(string, JsonElement)>();
        foreach (var property in element.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                throw new HeaderRejected($"{path}.{Truncate(property.Name)}: duplicate key");
            }
            list.Add((property.Name, property.Value));
        }
        return list;
    }

    private static int Index(string id, string path, int max) =>
        int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= max && n.ToString(CultureInfo.InvariantCulture) == id
            ? n
            : throw new HeaderRejected($"{path}: {Show(id)} is not a valid index");

    private static void Exact(JsonElement element, string path, string expected)
    {
        if (element.ValueKind != JsonValueKind.String || element.GetString() != expected)
        {
            throw new HeaderRejected($"{path} is {Show(element)}; only {expected} is allowed");
        }
    }

    private static void OneOf(JsonElement element, string path, string[] allowed)
    {
        if (element.ValueKind != JsonValueKind.String || !allowed.Contains(element.GetString()))
        {
            throw new HeaderRejected($"{path} is {Show(element)}; allowed: {string.Join(", ", allowed)}");
        }
    }

    private static long Number(JsonElement element, string path, long min, long max)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out var value) || value < min || value > max)
        {
            throw new HeaderRejected($"{path} is {Show(element)}; allowed: {min}..{max}");
        }
        return value;
    }

    private static long NumericString(JsonElement element, string path, long min, long max)
    {
        if (element.ValueKind != JsonValueKind.String
            || !long.TryParse(element.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            || value < min || value > max)
        {
            throw new HeaderRejected($"{path} is {Show(element)}; allowed: a decimal string {min}..{max}");
        }
        return value;
    }

    private static void String(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.String)
        {
            throw new HeaderRejected($"{path} must be a string");
        }
    }

    private static List<string> StringArray(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Array || element.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            throw new HeaderRejected($"{path} must be an array of strings");
        }
        return [.. element.EnumerateArray().Select(e => e.GetString()!)];
    }

    private static string Show(JsonElement element) => element.ValueKind == JsonValueKind.String ? Show(element.GetString()) : Truncate(element.GetRawText());

    private static string Show(string? value) => value is null ? "missing" : "\"" + Truncate(value) + "\"";

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";
}

/// <summary>A LUKS2 header failed <see cref="LuksHeaderPolicy"/>; the message names the offending field.</summary>
internal sealed class HeaderRejected(string problem) : Exception(problem);
