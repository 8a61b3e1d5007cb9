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
}
