using System.Buffers.Binary;

namespace CvmControl.Attestation.Verification.Tdx;

/// <summary>A TD report body, TDX 1.0 (584 bytes) or TDX 1.5 (648 bytes: the same fields and two more at the end).</summary>
internal sealed class TdReportBody(byte[] raw)
{
    public const int TdAttributesOffset = 120;
    public const int MrtdOffset = 136;
    public const int ReportDataOffset = 520;
    public const ulong DebugAttribute = 1;

    public byte[] Raw { get; } = raw;

    public byte[] Mrtd => Raw.AsSpan(MrtdOffset, 48).ToArray();

    public byte[] ReportData => Raw.AsSpan(ReportDataOffset, 64).ToArray();

    public ulong TdAttributes => BinaryPrimitives.ReadUInt64LittleEndian(Raw.AsSpan(TdAttributesOffset));

    public bool IsDebug => (TdAttributes & DebugAttribute) != 0;
}
