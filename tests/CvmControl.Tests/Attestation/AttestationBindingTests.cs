using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CvmControl.Attestation;
using CvmControl.Identity;

namespace CvmControl.Tests.Attestation;

public sealed class AttestationBindingTests
{
    private static readonly byte[] Nonce16 = [.. Enumerable.Range(0x00, 16).Select(i => (byte)i)];
    private static readonly byte[] Spki32 = [.. Enumerable.Range(0x20, 32).Select(i => (byte)i)];

    [Fact]
    public void Report_data_matches_a_known_answer()
    {
        // SHA-512 of "cvm-control-attestation-v1" || 00..0f || 20..3f, computed outside .NET (Python hashlib).
        Convert.ToHexStringLower(AttestationBinding.ComputeReportData(Nonce16, Spki32)).Should().Be(
            "67712e7ef922ea6e001311a7d786bb63bb611f1efd7b451506d27b1348a76fcb99646d89a18ea261a927d55c56a4297bc3303e62052bfdf1f1ccbe054ec0e956");
        Convert.ToHexStringLower(AttestationBinding.ComputeReportData(Enumerable.Repeat((byte)0xab, 64).ToArray(), Enumerable.Repeat((byte)0x5a, 32).ToArray())).Should().Be(
            "6d88fb57087cb1d763f260aeecddfac054d996e3c869c0195169b0ebc5c6b059a596c1a932cfe2a10ae30200696baf43218ec406c068609cde473ccf64668ef4");
    }

    [Fact]
    public void Report_data_is_sha512_of_label_then_nonce_then_spki_hash()
    {
        var nonce = RandomNumberGenerator.GetBytes(32);
        var spki = RandomNumberGenerator.GetBytes(32);

        var expected = SHA512.HashData([.. "cvm-control-attestation-v1"u8, .. nonce, .. spki]);

        AttestationBinding.ComputeReportData(nonce, spki).Should().Equal(expected);
        AttestationBinding.ComputeReportData(nonce, spki).Should().HaveCount(64);
        Encoding.ASCII.GetBytes(AttestationBinding.Label).Should().Equal("cvm-control-attestation-v1"u8.ToArray());
    }

    [Fact]
    public void A_different_nonce_gives_different_report_data()
    {
        var other = (byte[])Nonce16.Clone();
        other[^1] ^= 1;

        AttestationBinding.ComputeReportData(other, Spki32).Should().NotEqual(AttestationBinding.ComputeReportData(Nonce16, Spki32));
    }

    [Fact]
    public void A_different_certificate_key_gives_different_report_data()
    {
        using var first = SelfSignedCertificate.Create("cvm.test", TimeProvider.System);
        using var second = SelfSignedCertificate.Create("cvm.test", TimeProvider.System);

        AttestationBinding.ComputeReportData(Nonce16, AttestationBinding.SpkiSha256(first))
            .Should().NotEqual(AttestationBinding.ComputeReportData(Nonce16, AttestationBinding.SpkiSha256(second)));
    }

    [Fact]
    public void Spki_hash_covers_the_subject_public_key_info_from_the_certificate_der()
    {
        using var certificate = SelfSignedCertificate.Create("cvm.test", TimeProvider.System);

        AttestationBinding.SpkiSha256(certificate).Should().Equal(SHA256.HashData(SubjectPublicKeyInfoOf(certificate.RawData)));
    }

    [Fact]
    public void Spki_hash_depends_on_the_key_only_not_on_the_rest_of_the_certificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow;
        using var one = new CertificateRequest("CN=one", key, HashAlgorithmName.SHA256).CreateSelfSigned(now, now.AddDays(1));
        using var two = new CertificateRequest("CN=two", key, HashAlgorithmName.SHA384).CreateSelfSigned(now, now.AddDays(2));

        AttestationBinding.SpkiSha256(one).Should().Equal(AttestationBinding.SpkiSha256(two));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    [InlineData(65)]
    public void A_nonce_outside_16_to_64_bytes_is_refused(int length)
    {
        var act = () => AttestationBinding.ComputeReportData(new byte[length], Spki32);

        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void A_spki_hash_that_is_not_32_bytes_is_refused()
    {
        var act = () => AttestationBinding.ComputeReportData(Nonce16, new byte[48]);

        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    /// <summary>Certificate → TBSCertificate → its 7th field (after the optional [0] version), read straight from the DER.</summary>
    private static byte[] SubjectPublicKeyInfoOf(byte[] der)
    {
        var certificate = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        var tbs = certificate.ReadSequence();
        if (tbs.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
        {
            tbs.ReadEncodedValue();
        }
        tbs.ReadEncodedValue(); // serialNumber
        tbs.ReadEncodedValue(); // signature
        tbs.ReadEncodedValue(); // issuer
        tbs.ReadEncodedValue(); // validity
        tbs.ReadEncodedValue(); // subject
        return tbs.ReadEncodedValue().ToArray();
    }
}
