using System.Buffers.Binary;

namespace CvmControl.Attestation.Verification.Tdx;

/// <summary>A TD report body, TDX 1.0 (584 bytes) or TDX 1.5 (648 bytes: the same fields and two more at the end).</summary>
internal sealed class TdReportBody(byte[] raw)
{
    public const int TeeTcbSvnOffset = 0;
    public const int MrSignerSeamOffset = 64;
    public const int SeamAttributesOffset = 112;
    public const int TdAttributesOffset = 120;
    public const int MrtdOffset = 136;
    public const int Rtmr0Offset = 328;
    public const int ReportDataOffset = 520;
    public const ulong DebugAttribute = 1;

    public byte[] Raw { get; } = raw;

    public byte[] Mrtd => Raw.AsSpan(MrtdOffset, 48).ToArray();

    public byte[] ReportData => Raw.AsSpan(ReportDataOffset, 64).ToArray();

    /// <summary>RTMR0 to RTMR3, 48 bytes each.</summary>
    public byte[] Rtmr(int index) => Raw.AsSpan(Rtmr0Offset + (48 * index), 48).ToArray();

    /// <summary>TEE_TCB_SVN: byte 0 is the TDX module's SVN, byte 1 its major version, the rest the platform's TDX components.</summary>
    public byte[] TeeTcbSvn => Raw.AsSpan(TeeTcbSvnOffset, 16).ToArray();

    /// <summary>MRSIGNERSEAM: who signed the TDX module (all zero for Intel's).</summary>
    public byte[] MrSignerSeam => Raw.AsSpan(MrSignerSeamOffset, 48).ToArray();

    public byte[] SeamAttributes => Raw.AsSpan(SeamAttributesOffset, 8).ToArray();

    public ulong TdAttributes => BinaryPrimitives.ReadUInt64LittleEndian(Raw.AsSpan(TdAttributesOffset));

    public bool IsDebug => (TdAttributes & DebugAttribute) != 0;
}
