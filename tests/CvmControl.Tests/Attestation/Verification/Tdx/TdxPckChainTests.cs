using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CvmControl.Attestation.Verification;
using CvmControl.Tests.Attestation.Fakes;

namespace CvmControl.Tests.Attestation.Verification.Tdx;

/// <summary>
/// The PCK chain link by link. Each test swaps the production quote's PEM chain for one built here
/// (leaf 'Test PCK', intermediate 'Test PCK CA', root 'Test Root') and re-signs its QE report with
/// the new leaf key, so the quote, its attestation key and its QE report stay genuine and the one
/// refusal is the chain's.
/// </summary>
public sealed class TdxPckChainTests : IDisposable
{
    private const string Production = "tdx_prod_quote_SPR_E4.dat";

    // Absolute offsets in the production v4 quote.
    private const int QeReportOffset = 770;
    private const int QeReportSignatureOffset = QeReportOffset + 384;
    private const int PckCertificationDataOffset = QeReportSignatureOffset + 64 + 2 + 32;

    private const string RootName = "Test Root";
    private const string CaName = "Test PCK CA";
    private const string LeafName = "Test PCK";

    private static readonly DateTimeOffset Expired = new(2025, 6, 30, 0, 0, 0, TimeSpan.Zero);

    private readonly ECDsa _rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public void Dispose()
    {
        _rootKey.Dispose();
        _caKey.Dispose();
        _leafKey.Dispose();
        _otherKey.Dispose();
    }

    private static X509Extension BasicConstraints(bool ca) => new X509BasicConstraintsExtension(ca, false, 0, critical: true);

    /// <summary>A certificate for <paramref name="subjectKey"/> named CN=<paramref name="subject"/>, signed by <paramref name="issuerKey"/> as CN=<paramref name="issuer"/>.</summary>
    private static X509Certificate2 Issue(string subject, PublicKey subjectKey, string issuer, ECDsa issuerKey, X509Extension? basicConstraints, DateTimeOffset? notAfter = null)
    {
        var request = new CertificateRequest(new X500DistinguishedName($"CN={subject}"), subjectKey, HashAlgorithmName.SHA256);
        if (basicConstraints is not null)
        {
            request.CertificateExtensions.Add(basicConstraints);
        }
        var serial = RandomNumberGenerator.GetBytes(8);
        serial[0] &= 0x7f;
        return request.Create(new X500DistinguishedName($"CN={issuer}"), X509SignatureGenerator.CreateForECDsa(issuerKey), FakeTdxQuote.NotBefore, notAfter ?? FakeTdxQuote.NotAfter, serial);
    }

    private X509Certificate2 Root(DateTimeOffset? notAfter = null) => Issue(RootName, new PublicKey(_rootKey), RootName, _rootKey, BasicConstraints(true), notAfter);

    private X509Certificate2 Ca(X509Extension? basicConstraints = null, DateTimeOffset? notAfter = null) =>
        Issue(CaName, new PublicKey(_caKey), RootName, _rootKey, basicConstraints ?? BasicConstraints(true), notAfter);

    private X509Certificate2 Leaf(ECDsa? signer = null) => Issue(LeafName, new PublicKey(_leafKey), CaName, signer ?? _caKey, BasicConstraints(false));

