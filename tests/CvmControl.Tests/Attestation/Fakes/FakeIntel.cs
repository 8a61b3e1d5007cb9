using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CvmControl.Attestation.Verification;

namespace CvmControl.Tests.Attestation.Fakes;

/// <summary>The platform TCB a fake PCK certificate is issued for (its SGX Extensions).</summary>
internal sealed record FakePckTcb
{
    public byte[] ComponentSvns { get; init; } = [2, 2, 7, 7, 4, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0];

    public int PceSvn { get; init; } = 11;

    public byte[] PceId { get; init; } = [0, 0];

    public byte[] Fmspc { get; init; } = Convert.FromHexString("00A06D080000");
}

/// <summary>What a fake TDX quote holds. Unset body fields stay random noise.</summary>
internal sealed record FakeQuoteSpec
{
    public byte[] ReportData { get; init; } = new byte[64];

    public int Version { get; init; } = 4;

    public bool Debug { get; init; }

    /// <summary>Null: TDX 1.5 body for version 5, TDX 1.0 for version 4.</summary>
    public bool? Tdx15Body { get; init; }

    public bool IncludeRoot { get; init; } = true;

    /// <summary>RTMR0 to RTMR3; null leaves them random.</summary>
    public byte[][]? Rtmrs { get; init; }

    public byte[]? Mrtd { get; init; }

    /// <summary>TEE_TCB_SVN: module SVN, module major version, then the TDX components; null leaves it random.</summary>
    public byte[]? TeeTcbSvn { get; init; }

    /// <summary>MRSIGNERSEAM and SEAMATTRIBUTES are zero (Intel's module) unless set.</summary>
    public byte[] MrSignerSeam { get; init; } = new byte[48];

    public byte[] SeamAttributes { get; init; } = new byte[8];

    public FakePckTcb Pck { get; init; } = new();

    public ushort QeIsvSvn { get; init; } = 7;

    public byte[] QeAttributes { get; init; } = Convert.FromHexString("1500000000000000e700000000000000");

    public byte[] QeMiscSelect { get; init; } = new byte[4];
}

/// <summary>
/// A stand-in for Intel's PKI: a P-256 root CA, a PCK Platform CA and a TCB Signing certificate,
/// all fresh. It issues PCK certificates with SGX Extensions, signs quotes through a quoting
/// enclave report, and signs TCB info and QE identity collateral the way Intel PCS does.
/// Verification accepts them only with <see cref="Anchors"/>, which pin this root and signer.
/// </summary>
internal sealed class FakeIntel : IDisposable
{
    public static readonly byte[] IntelQeVendorId = Convert.FromHexString("939a7233f79c4ca9940a0db3957f0607");
    public static readonly byte[] IntelQeMrSigner = Convert.FromHexString("dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5");

    private static readonly X500DistinguishedName RootName = new("CN=Fake SGX Root CA, O=cvm-control tests");
    private static readonly X500DistinguishedName CaName = new("CN=Fake SGX PCK Platform CA, O=cvm-control tests");

    private readonly ECDsa _rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _signingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _rootWithKey;
    private readonly X509Certificate2 _ca;

    public FakeIntel()
    {
        _rootWithKey = Issue(RootName, _rootKey, RootName, _rootKey, isCa: true);
        _ca = Issue(CaName, _caKey, RootName, _rootKey, isCa: true);
        Root = X509CertificateLoader.LoadCertificate(_rootWithKey.RawData);
        using var signing = Issue(new X500DistinguishedName("CN=Fake SGX TCB Signing, O=cvm-control tests"), _signingKey, RootName, _rootKey, isCa: false);
        TcbSigning = X509CertificateLoader.LoadCertificate(signing.RawData);
        Anchors = new TrustAnchors(
            TrustAnchors.AmdArkPins,
            [TrustAnchors.Sha256Hex(Root.RawData)],
            [Root, TcbSigning],
            [TrustAnchors.Sha256Hex(TcbSigning.RawData)]);
    }

    /// <summary>The real AMD pins; the fake root and TCB Signing certificate as the only Intel ones, both embedded.</summary>
    public TrustAnchors Anchors { get; }

    public X509Certificate2 Root { get; }

    public X509Certificate2 TcbSigning { get; }

    /// <summary>
    /// A signed quote per <paramref name="spec"/>: a fresh PCK certificate and attestation key, the
    /// QE report binding that key, and the quote signature. <paramref name="layout"/> reports where
    /// the signed region ends and the QE report starts.
    /// </summary>
    public byte[] Quote(FakeQuoteSpec spec, out (int SignedLength, int QeReportOffset) layout)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(spec.ReportData.Length, 64);
        if (spec.Version is not (4 or 5))
        {
            throw new ArgumentOutOfRangeException(nameof(spec), spec.Version, "TDX quotes are version 4 or 5");
        }
        var tdx15 = spec.Tdx15Body ?? spec.Version == 5;
        if (tdx15 && spec.Version == 4)
        {
            throw new ArgumentException("a version 4 quote carries a TDX 1.0 body only", nameof(spec));
        }

        using var pckKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var attestationKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var pck = IssuePck(pckKey, spec.Pck);

