using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CvmControl.Attestation.Verification;

namespace CvmControl.Tests.Attestation.Fakes;

/// <summary>
/// A stand-in AMD: its own RSASSA-PSS ARK and ASK, a P-384 VCEK with AMD's extensions, and reports
/// signed by that VCEK. The verifier accepts them only with <see cref="Anchors"/>, which pin this
/// fake ARK in place of AMD's, so tests can produce reports with any REPORT_DATA, product or policy.
/// </summary>
internal sealed class FakeSnpReport : IDisposable
{
    private static readonly DateTimeOffset NotBefore = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset NotAfter = new(2040, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly ECDsa _vcekKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
    private readonly RSA _arkKey = RSA.Create(2048);
    private readonly RSA _askKey = RSA.Create(2048);

    public FakeSnpReport(string product = "Milan", byte[]? reportedTcb = null, byte[]? chipId = null, int hardwareIdLength = 64)
    {
        Product = product;
        ReportedTcb = reportedTcb ?? [3, 0, 0, 0, 0, 0, 8, 115];
        ChipId = chipId ?? RandomNumberGenerator.GetBytes(64);
        Ark = SelfSignedCa($"ARK-{product}", _arkKey);
        Ask = IssueIntermediate($"SEV-{product}");
        Vcek = IssueVcek(ReportedTcb, product, hardwareIdLength);
        Anchors = new TrustAnchors(new Dictionary<string, string> { [product] = TrustAnchors.Sha256Hex(Ark.RawData) }, [], [Ask, Ark]);
    }

    public string Product { get; }

    public byte[] ReportedTcb { get; }

    public byte[] ChipId { get; }

    public X509Certificate2 Ark { get; }

    public X509Certificate2 Ask { get; }

    public X509Certificate2 Vcek { get; }

    /// <summary>Anchors that pin this fake ARK (and embed its ASK), instead of AMD's.</summary>
    public TrustAnchors Anchors { get; }

    public static readonly byte[] Measurement = Convert.FromHexString("5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed");

    /// <summary>A version-3 report with this product's CPUID, signed by the fake VCEK.</summary>
    public byte[] Create(ReadOnlySpan<byte> reportData, bool debug = false, uint version = 3, uint vmpl = 0, uint signingKey = 0)
    {
        var report = new byte[1184];
        BinaryPrimitives.WriteUInt32LittleEndian(report, version);
        BinaryPrimitives.WriteUInt32LittleEndian(report.AsSpan(0x030), vmpl);
        BinaryPrimitives.WriteUInt64LittleEndian(report.AsSpan(0x008), 0x30000 | (debug ? 1UL << 19 : 0));
        BinaryPrimitives.WriteUInt32LittleEndian(report.AsSpan(0x034), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(report.AsSpan(0x048), signingKey << 2); // KEY_INFO bits 4:2
        reportData.CopyTo(report.AsSpan(0x050, 64));
        Measurement.CopyTo(report.AsSpan(0x090));
        ReportedTcb.CopyTo(report.AsSpan(0x038)); // CURRENT_TCB
        ReportedTcb.CopyTo(report.AsSpan(0x180));
        (report[0x188], report[0x189], report[0x18A]) = Product switch
        {
            "Milan" => ((byte)0x19, (byte)0x01, (byte)0x01),
            "Genoa" => ((byte)0x19, (byte)0x11, (byte)0x01),
            _ => ((byte)0x1A, (byte)0x02, (byte)0x01),
        };
        ChipId.CopyTo(report.AsSpan(0x1A0));

        var signature = _vcekKey.SignData(report.AsSpan(0, 0x2A0), HashAlgorithmName.SHA384, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        for (var component = 0; component < 2; component++)
        {
            var littleEndian = signature.AsSpan(48 * component, 48).ToArray();
            littleEndian.AsSpan().Reverse();
            littleEndian.CopyTo(report.AsSpan(0x2A0 + (72 * component)));
        }
        return report;
    }

    /// <summary>An SNP certificate table (auxblob) holding <paramref name="entries"/>, GUIDs in either byte order.</summary>
    public static byte[] CertificateTable(bool bigEndianGuids, params (Guid Kind, byte[] Der)[] entries)
    {
        var headerLength = (entries.Length + 1) * 24;
        var table = new byte[headerLength + entries.Sum(e => e.Der.Length)];
        var offset = headerLength;
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i].Kind.TryWriteBytes(table.AsSpan(i * 24, 16), bigEndianGuids, out _);
            BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan((i * 24) + 16), (uint)offset);
            BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan((i * 24) + 20), (uint)entries[i].Der.Length);
            entries[i].Der.CopyTo(table, offset);
            offset += entries[i].Der.Length;
        }
        return table;
    }

    public void Dispose()
    {
        _vcekKey.Dispose();
        _arkKey.Dispose();
        _askKey.Dispose();
    }

    /// <summary>
    /// A CA certificate for the fake ASK key (or <paramref name="key"/>), issued by the fake ARK: under
    /// another name (an ASVK is SEV-VLEK-&lt;product&gt;), without the CA flag, or with a shorter life.
    /// </summary>
    public X509Certificate2 IssueIntermediate(string commonName, bool isCa = true, DateTimeOffset? notAfter = null, RSA? key = null)
    {
        var request = new CertificateRequest(Name(commonName), key ?? _askKey, HashAlgorithmName.SHA384, RSASignaturePadding.Pss);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(isCa, isCa, 0, true));
        var generator = X509SignatureGenerator.CreateForRSA(_arkKey, RSASignaturePadding.Pss);
        return request.Create(Ark.SubjectName, generator, NotBefore, notAfter ?? NotAfter, [1]);
    }

    /// <summary>Another self-signed ARK with the same name and key, so different bytes: not the pinned one unless pinned.</summary>
    public X509Certificate2 LookAlikeArk(DateTimeOffset? notAfter = null) => SelfSignedCa($"ARK-{Product}", _arkKey, notAfter);

    /// <summary>An ARK with the real ARK's name and key whose self-signature was made by another key.</summary>
    public X509Certificate2 BadlySelfSignedArk()
    {
        using var other = RSA.Create(2048);
        var request = new CertificateRequest(Name($"ARK-{Product}"), _arkKey, HashAlgorithmName.SHA384, RSASignaturePadding.Pss);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        return request.Create(Ark.SubjectName, X509SignatureGenerator.CreateForRSA(other, RSASignaturePadding.Pss), NotBefore, NotAfter, [7]);
    }

    /// <summary>Anchors that pin <paramref name="ark"/> and embed only <paramref name="embedded"/>.</summary>
    public TrustAnchors AnchorsPinning(X509Certificate2 ark, params X509Certificate2[] embedded) =>
        new(new Dictionary<string, string> { [Product] = TrustAnchors.Sha256Hex(ark.RawData) }, [], embedded);

    private static X509Certificate2 SelfSignedCa(string commonName, RSA key, DateTimeOffset? notAfter = null)
    {
        var request = new CertificateRequest(Name(commonName), key, HashAlgorithmName.SHA384, RSASignaturePadding.Pss);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        return request.CreateSelfSigned(NotBefore, notAfter ?? NotAfter);
    }

    /// <summary>
    /// Another VCEK for the same key, with SPL extensions taken from <paramref name="tcb"/> read in
    /// <paramref name="layout"/>'s TCB layout: a certificate for the wrong TCB, or read the wrong way.
    /// <paramref name="shape"/> bends the rest of it.
    /// </summary>
    public X509Certificate2 IssueVcek(byte[] tcb, string layout, int hardwareIdLength = 64, LeafShape? shape = null)
    {
        shape ??= new LeafShape();
        var request = shape.Key is { } otherKey
            ? new CertificateRequest(Name(shape.CommonName), otherKey, HashAlgorithmName.SHA384)
            : new CertificateRequest(Name(shape.CommonName), _vcekKey, HashAlgorithmName.SHA384);
        if (shape.IsCa)
        {
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        }
        var tcbIsTurin = layout == "Turin";
        (string Suffix, byte Value)[] spl = tcbIsTurin
            ? [("1", tcb[1]), ("2", tcb[2]), ("3", tcb[3]), ("8", tcb[7]), ("9", tcb[0])]
            : [("1", tcb[0]), ("2", tcb[1]), ("3", tcb[6]), ("8", tcb[7])];
        foreach (var (suffix, value) in spl)
        {
            var integer = new AsnWriter(AsnEncodingRules.DER);
            integer.WriteInteger(value);
            var raw = shape.SplValues.TryGetValue(suffix, out var replaced) ? replaced : integer.Encode();
            if (raw.Length > 0)
            {
                request.CertificateExtensions.Add(new X509Extension($"1.3.6.1.4.1.3704.1.3.{suffix}", raw, false));
            }
        }
        var productName = new AsnWriter(AsnEncodingRules.DER);
        productName.WriteCharacterString(UniversalTagNumber.IA5String, $"{Product}-B0");
        request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.3704.1.2", productName.Encode(), false));
        if (hardwareIdLength > 0)
        {
            request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.3704.1.4", ChipId.AsSpan(0, hardwareIdLength).ToArray(), false));
        }
        if (shape.CspId)
        {
            var csp = new AsnWriter(AsnEncodingRules.DER);
            csp.WriteCharacterString(UniversalTagNumber.IA5String, "fake-cloud");
            request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.3704.1.5", csp.Encode(), false));
        }
        var generator = X509SignatureGenerator.CreateForRSA(_askKey, RSASignaturePadding.Pss);
        return request.Create((shape.Issuer ?? Ask).SubjectName, generator, NotBefore, NotAfter, [0]);
    }

    private static X500DistinguishedName Name(string commonName) =>
        new($"CN={commonName}, O=Fake Micro Devices, OU=Tests");
}

/// <summary>How a fake endorsement-key certificate departs from a well-formed VCEK.</summary>
internal sealed record LeafShape
{
    public string CommonName { get; init; } = "SEV-VCEK";

    public bool IsCa { get; init; }

    /// <summary>Adds the VLEK's CSP_ID extension.</summary>
    public bool CspId { get; init; }

    /// <summary>A key other than the one that signs the reports.</summary>
    public ECDsa? Key { get; init; }

    /// <summary>Names another issuer; the certificate is still signed with the fake ASK key.</summary>
    public X509Certificate2? Issuer { get; init; }

    /// <summary>SPL extension OID suffix → the raw extension value to use instead (empty: leave it out).</summary>
    public IReadOnlyDictionary<string, byte[]> SplValues { get; init; } = new Dictionary<string, byte[]>();
}
