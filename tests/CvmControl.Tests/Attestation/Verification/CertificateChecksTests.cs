using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using CvmControl.Attestation.Verification;
using FluentAssertions;
using Xunit;

namespace CvmControl.Tests.Attestation.Verification;

public sealed class CertificateChecksTests
{
    [Theory]
    [InlineData("Milan")]
    [InlineData("Genoa")]
    [InlineData("Turin")]
    public void Embedded_AMD_chains_verify_ASK_and_ASVK_under_the_pinned_ARK(string product)
    {
        var all = TrustAnchors.Vendor.Embedded;
        var ark = all.Single(c => c.Subject.Contains($"CN=ARK-{product}", StringComparison.Ordinal));
        TrustAnchors.Vendor.AmdProductOf(ark).Should().Be(product);

        CertificateChecks.IsSignedBy(ark, ark, out var selfError).Should().BeTrue(selfError);
        selfError.Should().BeNull();
        foreach (var name in new[] { $"CN=SEV-{product}", $"CN=SEV-VLEK-{product}" })
        {
            var intermediate = all.Single(c => c.Subject.Contains(name, StringComparison.Ordinal));
            CertificateChecks.IsSignedBy(intermediate, ark, out var error).Should().BeTrue(error);
            CertificateChecks.IsCa(intermediate).Should().BeTrue();
        }
    }

    [Fact]
    public void Embedded_Intel_root_is_pinned_and_self_signed()
    {
        var root = TrustAnchors.Vendor.Embedded.Single(c => c.Subject.Contains("Intel SGX Root CA", StringComparison.Ordinal));
        TrustAnchors.Vendor.IsPinnedIntelRoot(root).Should().BeTrue();
        CertificateChecks.IsSignedBy(root, root, out var error).Should().BeTrue(error);
    }

    [Fact]
    public void A_certificate_is_not_signed_by_a_different_products_ARK()
    {
        var all = TrustAnchors.Vendor.Embedded;
        var askMilan = all.Single(c => c.Subject.Contains("CN=SEV-Milan", StringComparison.Ordinal));
        var arkGenoa = all.Single(c => c.Subject.Contains("CN=ARK-Genoa", StringComparison.Ordinal));

        CertificateChecks.IsSignedBy(askMilan, arkGenoa, out var error).Should().BeFalse();
        error.Should().Contain("is issued by");
    }

    [Fact]
    public void A_flipped_byte_in_the_signed_part_breaks_the_signature()
    {
        var all = TrustAnchors.Vendor.Embedded;
        var ark = all.Single(c => c.Subject.Contains("CN=ARK-Milan", StringComparison.Ordinal));
        var ask = all.Single(c => c.Subject.Contains("CN=SEV-Milan", StringComparison.Ordinal));
        var der = ask.RawData;
        der[der.Length - 600] ^= 0x01; // inside the public key of the TBS part

        var tampered = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(der);
        CertificateChecks.IsSignedBy(tampered, ark, out var error).Should().BeFalse();
        error.Should().Contain("does not verify");
    }

    private const string Sha256 = "2.16.840.1.101.3.4.2.1";
    private const string Sha384 = "2.16.840.1.101.3.4.2.2";
    private const string Mgf1 = "1.2.840.113549.1.1.8";

    private static X509Certificate2 Embedded(string commonName) =>
        TrustAnchors.Vendor.Embedded.Single(c => c.Subject.Contains($"CN={commonName},", StringComparison.Ordinal));

