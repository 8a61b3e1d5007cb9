using System.Buffers.Binary;

namespace CvmControl.Attestation.Verification.Tdx;

/// <summary>
/// Certification data of type 6: the quoting enclave's report, its signature by the PCK key, the
/// QE authentication data and the PCK certification data (type 5, a PEM chain).
/// </summary>
internal sealed class QeCertificationData
{
    public const int QeReportSize = 384;
    public const int QeReportSignatureSize = 64;
    public const int QeMiscSelectOffset = 16;
    public const int QeAttributesOffset = 48;
    public const int QeMrSignerOffset = 128;
    public const int QeIsvProdIdOffset = 256;
    public const int QeIsvSvnOffset = 258;
    public const int QeReportDataOffset = 320;
    public const ushort PemChainType = 5;

    private const int AuthSizeOffset = QeReportSize + QeReportSignatureSize;
    private const int AuthStart = AuthSizeOffset + 2;

    private QeCertificationData(byte[] qeReport, byte[] qeReportSignature, byte[] authData, byte[]? pckChain)
    {
        QeReport = qeReport;
        QeReportSignature = qeReportSignature;
        AuthData = authData;
        PckChain = pckChain;
    }

    /// <summary>The 384-byte SGX report body of the quoting enclave.</summary>
    public byte[] QeReport { get; }

    /// <summary>r‖s, big-endian, by the PCK leaf key over <see cref="QeReport"/>.</summary>
    public byte[] QeReportSignature { get; }

    public byte[] AuthData { get; }

    /// <summary>The PEM chain (PCK leaf first); null when the PCK certification data is missing, of another type or malformed.</summary>
    public byte[]? PckChain { get; }

    public byte[] MrSigner => QeReport.AsSpan(QeMrSignerOffset, 32).ToArray();

    public ushort IsvProdId => BinaryPrimitives.ReadUInt16LittleEndian(QeReport.AsSpan(QeIsvProdIdOffset));

    public byte[] ReportData => QeReport.AsSpan(QeReportDataOffset, 64).ToArray();

    public static QeCertificationData? Parse(ReadOnlySpan<byte> data, VerificationResult result)
    {
        if (data.Length < AuthStart)
        {
            result.Fail($"QE report certification data is {data.Length} bytes, too short for the QE report, its signature and the auth data size ({AuthStart} bytes)");
            return null;
        }
        var qeReport = data[..QeReportSize].ToArray();
        var qeSignature = data.Slice(QeReportSize, QeReportSignatureSize).ToArray();
        var authSize = BinaryPrimitives.ReadUInt16LittleEndian(data[AuthSizeOffset..]);
        if (authSize > data.Length - AuthStart)
        {
            result.Fail($"QE auth data size {authSize} runs past the end of the QE report certification data (only {data.Length - AuthStart} bytes left)");
            return null;
        }
        var authData = data.Slice(AuthStart, authSize).ToArray();

        // The PCK certification data follows; without it the QE report can still be checked for
        // its binding and identity, just not for its signature.
        var rest = data[(AuthStart + authSize)..];
        byte[]? chain = null;
        if (rest.Length < 6)
        {
            result.Fail($"QE report certification data ends {rest.Length} bytes after the QE auth data, before the PCK certification data header (6 bytes)");
        }
        else
        {
            var type = BinaryPrimitives.ReadUInt16LittleEndian(rest);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(rest[2..]);
            if (type != PemChainType)
            {
                result.Fail($"PCK certification data type is {type}, expected {PemChainType} (PEM certificate chain)");
            }
            else if (size > (uint)(rest.Length - 6))
            {
                result.Fail($"PCK certification data size {size} runs past the end of the QE report certification data (only {rest.Length - 6} bytes left)");
            }
            else
            {
                chain = rest.Slice(6, (int)size).ToArray();
            }
        }
        return new QeCertificationData(qeReport, qeSignature, authData, chain);
    }
}
