using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CvmControl.Tests.Attestation.Fakes;

/// <summary>One event of a synthetic log: a boot event with its own digest, or a dstack runtime event (named).</summary>
internal sealed record SyntheticEvent(int Rtmr, uint Type, byte[] Data, byte[] Digest, string? Name = null)
{
    public const uint NoAction = 3;
    public const uint Separator = 4;
    public const uint Runtime = 0x08000001;

    /// <summary>A boot event whose digest is the SHA-384 of its data, as for a separator or an EFI action string.</summary>
    public static SyntheticEvent Boot(int rtmr, uint type, byte[] data) => new(rtmr, type, data, SHA384.HashData(data));

    /// <summary>A dstack runtime event with dstack's documented digest: SHA-384(0x08000001 as u32 LE ‖ ":" ‖ name ‖ ":" ‖ payload).</summary>
    public static SyntheticEvent DstackRuntime(string name, byte[] payload, int rtmr = 3) =>
        new(rtmr, Runtime, payload, SHA384.HashData([1, 0, 0, 8, (byte)':', .. Encoding.UTF8.GetBytes(name), (byte)':', .. payload]), name);
}

/// <summary>
/// Synthetic TDX event logs, in the CCEL binary and in dstack's JSON, with the RTMRs they replay to
/// computed here from the TDX rule (each register from 48 zero bytes, RTMR = SHA-384(RTMR ‖ digest),
/// EV_NO_ACTION skipped), so a fake quote can carry exactly those RTMRs.
/// </summary>
internal sealed class SyntheticEventLog(IReadOnlyList<SyntheticEvent> events)
{
    public IReadOnlyList<SyntheticEvent> Events { get; } = events;

    /// <summary>A dstack-style log: boot events in RTMR0–2 and dstack's runtime events in RTMR3.</summary>
    public static SyntheticEventLog Dstack() => new(
    [
        SyntheticEvent.Boot(0, 0x8000000B, Encoding.ASCII.GetBytes("\tTdxTable\0\u0001\0\0\0\0\0\0\0")),
        SyntheticEvent.Boot(0, 0x80000001, RandomNumberGenerator.GetBytes(52)),
        SyntheticEvent.Boot(0, SyntheticEvent.Separator, [0, 0, 0, 0]),
        SyntheticEvent.Boot(1, 0x80000003, RandomNumberGenerator.GetBytes(40)),
        SyntheticEvent.Boot(1, SyntheticEvent.Separator, [0, 0, 0, 0]),
        SyntheticEvent.Boot(2, 0x0000000D, Encoding.ASCII.GetBytes("console=ttyS0 root=/dev/vda1")),
        SyntheticEvent.DstackRuntime("system-preparing", []),
        SyntheticEvent.DstackRuntime("app-id", Convert.FromHexString("9f91439ecacc4f8845a9cd81cc141256d5e1bce3")),
        SyntheticEvent.DstackRuntime("compose-hash", SHA256.HashData("services: {}"u8)),
        SyntheticEvent.DstackRuntime("instance-id", RandomNumberGenerator.GetBytes(20)),
        SyntheticEvent.DstackRuntime("boot-mr-done", []),
    ]);

    /// <summary>RTMR0 to RTMR3 after replaying every event but EV_NO_ACTION.</summary>
    public byte[][] Rtmrs()
    {
        var registers = Enumerable.Range(0, 4).Select(_ => new byte[48]).ToArray();
        foreach (var e in Events.Where(e => e.Type != SyntheticEvent.NoAction))
        {
            registers[e.Rtmr] = SHA384.HashData([.. registers[e.Rtmr], .. e.Digest]);
        }
        return registers;
    }

    /// <summary>
    /// The CCEL: a spec-ID header announcing SHA-256 and SHA-384, then every event as a
    /// TCG_PCR_EVENT2 with both digests (MR index = RTMR + 1), then <paramref name="padding"/> bytes
    /// up to <paramref name="areaSize"/>.
    /// </summary>
    public byte[] Ccel(byte padding = 0xFF, int areaSize = 16 * 1024)
    {
        var log = new List<byte>(SpecIdHeader([(0x000B, 32), (0x000C, 48)]));
        foreach (var e in Events)
        {
            log.AddRange(LittleEndian.U32((uint)e.Rtmr + 1));
            log.AddRange(LittleEndian.U32(e.Type));
            log.AddRange(LittleEndian.U32(2));
            log.AddRange([.. LittleEndian.U16(0x000B), .. SHA256.HashData(e.Data)]);
            log.AddRange([.. LittleEndian.U16(0x000C), .. e.Digest]);
            log.AddRange(LittleEndian.U32((uint)e.Data.Length));
            log.AddRange(e.Data);
        }
        var content = log.Count;
        log.AddRange(Enumerable.Repeat(padding, Math.Max(0, areaSize - content)));
        return [.. log];
    }

    /// <summary>
    /// A CCEL's first event: a TCG_PCR_EVENT in the SHA-1 layout (MR index 0, EV_NO_ACTION, 20 zero
    /// bytes) whose data is a spec-ID event listing <paramref name="algorithms"/> (id, digest size),
    /// ended by a vendor-info size of 0 unless <paramref name="vendorInfoSize"/> is false.
    /// </summary>
    public static byte[] SpecIdHeader(IEnumerable<(ushort Algorithm, ushort Size)> algorithms, string signature = "Spec ID Event03\0", bool vendorInfoSize = true)
    {
        var listed = algorithms.ToList();
        var spec = new List<byte>(Encoding.ASCII.GetBytes(signature));
        spec.AddRange(LittleEndian.U32(0)); // platform class
        spec.AddRange([0, 2, 0, 2]); // version 2.0, errata 0, uintn size 2 (u64)
        spec.AddRange(LittleEndian.U32((uint)listed.Count));
        foreach (var (algorithm, size) in listed)
        {
            spec.AddRange([.. LittleEndian.U16(algorithm), .. LittleEndian.U16(size)]);
        }
        if (vendorInfoSize)
        {
            spec.Add(0);
        }
        return [.. LittleEndian.U32(0), .. LittleEndian.U32(SyntheticEvent.NoAction), .. new byte[20], .. LittleEndian.U32((uint)spec.Count), .. spec];
    }

    /// <summary>dstack's JSON: <c>{"event_log":[{imr, event_type, digest, event, event_payload}, ...]}</c>, byte fields in hex.</summary>
    public string DstackJson(bool indented = false) => Write(indented, w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("event_log");
        foreach (var e in Events)
        {
            w.WriteStartObject();
            w.WriteNumber("imr", e.Rtmr);
            w.WriteNumber("event_type", e.Type);
            w.WriteString("digest", Convert.ToHexStringLower(e.Digest));
            w.WriteString("event", e.Name ?? "");
            w.WriteString("event_payload", Convert.ToHexStringLower(e.Data));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary>The same log inside dstack's attestation info: the TCB info as a JSON string in <c>tcb_info</c>.</summary>
    public string DstackInfoJson() => Write(false, w =>
    {
        w.WriteStartObject();
        w.WriteString("app_id", "9f91439ecacc4f8845a9cd81cc141256d5e1bce3");
        w.WriteString("tcb_info", DstackJson());
        w.WriteEndObject();
    });

    private static string Write(bool indented, Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented }))
        {
            write(writer);
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