    /// <summary>
    /// The same certificate with its outer signatureAlgorithm and signature BIT STRING rewritten; the
    /// signed part and the signature bytes stay, so only what is rewritten can make it fail.
    /// </summary>
    private static X509Certificate2 Rewritten(X509Certificate2 certificate, Action<AsnWriter>? algorithm = null, int unusedBits = 0)
    {
        var outer = new AsnReader(certificate.RawData, AsnEncodingRules.DER).ReadSequence();
        var tbs = outer.ReadEncodedValue();
        var originalAlgorithm = outer.ReadEncodedValue();
        var signature = outer.ReadBitString(out _);
        signature[^1] &= (byte)(0xFF << unusedBits);
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteEncodedValue(tbs.Span);
            if (algorithm is null)
            {
                writer.WriteEncodedValue(originalAlgorithm.Span);
            }
            else
            {
                algorithm(writer);
            }
            writer.WriteBitString(signature, unusedBits);
        }
        return X509CertificateLoader.LoadCertificate(writer.Encode());
    }

    private static Action<AsnWriter> Pss(string hash, string maskGeneration, string maskHash, int salt) => writer =>
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier("1.2.840.113549.1.1.10");
            using (writer.PushSequence())
            {
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(hash);
                }
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 1)))
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(maskGeneration);
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier(maskHash);
                    }
                }
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 2)))
                {
                    writer.WriteInteger(salt);
                }
            }
        }
    };

    [Theory]
    [InlineData(Sha384, Mgf1, Sha384, 48, null)]
    [InlineData(Sha384, Mgf1, Sha384, 32, "RSASSA-PSS parameters are not SHA-384/MGF1-SHA-384/salt 48")]
    [InlineData(Sha384, Mgf1, Sha256, 48, "RSASSA-PSS parameters are not SHA-384/MGF1-SHA-384/salt 48")]
    [InlineData(Sha256, Mgf1, Sha384, 48, "RSASSA-PSS parameters are not SHA-384/MGF1-SHA-384/salt 48")]
    [InlineData(Sha384, "1.2.840.113549.1.1.9", Sha384, 48, "RSASSA-PSS mask generation is not MGF1")]
    public void Only_RSASSA_PSS_with_SHA_384_MGF1_SHA_384_and_salt_48_is_accepted(string hash, string maskGeneration, string maskHash, int salt, string? refusal)
    {
        var ask = Rewritten(Embedded("SEV-Milan"), Pss(hash, maskGeneration, maskHash, salt));

        var verified = CertificateChecks.IsSignedBy(ask, Embedded("ARK-Milan"), out var error);

        verified.Should().Be(refusal is null, error);
        error.Should().Be(refusal is null ? null : $"cannot check the signature on 'SEV-Milan': {refusal}");
    }

    [Fact]
    public void A_signature_algorithm_the_vendors_do_not_use_is_refused_by_its_OID()
    {
        var ask = Rewritten(Embedded("SEV-Milan"), writer =>
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.2.840.113549.1.1.11"); // sha256WithRSAEncryption
                writer.WriteNull();
            }
        });

        CertificateChecks.IsSignedBy(ask, Embedded("ARK-Milan"), out var error).Should().BeFalse();
        error.Should().Be("cannot check the signature on 'SEV-Milan': unsupported signature algorithm 1.2.840.113549.1.1.11");
    }

    [Fact]
    public void A_signature_BIT_STRING_with_unused_bits_is_refused()
    {
        var ask = Rewritten(Embedded("SEV-Milan"), unusedBits: 1);

        CertificateChecks.IsSignedBy(ask, Embedded("ARK-Milan"), out var error).Should().BeFalse();
        error.Should().Be("cannot check the signature on 'SEV-Milan': signature BIT STRING has unused bits");
    }

    [Fact]
    public void The_first_signer_search_reports_the_first_candidates_reason_when_none_signs()
    {
        var ask = Embedded("SEV-Milan");
        var genoa = Embedded("ARK-Genoa");

        CertificateChecks.FirstSigner(ask, [genoa, Embedded("ARK-Turin")], out var error).Should().BeNull();
        error.Should().Be($"'SEV-Milan' is issued by '{ask.Issuer}', not by '{genoa.Subject}'");
        CertificateChecks.FirstSigner(ask, [genoa, Embedded("ARK-Milan")], out var found).Should().BeSameAs(Embedded("ARK-Milan"));
        found.Should().BeNull();
    }

    [Fact]
    public void A_certificate_is_valid_on_its_first_and_last_second_and_not_a_second_outside()
    {
        var ark = Embedded("ARK-Milan");
        var notBefore = new DateTimeOffset(ark.NotBefore.ToUniversalTime());
        var notAfter = new DateTimeOffset(ark.NotAfter.ToUniversalTime());

        string[] Check(DateTimeOffset at)
        {
            var result = new VerificationResult();
            CertificateChecks.CheckValidity(ark, at, result);
            return [.. result.Errors];
        }

        Check(notBefore).Should().BeEmpty();
        Check(notAfter).Should().BeEmpty();
        Check(notBefore.AddSeconds(-1)).Should().ContainSingle().Which.Should().StartWith("'ARK-Milan' is not valid before ");
        Check(notAfter.AddSeconds(1)).Should().ContainSingle().Which.Should().StartWith("'ARK-Milan' expired at ");
    }
}
