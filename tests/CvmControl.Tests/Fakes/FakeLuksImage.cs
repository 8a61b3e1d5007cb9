using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CvmControl.Tests.Fakes;

/// <summary>
/// The on-disk form of a simulated LUKS2 header area, laid out like the real one where the daemon looks:
/// two header copies of <see cref="HeaderSize"/> bytes (binary header with magic, version, hdr_size,
/// sequence number, UUID at 0xA8 and a checksum at 0x1C0, then a JSON area), followed by a keyslot area
/// in which each slot's "key material" is its passphrase. Decoding follows cryptsetup's rule: of the
/// copies whose checksum holds, the one with the higher sequence number wins; with none, it is not LUKS.
/// So a torn write-back, a wiped keyslot and a host's edit all behave as they would on a real header.
/// </summary>
internal static class FakeLuksImage
{
    public const int HeaderSize = 16 * 1024;
    public const int KeyslotsStart = 2 * HeaderSize;
    public const int SlotAreaSize = 1024;
    public const int Slots = 32;
    public const int AreaSize = KeyslotsStart + (Slots * SlotAreaSize);

    private const int ChecksumOffset = 0x1C0;
    private const int UuidOffset = 0xA8;
    private const int JsonOffset = 4096;

    private static readonly byte[] PrimaryMagic = [(byte)'L', (byte)'U', (byte)'K', (byte)'S', 0xBA, 0xBE];
    private static readonly byte[] SecondaryMagic = [(byte)'S', (byte)'K', (byte)'U', (byte)'L', 0xBA, 0xBE];

    /// <summary>What a header says. A slot whose passphrase is empty lost its key material (a wiped area).</summary>
    internal sealed class State
    {
        public SortedDictionary<int, string> Slots { get; } = [];

        public int? Preferred { get; set; }

        public string SegmentCipher { get; set; } = "aes-xts-plain64";

        public bool Marker { get; set; }

        /// <summary>The argon2 memory of every keyslot, in KiB, as the JSON metadata gives it.</summary>
        public int KdfMemoryKiB { get; set; } = 32768;

        public string Uuid { get; set; } = Guid.NewGuid().ToString("D");

        public ulong Sequence { get; set; } = 1;

        /// <summary>
        /// Where segment 0 starts on its data device: right after the area (data on the same device), or 0
        /// for a header detached from its data, as a volume with integrity has it.
        /// </summary>
        public long DataOffset { get; set; } = AreaSize;

        /// <summary>
        /// The volume key the keyslots unlock. A real header keeps it only encrypted in each keyslot and a
        /// digest to recognise it; the fake keeps it in its metadata, as it keeps each slot's passphrase.
        /// </summary>
        public byte[] VolumeKey { get; set; } = RandomNumberGenerator.GetBytes(64);

        public void CopyFrom(State other)
        {
            Slots.Clear();
            foreach (var (slot, passphrase) in other.Slots)
            {
                Slots[slot] = passphrase;
            }
            Preferred = other.Preferred;
            SegmentCipher = other.SegmentCipher;
            Marker = other.Marker;
            KdfMemoryKiB = other.KdfMemoryKiB;
            Uuid = other.Uuid;
            Sequence = other.Sequence;
            DataOffset = other.DataOffset;
            VolumeKey = [.. other.VolumeKey];
        }
    }

    public static byte[] Encode(State state)
    {
        var image = new byte[AreaSize];
        var json = Json(state);
        foreach (var (offset, magic) in new[] { (0, PrimaryMagic), (HeaderSize, SecondaryMagic) })
        {
            var copy = image.AsSpan(offset, HeaderSize);
            magic.CopyTo(copy);
            BinaryPrimitives.WriteUInt16BigEndian(copy[6..], 2);
            BinaryPrimitives.WriteUInt64BigEndian(copy[8..], HeaderSize);
            BinaryPrimitives.WriteUInt64BigEndian(copy[16..], state.Sequence);
            Encoding.ASCII.GetBytes(state.Uuid).CopyTo(copy[UuidOffset..]);
            json.CopyTo(copy[JsonOffset..]);
            Checksum(copy).CopyTo(copy[ChecksumOffset..]);
        }
        foreach (var (slot, passphrase) in state.Slots)
        {
            Encoding.UTF8.GetBytes(passphrase).CopyTo(image.AsSpan(KeyslotsStart + (slot * SlotAreaSize), SlotAreaSize));
        }
        return image;
    }

    /// <summary>The state the area holds, or null when neither header copy is intact.</summary>
    public static State? Decode(ReadOnlySpan<byte> image)
    {
        if (image.Length < AreaSize)
        {
            return null;
        }
        State? best = null;
        foreach (var (offset, magic) in new[] { (0, PrimaryMagic), (HeaderSize, SecondaryMagic) })
        {
            var copy = image.Slice(offset, HeaderSize);
            if (!copy[..6].SequenceEqual(magic) || !copy.Slice(ChecksumOffset, 32).SequenceEqual(Checksum(copy)))
            {
                continue;
            }
            var state = FromJson(copy[JsonOffset..]);
            state.Sequence = BinaryPrimitives.ReadUInt64BigEndian(copy[16..]);
            state.Uuid = Encoding.ASCII.GetString(copy.Slice(UuidOffset, 36));
            if (best is null || state.Sequence > best.Sequence)
            {
                best = state;
            }
        }
        if (best is null)
        {
            return null;
        }
        foreach (var slot in best.Slots.Keys.ToList())
        {
            var area = image.Slice(KeyslotsStart + (slot * SlotAreaSize), SlotAreaSize);
            var end = area.IndexOf((byte)0);
            best.Slots[slot] = Encoding.UTF8.GetString(end < 0 ? area : area[..end]);
        }
        return best;
    }

    private static byte[] Checksum(ReadOnlySpan<byte> copy)
    {
        var covered = new byte[ChecksumOffset + (HeaderSize - JsonOffset)];
        copy[..ChecksumOffset].CopyTo(covered);
        copy[JsonOffset..].CopyTo(covered.AsSpan(ChecksumOffset));
        return SHA256.HashData(covered);
    }

    private static byte[] Json(State state)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("slots");
            foreach (var slot in state.Slots.Keys)
            {
                writer.WriteNumberValue(slot);
            }
            writer.WriteEndArray();
            if (state.Preferred is int preferred)
            {
                writer.WriteNumber("preferred", preferred);
            }
            writer.WriteString("cipher", state.SegmentCipher);
            writer.WriteBoolean("marker", state.Marker);
            writer.WriteNumber("memory", state.KdfMemoryKiB);
            writer.WriteNumber("offset", state.DataOffset);
            writer.WriteBase64String("volume_key", state.VolumeKey);
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static State FromJson(ReadOnlySpan<byte> area)
    {
        var end = area.IndexOf((byte)0);
        using var document = JsonDocument.Parse(area[..(end < 0 ? area.Length : end)].ToArray());
        var root = document.RootElement;
        var state = new State
        {
            Preferred = root.TryGetProperty("preferred", out var preferred) ? preferred.GetInt32() : null,
            SegmentCipher = root.GetProperty("cipher").GetString()!,
            Marker = root.GetProperty("marker").GetBoolean(),
            KdfMemoryKiB = root.GetProperty("memory").GetInt32(),
            DataOffset = root.GetProperty("offset").GetInt64(),
            VolumeKey = root.GetProperty("volume_key").GetBytesFromBase64(),
        };
        foreach (var slot in root.GetProperty("slots").EnumerateArray())
        {
            state.Slots[slot.GetInt32()] = "";
        }
        return state;
    }
}