    /// <summary>The production quote carrying <paramref name="chain"/> as its PEM chain, its QE report signed by the test leaf key.</summary>
    private byte[] QuoteWith(params X509Certificate2[] chain)
    {
        var quote = TestVectors.Read(Production)[..PckCertificationDataOffset];
        _leafKey.SignData(quote.AsSpan(QeReportOffset, 384), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
            .CopyTo(quote, QeReportSignatureOffset);
        var pem = Encoding.ASCII.GetBytes(string.Concat(chain.Select(c => c.ExportCertificatePem() + "\n")));
        byte[] result = [.. quote, .. LittleEndian.U16(5), .. LittleEndian.U32((uint)pem.Length), .. pem];
        var certificationData = result.Length - QeReportOffset;
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(636 + 130), (uint)certificationData);
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(632), (uint)(certificationData + 134));
        return result;
    }

    /// <summary>Verifies with <paramref name="pinned"/> as the only Intel root pin, and no embedded root unless given.</summary>
    private static VerificationResult Verify(byte[] quote, X509Certificate2 pinned, byte[]? tcbInfo = null) =>
        EvidenceVerifier.Verify(quote, new VerificationOptions
        {
            At = FakeTdxQuote.ValidAt,
            Anchors = new TrustAnchors(TrustAnchors.AmdArkPins, [TrustAnchors.Sha256Hex(pinned.RawData)], []),
            Tcb = new TcbPolicy { IntelTcbInfo = tcbInfo },
        });

    private static string SingleError(VerificationResult result)
    {
        result.Verified.Should().BeFalse();
        return result.Errors.Should().ContainSingle().Subject;
    }

    [Fact]
    public void A_chain_that_carries_its_pinned_root_verifies_with_no_root_embedded()
    {
        var root = Root();

        var result = Verify(QuoteWith(Leaf(), Ca(), root), root);

        result.Errors.Should().BeEmpty();
        result.Verified.Should().BeTrue();
    }

    [Fact]
    public void An_unrelated_self_signed_certificate_before_the_root_is_passed_over_for_the_root_that_issued_the_intermediate()
    {
        var root = Root();
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var stranger = Issue("Some Other Root", new PublicKey(other), "Some Other Root", other, BasicConstraints(true));

        var result = Verify(QuoteWith(Leaf(), Ca(), stranger, root), root);

        result.Errors.Should().BeEmpty();
        result.Verified.Should().BeTrue();
    }

    [Fact]
    public void A_PCK_certificate_with_an_RSA_key_cannot_check_the_QE_report_signature()
    {
        using var rsa = RSA.Create(1024);
        var leaf = Issue(LeafName, new PublicKey(rsa), CaName, _caKey, BasicConstraints(false));
        var root = Root();

        var result = Verify(QuoteWith(leaf, Ca(), root), root);

        SingleError(result).Should().Be("PCK certificate 'Test PCK' has no ECDSA public key to check the QE report signature with");
    }

    [Fact]
    public void A_PCK_certificate_whose_EC_point_is_off_the_curve_is_refused_with_the_reason()
    {
        // id-ecPublicKey on P-256 with an uncompressed point whose coordinates are all 0x01.
        var key = new PublicKey(
            new Oid("1.2.840.10045.2.1"),
            new AsnEncodedData(Convert.FromHexString("06082a8648ce3d030107")),
            new AsnEncodedData([0x04, .. Enumerable.Repeat((byte)0x01, 64)]));
        var leaf = Issue(LeafName, key, CaName, _caKey, BasicConstraints(false));
        var root = Root();

        var result = Verify(QuoteWith(leaf, Ca(), root), root);

        SingleError(result).Should().StartWith("cannot check the QE report signature with PCK certificate 'Test PCK': ");
    }

    [Fact]
    public void An_intermediate_with_an_undecodable_extension_is_refused_and_counts_as_judged()
    {
        var garbled = new X509Extension("2.5.29.19", [0x30, 0x03, 0x01, 0x01], critical: true);
        var root = Root();

        var result = Verify(QuoteWith(Leaf(), Ca(garbled), root), root, tcbInfo: TestVectors.Read("tcbInfo.json"));

        SingleError(result).Should().StartWith("cannot check the PCK certificate chain: ");
    }

    [Fact]
    public void A_chain_of_only_the_PCK_certificate_is_refused_naming_the_missing_issuer()
    {
        var result = Verify(QuoteWith(Leaf()), Root());

        SingleError(result).Should().Be("PCK chain has no certificate for the issuer of PCK certificate 'Test PCK' ('CN=Test PCK CA')");
    }

    [Fact]
    public void A_PCK_certificate_not_signed_by_its_named_intermediate_is_refused()
    {
        var root = Root();

        var result = Verify(QuoteWith(Leaf(signer: _otherKey), Ca(), root), root);

        SingleError(result).Should().Be("the signature on 'Test PCK' does not verify with the key of 'Test PCK CA'");
    }

    [Fact]
    public void A_PCK_certificate_issued_straight_by_a_self_signed_certificate_is_refused_for_the_missing_intermediate()
    {
        var selfSigned = Issue(CaName, new PublicKey(_caKey), CaName, _caKey, BasicConstraints(true));

        var result = Verify(QuoteWith(Leaf(), selfSigned), selfSigned);

        SingleError(result).Should().Be("PCK chain has no intermediate CA: PCK certificate 'Test PCK' is issued by the self-signed 'Test PCK CA'");
    }

    [Fact]
    public void An_intermediate_that_is_not_a_CA_is_refused()
    {
        var root = Root();

        var result = Verify(QuoteWith(Leaf(), Ca(BasicConstraints(false)), root), root);

        SingleError(result).Should().Be("PCK intermediate 'Test PCK CA' is not a CA certificate");
    }

    [Fact]
    public void An_expired_intermediate_is_refused()
    {
        var root = Root();

        var result = Verify(QuoteWith(Leaf(), Ca(notAfter: Expired), root), root);

        SingleError(result).Should().StartWith("'Test PCK CA' expired at 2025-06-30T00:00:00Z");
    }

    [Fact]
    public void A_pinned_root_that_names_itself_but_is_signed_by_another_key_is_refused()
    {
        var root = Issue(RootName, new PublicKey(_rootKey), RootName, _otherKey, BasicConstraints(true));

        var result = Verify(QuoteWith(Leaf(), Ca(), root), root);

        SingleError(result).Should().Be("the signature on 'Test Root' does not verify with the key of 'Test Root'");
    }

    [Fact]
    public void A_pinned_root_that_is_not_a_CA_is_refused()
    {
        var root = Issue(RootName, new PublicKey(_rootKey), RootName, _rootKey, BasicConstraints(false));

        var result = Verify(QuoteWith(Leaf(), Ca(), root), root);

        SingleError(result).Should().Be("Intel root 'Test Root' is not a CA certificate");
    }

    [Fact]
    public void An_expired_pinned_root_is_refused()
    {
        var root = Root(notAfter: Expired);

        var result = Verify(QuoteWith(Leaf(), Ca(), root), root);

        SingleError(result).Should().StartWith("'Test Root' expired at 2025-06-30T00:00:00Z");
    }

    [Fact]
    public void A_pinned_root_of_the_right_name_whose_key_did_not_sign_the_intermediate_is_refused()
    {
        var impostor = Issue(RootName, new PublicKey(_otherKey), RootName, _otherKey, BasicConstraints(true));

        var result = Verify(QuoteWith(Leaf(), Ca(), impostor), impostor);

        SingleError(result).Should().Be("the signature on 'Test PCK CA' does not verify with the key of 'Test Root'");
    }
}
