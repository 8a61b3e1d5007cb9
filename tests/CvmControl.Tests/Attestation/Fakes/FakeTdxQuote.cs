using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CvmControl.Attestation.Verification;

namespace CvmControl.Tests.Attestation.Fakes;

/// <summary>
/// A TDX quote signed by a stand-in for Intel's PKI: a fresh P-256 root CA, PCK CA and PCK leaf,
/// a quoting enclave report signed by the PCK key that binds a fresh attestation key, and the quote
/// signed by that attestation key. It verifies only with <see cref="Anchors"/>, whose Intel pin is
/// the fake root.
/// </summary>
internal sealed class FakeTdxQuote
{
    private static readonly byte[] IntelQeVendorId = Convert.FromHexString("939a7233f79c4ca9940a0db3957f0607");
    private static readonly byte[] IntelQeMrSigner = Convert.FromHexString("dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5");

    /// <summary>Every fake certificate is valid from here...</summary>
    public static readonly DateTimeOffset NotBefore = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>...to here.</summary>
    public static readonly DateTimeOffset NotAfter = new(2049, 12, 31, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A fixed instant inside the validity window.</summary>
    public static readonly DateTimeOffset ValidAt = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private FakeTdxQuote(byte[] quote, TrustAnchors anchors, byte[] mrtd, X509Certificate2 root)
    {
        Quote = quote;
        Anchors = anchors;
        Mrtd = mrtd;
        Root = root;
    }

    /// <summary>The quote proper, nothing appended.</summary>
    public byte[] Quote { get; }

    /// <summary>The real AMD pins, the fake root as the only Intel pin, and the fake root as the only embedded certificate.</summary>
    public TrustAnchors Anchors { get; }

    /// <summary>The random MRTD in the quote.</summary>
    public byte[] Mrtd { get; }

    /// <summary>The fake root CA (public part only).</summary>
    public X509Certificate2 Root { get; }

    /// <summary>Offset of the QE report inside <see cref="Quote"/>.</summary>
    public int QeReportOffset { get; private init; }

    /// <summary>Offset of the signed region's end (header, v5 body descriptor and body) inside <see cref="Quote"/>.</summary>
    public int SignedLength { get; private init; }

    /// <summary>Verification options with this quote's anchors at <see cref="ValidAt"/>.</summary>
    public VerificationOptions Options() => new() { At = ValidAt, Anchors = Anchors };

    /// <summary>
    /// Builds a signed quote. Version 4 carries a TDX 1.0 body; version 5 a TDX 1.5 body (type 3)
    /// unless <paramref name="tdx15Body"/> is false. With <paramref name="includeRoot"/> false the
    /// PEM chain stops at the PCK CA, so the verifier must take the root from <see cref="Anchors"/>.
    /// </summary>
    public static FakeTdxQuote Create(byte[] reportData, int version = 4, bool debug = false, bool? tdx15Body = null, bool includeRoot = true)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(reportData.Length, 64);
        if (version is not (4 or 5))
        {
            throw new ArgumentOutOfRangeException(nameof(version), version, "TDX quotes are version 4 or 5");
        }
        var tdx15 = tdx15Body ?? version == 5;
        if (tdx15 && version == 4)
        {
            throw new ArgumentException("a version 4 quote carries a TDX 1.0 body only", nameof(tdx15Body));
        }

        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var pckKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var attestationKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var rootName = new X500DistinguishedName("CN=Fake SGX Root CA, O=cvm-control tests");
        var caName = new X500DistinguishedName("CN=Fake SGX PCK Platform CA, O=cvm-control tests");
        using var root = Issue(rootName, rootKey, rootName, rootKey, isCa: true);
        using var ca = Issue(caName, caKey, rootName, rootKey, isCa: true);
        using var pck = Issue(new X500DistinguishedName("CN=Fake SGX PCK Certificate, O=cvm-control tests"), pckKey, caName, caKey, isCa: false);

        // Body: TDX 1.0 fields, plus TEE_TCB_SVN2 and MRSERVICETD for TDX 1.5, filled with noise.
        var body = RandomNumberGenerator.GetBytes(tdx15 ? 648 : 584);
        var tdAttributes = debug ? 1UL : 0x10000000UL; // SEPT_VE_DISABLE, like real guests
        BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(120), tdAttributes);
        reportData.CopyTo(body, 520);
        var mrtd = body.AsSpan(136, 48).ToArray();

        var header = new byte[48];
        BinaryPrimitives.WriteUInt16LittleEndian(header, (ushort)version);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(2), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), 0x81);
        IntelQeVendorId.CopyTo(header, 12);
        var signed = new List<byte>(header);
        if (version == 5)
        {
            var descriptor = new byte[6];
            BinaryPrimitives.WriteUInt16LittleEndian(descriptor, (ushort)(tdx15 ? 3 : 2));
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor.AsSpan(2), (uint)body.Length);
            signed.AddRange(descriptor);
        }
        signed.AddRange(body);
        var signedRegion = signed.ToArray();

        var q = attestationKey.ExportParameters(includePrivateParameters: false).Q;
        byte[] attestationPublic = [.. q.X!, .. q.Y!];
        var authData = RandomNumberGenerator.GetBytes(32);

        var qeReport = new byte[384];
        IntelQeMrSigner.CopyTo(qeReport, 128);
        BinaryPrimitives.WriteUInt16LittleEndian(qeReport.AsSpan(256), 2);
        SHA256.HashData([.. attestationPublic, .. authData]).CopyTo(qeReport, 320);
        var qeSignature = pckKey.SignData(qeReport, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

        var pem = new StringBuilder()
            .Append(pck.ExportCertificatePem()).Append('\n')
            .Append(ca.ExportCertificatePem()).Append('\n');
        if (includeRoot)
        {
            pem.Append(root.ExportCertificatePem()).Append('\n');
        }
        byte[] chain = [.. Encoding.ASCII.GetBytes(pem.ToString()), 0];

        var qeCertification = Concat(qeReport, qeSignature, U16((ushort)authData.Length), authData, U16(5), U32((uint)chain.Length), chain);
        var quoteSignature = attestationKey.SignData(signedRegion, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var signatureData = Concat(quoteSignature, attestationPublic, U16(6), U32((uint)qeCertification.Length), qeCertification);
        var quote = Concat(signedRegion, U32((uint)signatureData.Length), signatureData);

        var rootPublic = X509CertificateLoader.LoadCertificate(root.RawData);
        var anchors = new TrustAnchors(TrustAnchors.AmdArkPins, [TrustAnchors.Sha256Hex(rootPublic.RawData)], [rootPublic]);
        return new FakeTdxQuote(quote, anchors, mrtd, rootPublic)
        {
            SignedLength = signedRegion.Length,
            QeReportOffset = signedRegion.Length + 4 + 64 + 64 + 6,
        };
    }

    private static X509Certificate2 Issue(X500DistinguishedName subject, ECDsa key, X500DistinguishedName issuer, ECDsa issuerKey, bool isCa)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(isCa, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            isCa ? X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign : X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation,
            critical: true));
        var serial = RandomNumberGenerator.GetBytes(8);
        serial[0] &= 0x7f;
        return request.Create(issuer, X509SignatureGenerator.CreateForECDsa(issuerKey), NotBefore, NotAfter, serial);
    }

    private static byte[] U16(ushort value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] U32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}
