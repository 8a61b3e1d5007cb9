using System.Buffers.Binary;

namespace CvmControl.Attestation.Verification.Tdx;

/// <summary>The quote's signature data: ECDSA signature, attestation key and certification data.</summary>
internal sealed class QuoteSignatureData
{
    public const int SignatureSize = 64;
    public const int AttestationKeySize = 64;
    public const ushort QeReportCertificationDataType = 6;

    private const int CertificationHeaderSize = 6;
    private const int FixedSize = SignatureSize + AttestationKeySize + CertificationHeaderSize;

    private QuoteSignatureData(byte[] signature, byte[] attestationKey, QeCertificationData? qe)
    {
        Signature = signature;
        AttestationKey = attestationKey;
        QeCertification = qe;
    }

    /// <summary>r‖s, big-endian, 32 bytes each.</summary>
    public byte[] Signature { get; }

    /// <summary>The P-256 public key as x‖y, big-endian, 32 bytes each.</summary>
    public byte[] AttestationKey { get; }

    /// <summary>Null when the certification data is not of type 6 or is malformed.</summary>
    public QeCertificationData? QeCertification { get; }

    /// <summary>Parses the signature data whose u32 length sits at <paramref name="lengthOffset"/>.</summary>
    public static QuoteSignatureData? Parse(ReadOnlySpan<byte> quote, int lengthOffset, VerificationResult result)
    {
        if (quote.Length - lengthOffset < 4)
        {
            result.Fail($"quote is {quote.Length} bytes and ends before the signature data length at offset {lengthOffset}");
            return null;
        }
        var length = BinaryPrimitives.ReadUInt32LittleEndian(quote[lengthOffset..]);
        var available = quote.Length - lengthOffset - 4;
        if (length > (uint)available)
        {
            result.Fail($"signature data length {length} runs past the end of the quote (only {available} bytes follow it)");
            return null;
        }
        var data = quote.Slice(lengthOffset + 4, (int)length);
        if (data.Length < FixedSize)
        {
            result.Fail($"signature data is {data.Length} bytes, too short for the signature, attestation key and certification data header ({FixedSize} bytes)");
            return null;
        }

        var signature = data[..SignatureSize].ToArray();
        var attestationKey = data.Slice(SignatureSize, AttestationKeySize).ToArray();
        var certType = BinaryPrimitives.ReadUInt16LittleEndian(data[(SignatureSize + AttestationKeySize)..]);
        var certSize = BinaryPrimitives.ReadUInt32LittleEndian(data[(SignatureSize + AttestationKeySize + 2)..]);
        var certAvailable = data.Length - FixedSize;
        QeCertificationData? qe = null;
        if (certType != QeReportCertificationDataType)
        {
            result.Fail($"certification data type is {certType}, expected {QeReportCertificationDataType} (QE report certification data)");
        }
        else if (certSize > (uint)certAvailable)
        {
            result.Fail($"certification data size {certSize} runs past the end of the signature data (only {certAvailable} bytes left)");
        }
        else
        {
            qe = QeCertificationData.Parse(data.Slice(FixedSize, (int)certSize), result);
        }
        return new QuoteSignatureData(signature, attestationKey, qe);
    }
}
