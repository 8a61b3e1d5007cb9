using System.Buffers.Binary;

namespace CvmControl.Attestation.Verification.Tdx;

/// <summary>
/// An Intel TDX quote (version 4 or 5, ECDSA P-256 attestation key) split into the parts the
/// verifier checks. Parsing never throws: every length is bounds-checked against the bytes at hand,
/// and each structural problem becomes an error on the result. The parts after the first problem
/// are left null, while the parts before it stay available so that later checks can still run.
/// </summary>
internal sealed class TdxQuote
{
    public const int HeaderSize = 48;
    public const int Tdx10BodySize = 584;
    public const int Tdx15BodySize = 648;
    public const ushort AttestationKeyTypeEcdsaP256 = 2;
    public const uint TeeTypeTdx = 0x81;

    private const int V5DescriptorSize = 6;

    private TdxQuote(ushort version, byte[] qeVendorId, TdReportBody body, byte[] signedRegion, QuoteSignatureData? signatureData)
    {
        Version = version;
        QeVendorId = qeVendorId;
        Body = body;
        SignedRegion = signedRegion;
        SignatureData = signatureData;
    }

    public ushort Version { get; }

    public byte[] QeVendorId { get; }

    public TdReportBody Body { get; }

    /// <summary>What the attestation key signs: the header, the v5 body descriptor and the body.</summary>
    public byte[] SignedRegion { get; }

    /// <summary>Null when the signature data is missing or runs past the end of the input.</summary>
    public QuoteSignatureData? SignatureData { get; }

    /// <summary>
    /// Parses a quote from the start of <paramref name="data"/>; bytes after the quote are ignored.
    /// Returns null, with errors on <paramref name="result"/>, when not even the header and report
    /// body can be read.
    /// </summary>
    public static TdxQuote? Parse(ReadOnlySpan<byte> data, VerificationResult result)
    {
        if (data.Length < HeaderSize)
        {
            result.Fail($"quote is {data.Length} bytes, shorter than the {HeaderSize}-byte quote header");
            return null;
        }
        var version = BinaryPrimitives.ReadUInt16LittleEndian(data);
        if (version is not (4 or 5))
        {
            result.Fail($"quote version is {version}; only versions 4 and 5 are supported");
            return null;
        }
        // Another key type or TEE type means another signature layout or report body: nothing after
        // the header could be read reliably.
        var keyType = BinaryPrimitives.ReadUInt16LittleEndian(data[2..]);
        if (keyType != AttestationKeyTypeEcdsaP256)
        {
            result.Fail($"attestation key type is {keyType}, expected {AttestationKeyTypeEcdsaP256} (ECDSA P-256)");
            return null;
        }
        var teeType = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        if (teeType != TeeTypeTdx)
        {
            result.Fail($"TEE type is 0x{teeType:x}, expected 0x{TeeTypeTdx:x} (TDX)");
            return null;
        }

        int bodyStart;
        int bodySize;
        if (version == 4)
        {
            bodyStart = HeaderSize;
            bodySize = Tdx10BodySize;
        }
        else
        {
            if (data.Length < HeaderSize + V5DescriptorSize)
            {
                result.Fail($"quote is {data.Length} bytes, too short for the version 5 body descriptor at offset {HeaderSize}");
                return null;
            }
            var bodyType = BinaryPrimitives.ReadUInt16LittleEndian(data[HeaderSize..]);
            var declaredSize = BinaryPrimitives.ReadUInt32LittleEndian(data[(HeaderSize + 2)..]);
            var expectedSize = bodyType switch
            {
                2 => Tdx10BodySize,
                3 => Tdx15BodySize,
                _ => 0,
            };
            if (expectedSize == 0)
            {
                result.Fail($"report body type is {bodyType}; expected 2 (TDX 1.0) or 3 (TDX 1.5)");
                return null;
            }
            if (declaredSize != expectedSize)
            {
                result.Fail($"report body of type {bodyType} is declared as {declaredSize} bytes, expected {expectedSize}");
                return null;
            }
            bodyStart = HeaderSize + V5DescriptorSize;
            bodySize = expectedSize;
        }

        var signedEnd = bodyStart + bodySize;
        if (data.Length < signedEnd)
        {
            result.Fail($"quote is {data.Length} bytes, too short for the {bodySize}-byte TD report body at offset {bodyStart}");
            return null;
        }
        var body = new TdReportBody(data.Slice(bodyStart, bodySize).ToArray());
        var qeVendorId = data.Slice(12, 16).ToArray();
        var signatureData = QuoteSignatureData.Parse(data, signedEnd, result);
        return new TdxQuote(version, qeVendorId, body, data[..signedEnd].ToArray(), signatureData);
    }
}
