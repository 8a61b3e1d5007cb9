using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CvmControl.Identity;

namespace CvmControl.Tests.Identity;

public sealed class SpiffeIdTests
{
    [Theory]
    [InlineData("spiffe://example.org", "example.org", "")]
    [InlineData("spiffe://example.org/owner", "example.org", "/owner")]
    [InlineData("spiffe://prod.example-corp_1.org/ns/ops/sa/Owner.v2-x_y", "prod.example-corp_1.org", "/ns/ops/sa/Owner.v2-x_y")]
    [InlineData("spiffe://td/a/..b/c.", "td", "/a/..b/c.")]
    public void Parses_valid_ids_without_changing_them(string text, string trustDomain, string path)
    {
        var id = SpiffeId.TryParse(text, out var error);

        error.Should().BeNull();
        id!.TrustDomain.Should().Be(trustDomain);
        id.Path.Should().Be(path);
        id.ToString().Should().Be(text);
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("https://example.org/owner", "does not start with spiffe://")]
    [InlineData("SPIFFE://example.org/owner", "the scheme must be lowercase spiffe://")]
    [InlineData("spiffe:///owner", "has no trust domain")]
    [InlineData("spiffe://Example.org/owner", "has an uppercase letter ('E') in its trust domain; trust domains are lowercase")]
    [InlineData("spiffe://example.org:8443/owner", "has a port in its trust domain")]
    [InlineData("spiffe://user@example.org/owner", "has user info in its trust domain")]
    [InlineData("spiffe://exa mple.org/owner", "has a character the trust domain may not hold (' ')")]
    [InlineData("spiffe://example.org/owner/../admin", "has a '..' path segment")]
    [InlineData("spiffe://example.org/./owner", "has a '.' path segment")]
    [InlineData("spiffe://example.org//owner", "has an empty path segment ('//')")]
    [InlineData("spiffe://example.org/owner/", "ends with '/'")]
    [InlineData("spiffe://example.org/", "ends with '/'")]
    [InlineData("spiffe://example.org/owner?admin=1", "has a query ('?')")]
    [InlineData("spiffe://example.org?x", "has a query ('?')")]
    [InlineData("spiffe://example.org/owner#frag", "has a fragment ('#')")]
    [InlineData("spiffe://example.org/own%65r", "has a percent-encoded character; SPIFFE IDs are plain ASCII")]
    [InlineData("spiffe://example.org/own*", "has a character a path segment may not hold ('*')")]
    [InlineData("spiffe://example.org/ownér", "has a character a path segment may not hold (U+00E9)")]
    public void Refuses_ids_that_break_the_spiffe_id_rules(string text, string reason)
    {
        SpiffeId.TryParse(text, out var error).Should().BeNull();
        error.Should().Be(reason);
    }

    [Fact]
    public void Accepts_2048_bytes_and_refuses_one_more()
    {
        var prefix = "spiffe://example.org/";
        var longest = prefix + new string('a', SpiffeId.MaxLength - prefix.Length);

        SpiffeId.TryParse(longest, out _).Should().NotBeNull();
        SpiffeId.TryParse(longest + "a", out var error).Should().BeNull();
        error.Should().Be("is longer than 2048 bytes");
    }

    [Fact]
    public void Refuses_a_trust_domain_longer_than_255_bytes()
    {
        SpiffeId.TryParse($"spiffe://{new string('a', 256)}/x", out var error).Should().BeNull();
        error.Should().Be("has a trust domain longer than 255 bytes");
    }
}

public sealed class SpiffeIdPatternTests
{
    private static SpiffeId Id(string text) => SpiffeId.Parse(text);