        var body = RandomNumberGenerator.GetBytes(tdx15 ? 648 : 584);
        spec.TeeTcbSvn?.CopyTo(body, 0);
        spec.MrSignerSeam.CopyTo(body, 64);
        spec.SeamAttributes.CopyTo(body, 112);
        BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(120), spec.Debug ? 1UL : 0x10000000UL); // SEPT_VE_DISABLE, like real guests
        spec.Mrtd?.CopyTo(body, 136);
        for (var i = 0; i < (spec.Rtmrs?.Length ?? 0); i++)
        {
            spec.Rtmrs![i].CopyTo(body, 328 + (48 * i));
        }
        spec.ReportData.CopyTo(body, 520);

        var header = new byte[48];
        BinaryPrimitives.WriteUInt16LittleEndian(header, (ushort)spec.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(2), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), 0x81);
        IntelQeVendorId.CopyTo(header, 12);
        var signed = new List<byte>(header);
        if (spec.Version == 5)
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
        spec.QeMiscSelect.CopyTo(qeReport, 16);
        spec.QeAttributes.CopyTo(qeReport, 48);
        IntelQeMrSigner.CopyTo(qeReport, 128);
        BinaryPrimitives.WriteUInt16LittleEndian(qeReport.AsSpan(256), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(qeReport.AsSpan(258), spec.QeIsvSvn);
        SHA256.HashData([.. attestationPublic, .. authData]).CopyTo(qeReport, 320);
        var qeSignature = pckKey.SignData(qeReport, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

        var pem = new StringBuilder()
            .Append(pck.ExportCertificatePem()).Append('\n')
            .Append(_ca.ExportCertificatePem()).Append('\n');
        if (spec.IncludeRoot)
        {
            pem.Append(Root.ExportCertificatePem()).Append('\n');
        }
        byte[] chain = [.. Encoding.ASCII.GetBytes(pem.ToString()), 0];

        var qeCertification = Concat(qeReport, qeSignature, LittleEndian.U16((ushort)authData.Length), authData, LittleEndian.U16(5), LittleEndian.U32((uint)chain.Length), chain);
        var quoteSignature = attestationKey.SignData(signedRegion, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var signatureData = Concat(quoteSignature, attestationPublic, LittleEndian.U16(6), LittleEndian.U32((uint)qeCertification.Length), qeCertification);
        layout = (signedRegion.Length, signedRegion.Length + 4 + 64 + 64 + 6);
        return Concat(signedRegion, LittleEndian.U32((uint)signatureData.Length), signatureData);
    }

    /// <summary>
    /// An Intel PCS collateral file: <c>{"FIELD":BODY,"signature":"HEX"}</c>, signed over
    /// <paramref name="body"/>'s exact UTF-8 bytes with the fake TCB Signing key.
    /// </summary>
    public byte[] SignCollateral(string field, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var signature = _signingKey.SignData(bytes, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return Encoding.UTF8.GetBytes($"{{\"{field}\":{body},\"signature\":\"{Convert.ToHexStringLower(signature)}\"}}");
    }

    public void Dispose()
    {
        _rootKey.Dispose();
        _caKey.Dispose();
        _signingKey.Dispose();
        _rootWithKey.Dispose();
        _ca.Dispose();
    }

    private X509Certificate2 IssuePck(ECDsa key, FakePckTcb tcb)
    {
        var request = new CertificateRequest(new X500DistinguishedName("CN=Fake SGX PCK Certificate, O=cvm-control tests"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation, critical: true));
        request.CertificateExtensions.Add(new X509Extension("1.2.840.113741.1.13.1", SgxExtensions(tcb), critical: false));
        return request.Create(CaName, X509SignatureGenerator.CreateForECDsa(_caKey), FakeTdxQuote.NotBefore, FakeTdxQuote.NotAfter, Serial());
    }

    /// <summary>Intel's SGX Extensions: PPID, TCB (sixteen component SVNs, PCESVN, CPUSVN), PCE-ID, FMSPC, SGX type.</summary>
    public static byte[] SgxExtensions(FakePckTcb tcb)
    {
        const string Sgx = "1.2.840.113741.1.13.1";
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            Pair(writer, Sgx + ".1", w => w.WriteOctetString(new byte[16]));
            Pair(writer, Sgx + ".2", w =>
            {
                using (w.PushSequence())
                {
                    for (var i = 0; i < 16; i++)
                    {
                        Pair(w, $"{Sgx}.2.{i + 1}", v => v.WriteInteger(tcb.ComponentSvns[i]));
                    }
                    Pair(w, Sgx + ".2.17", v => v.WriteInteger(tcb.PceSvn));
                    Pair(w, Sgx + ".2.18", v => v.WriteOctetString(tcb.ComponentSvns));
                }
            });
            Pair(writer, Sgx + ".3", w => w.WriteOctetString(tcb.PceId));
            Pair(writer, Sgx + ".4", w => w.WriteOctetString(tcb.Fmspc));
            Pair(writer, Sgx + ".5", w => w.WriteEnumeratedValue(AsnTag.Platform));
        }
        return writer.Encode();
    }

    private enum AsnTag
    {
        Standard,
        Scalable,
        Platform,
    }

    private static void Pair(AsnWriter writer, string oid, Action<AsnWriter> value)
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(oid);
            value(writer);
        }
    }

    private static X509Certificate2 Issue(X500DistinguishedName subject, ECDsa key, X500DistinguishedName issuer, ECDsa issuerKey, bool isCa)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(isCa, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            isCa ? X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign : X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation,
            critical: true));
        return ReferenceEquals(key, issuerKey)
            ? request.CreateSelfSigned(FakeTdxQuote.NotBefore, FakeTdxQuote.NotAfter)
            : request.Create(issuer, X509SignatureGenerator.CreateForECDsa(issuerKey), FakeTdxQuote.NotBefore, FakeTdxQuote.NotAfter, Serial());
    }

    private static byte[] Serial()
    {
        var serial = RandomNumberGenerator.GetBytes(8);
        serial[0] &= 0x7f;
        return serial;
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}
