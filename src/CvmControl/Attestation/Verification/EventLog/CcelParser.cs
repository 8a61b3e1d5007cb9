using System.Buffers.Binary;

namespace CvmControl.Attestation.Verification.EventLog;

/// <summary>
/// The TDX event log from the ACPI CCEL table: TCG2 "crypto agile" format. The log opens with a
/// TCG_PCR_EVENT in the old SHA-1 layout whose data is the spec-ID event (it lists every digest
/// algorithm and its size); every later event is a TCG_PCR_EVENT2 {MR index, type, digests, data}.
/// The MR index is the CC measurement register: 1 to 4 are RTMR0 to RTMR3 (0 would be MRTD, which
/// no log extends: such events are kept but not replayed). The log area is padded to its end with 0x00 or 0xFF; an event header of eight
/// such bytes ends the log. Every length comes from the host, so every one is checked before use.
/// </summary>
internal static class CcelParser
{
    public const ushort Sha384AlgorithmId = 0x000C;
    public const int Sha384Size = 48;

    /// <summary>
    /// The largest log read or sent: ACPI gives the CCEL log area 64 KiB (TDVF) to 1 MiB (TD-shim),
    /// and the events fill only the start of it.
    /// </summary>
    public const int MaxLogBytes = 4 * 1024 * 1024;

    /// <summary>Far more than firmware logs (tens to a few hundred events); a bound on what a hostile log can cost.</summary>
    public const int MaxEvents = 65_536;

    private const int MaxAlgorithms = 16;
    private const int MaxDigestSize = 64;
    private const int HeaderEventFixedSize = 32;
    private static ReadOnlySpan<byte> SpecIdSignature => "Spec ID Event03\0"u8;

    /// <summary>True when <paramref name="data"/> starts like a CCEL: MR index 0 and EV_NO_ACTION, the spec-ID header.</summary>
    public static bool LooksLikeCcel(ReadOnlySpan<byte> data) =>
        data.Length >= 8 && BinaryPrimitives.ReadUInt32LittleEndian(data) == 0 && BinaryPrimitives.ReadUInt32LittleEndian(data[4..]) == EventTypes.NoAction;

    public static ParsedEventLog Parse(ReadOnlySpan<byte> data) => new(EventLogFormat.Ccel, Read(data, out _), []);

    /// <summary>Where the events end and the padding starts: the part of the table worth sending.</summary>
    public static int ContentLength(ReadOnlySpan<byte> data)
    {
        Read(data, out var length);
        return length;
    }

    private static List<MeasuredEvent> Read(ReadOnlySpan<byte> data, out int length)
    {
        var events = new List<MeasuredEvent>();
        var sizes = ReadHeader(data, events, out var offset);
        while (true)
        {
            var rest = data[offset..];
            if (IsEnd(rest))
            {
                // What follows the end must be padding too: bytes there would be read by nobody.
                if (rest.ContainsAnyExcept(rest.IsEmpty ? (byte)0 : rest[0]))
                {
                    throw new EventLogException($"CCEL has data after its end at offset {offset}: the padding there is not all 0x{rest[0]:x2}");
                }
                length = offset;
                return events;
            }
            if (events.Count == MaxEvents)
            {
                throw new EventLogException($"CCEL has more than {MaxEvents} events");
            }
            events.Add(ReadEvent(data, ref offset, events.Count, sizes));
        }
    }

    /// <summary>No more data, or an event header that is all padding (0x00 or 0xFF; dstack ends its logs with four 0xFF bytes).</summary>
    private static bool IsEnd(ReadOnlySpan<byte> rest)
    {
        if (rest.IsEmpty)
        {
            return true;
        }
        var header = rest[..Math.Min(8, rest.Length)];
        return !header.ContainsAnyExcept((byte)0x00) || !header.ContainsAnyExcept((byte)0xFF);
    }