    [Fact]
    public void An_exact_id_matches_only_itself()
    {
        var pattern = SpiffeIdPattern.TryParse("spiffe://example.org/owner", out _)!;

        pattern.Matches(Id("spiffe://example.org/owner")).Should().BeTrue();
        pattern.Matches(Id("spiffe://example.org/owner/x")).Should().BeFalse();
        pattern.Matches(Id("spiffe://example.org/owner2")).Should().BeFalse();
        pattern.Matches(Id("spiffe://example.org/Owner")).Should().BeFalse("paths compare exactly");
        pattern.Matches(Id("spiffe://other.org/owner")).Should().BeFalse();
    }

    [Fact]
    public void A_prefix_matches_ids_below_the_path_in_the_same_trust_domain()
    {
        var pattern = SpiffeIdPattern.TryParse("spiffe://example.org/ops/*", out _)!;

        pattern.IsPrefix.Should().BeTrue();
        pattern.ToString().Should().Be("spiffe://example.org/ops/*");
        pattern.Matches(Id("spiffe://example.org/ops/alice")).Should().BeTrue();
        pattern.Matches(Id("spiffe://example.org/ops/team/bob")).Should().BeTrue();
        pattern.Matches(Id("spiffe://example.org/ops")).Should().BeFalse("the prefix itself names no workload below it");
        pattern.Matches(Id("spiffe://example.org/opsx/alice")).Should().BeFalse("a prefix ends at a segment boundary");
        pattern.Matches(Id("spiffe://other.org/ops/alice")).Should().BeFalse();
    }

    [Fact]
    public void A_trust_domain_wildcard_matches_every_workload_of_it()
    {
        var pattern = SpiffeIdPattern.TryParse("spiffe://example.org/*", out _)!;

        pattern.Matches(Id("spiffe://example.org/anything")).Should().BeTrue();
        pattern.Matches(Id("spiffe://example.org")).Should().BeFalse();
        pattern.Matches(Id("spiffe://example.org.evil/anything")).Should().BeFalse();
    }

    [Theory]
    [InlineData("spiffe://example.org/*/owner", "'*' may only end the ID, as in spiffe://example.org/path/*")]
    [InlineData("spiffe://example.org/own*", "'*' may only end the ID, as in spiffe://example.org/path/*")]
    [InlineData("spiffe://Example.org/*", "has an uppercase letter ('E') in its trust domain; trust domains are lowercase")]
    [InlineData("spiffe://example.org/../*", "has a '..' path segment")]
    public void Refuses_malformed_patterns(string text, string reason)
    {
        SpiffeIdPattern.TryParse(text, out var error).Should().BeNull();
        error.Should().Be(reason);
    }
}

public sealed class KeyPinTests
{
    [Fact]
    public void Pins_the_sha256_of_the_subject_public_key_info_as_curl_does()
    {
        using var certificate = TestPki.SelfSignedClient();

        KeyPin.Of(certificate).ToString().Should().Be(TestPki.PinOf(certificate));
    }

    [Fact]
    public void The_pin_of_a_key_does_not_depend_on_the_certificate_around_it()
    {
        using var certificate = TestPki.SelfSignedClient("one");
        using var key = certificate.GetECDsaPrivateKey()!;
        using var other = new CertificateRequest("CN=two", key, HashAlgorithmName.SHA384)
            .CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(3));

        KeyPin.Of(other).Should().Be(KeyPin.Of(certificate));
    }

    [Fact]
    public void Parses_its_own_text_back_to_an_equal_pin()
    {
        using var certificate = TestPki.SelfSignedClient();
        var text = TestPki.PinOf(certificate);

        KeyPin.TryParse(text, out var error).Should().Be(KeyPin.Of(certificate));
        error.Should().BeNull();
    }

    [Theory]
    [InlineData("")]
    [InlineData("sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("SHA256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("sha256//AAAA")]
    [InlineData("sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")]
    [InlineData("sha256//!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=;sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    public void Refuses_anything_but_one_sha256_pin(string text)
    {
        KeyPin.TryParse(text, out var error).Should().BeNull();
        error.Should().StartWith("must be sha256// and the base64 SHA-256 of a public key");
    }
}
