using System.Buffers.Binary;

namespace CvmControl.Attestation.Verification.Snp;

/// <summary>
/// The fields of an SEV-SNP ATTESTATION_REPORT (AMD SEV-SNP ABI, 1184 bytes, little-endian) that
/// verification needs. Parsing only slices; nothing here is trusted until the signature verifies.
/// </summary>
internal sealed class SnpReport
{
    public const int Size = 1184;
    public const int SignedLength = 0x2A0;
    public const ulong DebugPolicyBit = 1UL << 19;

    /// <summary>The least privileged of SEV-SNP's four VM privilege levels.</summary>
    public const uint MaxVmpl = 3;

    private SnpReport(byte[] raw) => Raw = raw;

    public byte[] Raw { get; }

    public uint Version => BinaryPrimitives.ReadUInt32LittleEndian(Raw);

    public ulong Policy => BinaryPrimitives.ReadUInt64LittleEndian(Raw.AsSpan(0x008));

    /// <summary>VMPL: the privilege level of the guest software that requested the report.</summary>
    public uint Vmpl => BinaryPrimitives.ReadUInt32LittleEndian(Raw.AsSpan(0x030));

    public uint SignatureAlgorithm => BinaryPrimitives.ReadUInt32LittleEndian(Raw.AsSpan(0x034));

    /// <summary>KEY_INFO bits 4:2: 0 VCEK, 1 VLEK, 7 none.</summary>
    public uint SigningKey => (BinaryPrimitives.ReadUInt32LittleEndian(Raw.AsSpan(0x048)) >> 2) & 0x7;

    public ReadOnlySpan<byte> ReportData => Raw.AsSpan(0x050, 64);

    public ReadOnlySpan<byte> Measurement => Raw.AsSpan(0x090, 48);

    public ReadOnlySpan<byte> ReportedTcb => Raw.AsSpan(0x180, 8);

    /// <summary>CPUID family and model (report version 3 and later; zero before).</summary>
    public (byte Family, byte Model) Cpuid => (Raw[0x188], Raw[0x189]);

    public ReadOnlySpan<byte> ChipId => Raw.AsSpan(0x1A0, 64);

    public ReadOnlySpan<byte> SignedBytes => Raw.AsSpan(0, SignedLength);

    /// <summary>
    /// The ECDSA P-384 signature as r‖s, big-endian, 48 bytes each. R and S are stored as 72-byte
    /// little-endian numbers; the 24 high bytes of each must be zero, or the signature is malformed.
    /// </summary>
    public byte[]? SignatureP1363()
    {
        var signature = new byte[96];
        for (var component = 0; component < 2; component++)
        {
            var stored = Raw.AsSpan(0x2A0 + (72 * component), 72);
            if (stored[48..].ContainsAnyExcept((byte)0))
            {
                return null;
            }
            var bigEndian = signature.AsSpan(48 * component, 48);
            stored[..48].CopyTo(bigEndian);
            bigEndian.Reverse();
        }
        return signature;
    }

    /// <summary>Parses a report; trailing bytes are ignored. Returns null and an error when too short.</summary>
    public static SnpReport? Parse(ReadOnlySpan<byte> evidence, out string? error)
    {
        if (evidence.Length < Size)
        {
            error = $"SEV-SNP report is truncated: {evidence.Length} bytes, expected {Size}";
            return null;
        }
        error = null;
        return new SnpReport(evidence[..Size].ToArray());
    }
}