    /// <summary>The spec-ID event; returns the digest size of every algorithm it announces.</summary>
    private static Dictionary<ushort, int> ReadHeader(ReadOnlySpan<byte> data, List<MeasuredEvent> events, out int offset)
    {
        if (data.Length < HeaderEventFixedSize)
        {
            throw new EventLogException($"CCEL is {data.Length} bytes, shorter than its {HeaderEventFixedSize}-byte first event header");
        }
        if (!LooksLikeCcel(data))
        {
            throw new EventLogException("CCEL does not start with the spec-ID event (MR index 0, EV_NO_ACTION)");
        }
        var size = BinaryPrimitives.ReadUInt32LittleEndian(data[28..]);
        if (size > (uint)(data.Length - HeaderEventFixedSize))
        {
            throw new EventLogException($"CCEL spec-ID event claims {size} bytes of data, but only {data.Length - HeaderEventFixedSize} follow");
        }
        var spec = data.Slice(HeaderEventFixedSize, (int)size);
        // signature[16], platformClass u32, version minor/major/errata u8, uintnSize u8, numberOfAlgorithms u32
        const int AlgorithmsOffset = 28;
        if (spec.Length < AlgorithmsOffset || !spec[..16].SequenceEqual(SpecIdSignature))
        {
            throw new EventLogException("CCEL first event is not a TCG2 \"Spec ID Event03\" (not a crypto-agile log)");
        }
        var count = BinaryPrimitives.ReadUInt32LittleEndian(spec[24..]);
        if (count is 0 or > MaxAlgorithms || count * 4 > (uint)(spec.Length - AlgorithmsOffset))
        {
            throw new EventLogException($"CCEL spec-ID event lists {count} digest algorithms, which its {spec.Length} bytes cannot hold (1 to {MaxAlgorithms})");
        }
        var sizes = new Dictionary<ushort, int>();
        for (var i = 0; i < count; i++)
        {
            var algorithm = BinaryPrimitives.ReadUInt16LittleEndian(spec[(AlgorithmsOffset + (4 * i))..]);
            var digestSize = BinaryPrimitives.ReadUInt16LittleEndian(spec[(AlgorithmsOffset + (4 * i) + 2)..]);
            if (digestSize is 0 or > MaxDigestSize || !sizes.TryAdd(algorithm, digestSize))
            {
                throw new EventLogException($"CCEL spec-ID event: algorithm 0x{algorithm:x4} is listed twice or has an impossible digest size {digestSize}");
            }
        }
        if (sizes.GetValueOrDefault(Sha384AlgorithmId) != Sha384Size)
        {
            throw new EventLogException("CCEL spec-ID event does not announce SHA-384 with 48-byte digests, which TDX RTMRs need");
        }
        events.Add(new MeasuredEvent
        {
            Index = 0,
            Type = EventTypes.NoAction,
            Digest = data.Slice(8, 20).ToArray(),
            Data = spec.ToArray(),
        });
        offset = HeaderEventFixedSize + (int)size;
        return sizes;
    }

    private static MeasuredEvent ReadEvent(ReadOnlySpan<byte> data, ref int offset, int index, Dictionary<ushort, int> sizes)
    {
        var start = offset;
        string Where() => $"CCEL event {index} at offset {start}";
        var reader = new SpanCursor(data, offset, Where);

        var mrIndex = reader.U32("MR index");
        var type = reader.U32("event type");
        var digestCount = reader.U32("digest count");
        if (digestCount > (uint)sizes.Count)
        {
            throw new EventLogException($"{Where()}: {digestCount} digests, but the log announces only {sizes.Count} algorithms");
        }
        byte[]? sha384 = null;
        var seen = new HashSet<ushort>();
        for (var i = 0; i < digestCount; i++)
        {
            var algorithm = reader.U16("digest algorithm");
            if (!sizes.TryGetValue(algorithm, out var size))
            {
                throw new EventLogException($"{Where()}: digest algorithm 0x{algorithm:x4} is not announced in the spec-ID event");
            }
            if (!seen.Add(algorithm))
            {
                throw new EventLogException($"{Where()}: two digests of algorithm 0x{algorithm:x4}");
            }
            var digest = reader.Bytes(size, "digest");
            if (algorithm == Sha384AlgorithmId)
            {
                sha384 = digest;
            }
        }
        var eventSize = reader.U32("event size");
        var eventData = reader.Bytes(eventSize, "event data");
        offset = reader.Offset;

        // MR index 0 would be MRTD, which no event extends; some firmware logs such events anyway
        // (dstack drops them), so they are kept, shown, and not replayed.
        int? rtmr = mrIndex is >= 1 and <= 4 ? (int)mrIndex - 1 : null;
        var extended = type != EventTypes.NoAction && rtmr is not null;
        if (type != EventTypes.NoAction && mrIndex > 4)
        {
            throw new EventLogException($"{Where()}: MR index {mrIndex} is not an RTMR (1 to 4 are RTMR0 to RTMR3)");
        }
        if (extended && sha384 is null)
        {
            throw new EventLogException($"{Where()}: no SHA-384 digest to extend RTMR{rtmr} with");
        }
        return new MeasuredEvent
        {
            Index = index,
            Type = type,
            Rtmr = rtmr,
            Digest = sha384 ?? [],
            Data = eventData,
        };
    }

    /// <summary>Little-endian reads that fail with the event's position instead of running off the end.</summary>
    private ref struct SpanCursor(ReadOnlySpan<byte> data, int offset, Func<string> where)
    {
        private readonly ReadOnlySpan<byte> _data = data;

        public int Offset { get; private set; } = offset;

        public uint U32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, field));

        public ushort U16(string field) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, field));

        public byte[] Bytes(long length, string field) => Take(length, field).ToArray();

        private ReadOnlySpan<byte> Take(long length, string field)
        {
            if (length > _data.Length - Offset)
            {
                throw new EventLogException($"{where()}: the {field} ({length} bytes) runs past the end of the {_data.Length}-byte log");
            }
            var taken = _data.Slice(Offset, (int)length);
            Offset += (int)length;
            return taken;
        }
    }
}
