using System.Security.Cryptography.X509Certificates;
using CvmControl.Identity;
using Microsoft.Extensions.Time.Testing;

namespace CvmControl.Tests.Identity;

/// <summary>
/// The handshake-time decision on a client certificate, fed chains built exactly as SslStream builds
/// them: with the authenticator's own chain policy and the client's intermediates in the extra store.
/// </summary>
public sealed class ClientAuthenticatorTests
{
    private static readonly X509Certificate2 Root = TestPki.Root("example.org root", spiffe: "spiffe://example.org");
    private static readonly X509Certificate2 Intermediate = TestPki.Intermediate(Root, "example.org intermediate");
    private static readonly X509Certificate2 OtherRoot = TestPki.Root("other.org root", spiffe: "spiffe://other.org");

    private static ClientAuthPolicy Spiffe(params string[] allowed) =>
        new([.. allowed.Select(a => SpiffeIdPattern.TryParse(a, out _)!)], []);

    private static ClientAuthenticator Authenticator(ClientAuthPolicy policy, TimeProvider? time = null, params X509Certificate2[] roots) =>
        new(policy, new ClientTrustBundle(roots.Length == 0 ? [Root] : roots, "bundle.pem"), time ?? TimeProvider.System);

    private static ClientCheck Present(ClientAuthenticator authenticator, X509Certificate2? leaf, params X509Certificate2[] intermediates)
    {
        if (leaf is null)
        {
            return authenticator.Check(null, null);
        }
        using var chain = new X509Chain { ChainPolicy = authenticator.NewChainPolicy() };
        chain.ChainPolicy.ExtraStore.AddRange(intermediates);
        chain.Build(leaf);
        return authenticator.Check(leaf, chain);
    }

    /// <summary>Certificates hold whole seconds.</summary>
    private static DateTimeOffset Whole(DateTimeOffset time) => new(time.Ticks - (time.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    private static void ShouldBeRefused(ClientCheck check, string reason)
    {
        check.Identity.Should().BeNull();
        check.Refusal.Should().Match(reason);
    }

    [Fact]
    public void The_chain_policy_trusts_the_bundle_alone_and_fetches_nothing()
    {
        var policy = Authenticator(Spiffe("spiffe://example.org/owner")).NewChainPolicy();

        policy.TrustMode.Should().Be(X509ChainTrustMode.CustomRootTrust);
        policy.CustomTrustStore.Should().ContainSingle().Which.Thumbprint.Should().Be(Root.Thumbprint);
        policy.RevocationMode.Should().Be(X509RevocationMode.NoCheck);
        policy.DisableCertificateDownloads.Should().BeTrue();
        policy.ExtraStore.Should().BeEmpty();
    }

    [Fact]
    public void An_svid_with_an_allowed_id_is_allowed()
    {
        using var leaf = TestPki.Svid(Intermediate, "spiffe://example.org/owner");

        var check = Present(Authenticator(Spiffe("spiffe://example.org/owner")), leaf, Intermediate);

        check.Refusal.Should().BeNull();
        check.Identity.Should().Be(new ClientIdentity(KeyPin.Of(leaf), SpiffeId.Parse("spiffe://example.org/owner"), Allowed: true));
    }

    [Fact]
    public void An_svid_under_an_allowed_prefix_is_allowed()
    {
        using var leaf = TestPki.Svid(Root, "spiffe://example.org/ops/alice");

        Present(Authenticator(Spiffe("spiffe://example.org/owner", "spiffe://example.org/ops/*")), leaf).Identity!.Allowed.Should().BeTrue();
    }

    [Fact]
    public void A_valid_svid_whose_id_is_not_allowed_completes_the_handshake_but_is_not_allowed()
    {
        using var leaf = TestPki.Svid(Root, "spiffe://example.org/intruder");

        var check = Present(Authenticator(Spiffe("spiffe://example.org/owner")), leaf);

        check.Identity!.Allowed.Should().BeFalse();
        check.Identity.Presented.Should().Be("spiffe://example.org/intruder");
    }

    [Fact]
    public void No_certificate_is_refused()
    {
        var check = Present(Authenticator(Spiffe("spiffe://example.org/owner")), null);

        ShouldBeRefused(check, "no client certificate was presented");
        check.Presented.Should().Be("no certificate");
    }

    [Fact]
    public void A_leaf_with_two_uri_sans_is_refused()
    {
        using var leaf = TestPki.Issue(TestPki.SvidSpec("spiffe://example.org/owner", "spiffe://example.org/admin"), Root);

        var check = Present(Authenticator(Spiffe("spiffe://example.org/owner")), leaf);

        ShouldBeRefused(check, "it is not a valid X.509-SVID: it has 2 URI SANs (spiffe://example.org/owner, spiffe://example.org/admin); an X.509-SVID has exactly one");
        check.Presented.Should().StartWith("spiffe://example.org/owner spiffe://example.org/admin (sha256//");
    }

    [Fact]
    public void A_leaf_with_a_uri_san_of_another_scheme_is_refused()
    {
        using var leaf = TestPki.Issue(TestPki.SvidSpec("https://example.org/owner"), Root);

        ShouldBeRefused(Present(Authenticator(Spiffe("spiffe://example.org/owner")), leaf),
            "it is not a valid X.509-SVID: its URI SAN \"https://example.org/owner\" is not a valid SPIFFE ID: it does not start with spiffe://");
    }

    [Fact]
    public void A_leaf_that_is_a_ca_is_refused()
    {
        using var leaf = TestPki.Issue(TestPki.SvidSpec("spiffe://example.org/owner") with { CertificateAuthority = true, KeyUsage = X509KeyUsageFlags.DigitalSignature }, Root);

        ShouldBeRefused(Present(Authenticator(Spiffe("spiffe://example.org/owner")), leaf),
            "it is not a valid X.509-SVID: spiffe://example.org/owner is a CA certificate (basicConstraints CA:TRUE); an X.509-SVID leaf may not be");
    }

    [Theory]
    [InlineData(X509KeyUsageFlags.KeyCertSign)]
    [InlineData(X509KeyUsageFlags.CrlSign)]
    public void A_leaf_that_may_sign_certificates_or_crls_is_refused(X509KeyUsageFlags usage)
    {
        using var leaf = TestPki.Issue(TestPki.SvidSpec("spiffe://example.org/owner") with { KeyUsage = X509KeyUsageFlags.DigitalSignature | usage }, Root);

        ShouldBeRefused(Present(Authenticator(Spiffe("spiffe://example.org/owner")), leaf),
            "it is not a valid X.509-SVID: spiffe://example.org/owner has the keyCertSign or cRLSign key usage; an X.509-SVID leaf may not");
    }

    [Fact]
    public void An_svid_of_another_trust_domain_signed_by_its_own_ca_is_refused_for_its_chain()
    {
        using var leaf = TestPki.Svid(OtherRoot, "spiffe://other.org/owner");

        var check = Present(Authenticator(Spiffe("spiffe://example.org/owner")), leaf);

        ShouldBeRefused(check, "its chain does not lead to a root in the --client-ca bundle");
        check.Presented.Should().StartWith("spiffe://other.org/owner (sha256//");
    }

    [Fact]
    public void An_id_of_another_trust_domain_signed_by_the_bundle_is_refused_for_its_trust_domain()
    {
        using var leaf = TestPki.Svid(Root, "spiffe://other.org/owner");

        ShouldBeRefused(Present(Authenticator(Spiffe("spiffe://example.org/owner")), leaf),
            "its trust domain other.org is not one that --allow-client names (example.org), which the --client-ca bundle stands for");
    }

    [Theory]
    [InlineData("spiffe://Example.org/owner", "has an uppercase letter ('E') in its trust domain; trust domains are lowercase")]
    [InlineData("spiffe://example.org/ops/../owner", "has a '..' path segment")]
    [InlineData("spiffe://example.org/owner?admin=true", "has a query ('?')")]
    [InlineData("spiffe://example.org/owner#x", "has a fragment ('#')")]
    [InlineData("spiffe://example.org//owner", "has an empty path segment ('//')")]
    public void An_svid_whose_id_breaks_the_spiffe_id_rules_is_refused(string id, string reason)
    {
        using var leaf = TestPki.Svid(Root, id);

        ShouldBeRefused(Present(Authenticator(Spiffe("spiffe://example.org/*")), leaf),
            $"it is not a valid X.509-SVID: its URI SAN \"{id}\" is not a valid SPIFFE ID: it {reason}");
    }

    [Fact]
    public void An_id_over_2048_bytes_is_refused()
    {
        var id = "spiffe://example.org/" + new string('a', 2100);
        using var leaf = TestPki.Svid(Root, id);

        Present(Authenticator(Spiffe("spiffe://example.org/*")), leaf).Refusal.Should().EndWith("is not a valid SPIFFE ID: it is longer than 2048 bytes");
    }

    [Fact]
    public void An_expired_leaf_is_refused_with_its_expiry()
    {
        var now = Whole(TestPki.Now);
        using var leaf = TestPki.Svid(Root, "spiffe://example.org/owner", notBefore: now.AddMinutes(-50), notAfter: now.AddMinutes(-30));

        ShouldBeRefused(Present(Authenticator(Spiffe("spiffe://example.org/owner"), new FakeTimeProvider(now)), leaf),
            $"the client certificate expired at {now.AddMinutes(-30):yyyy-MM-dd'T'HH:mm:ss'Z'}");
    }

    [Fact]
    public void A_leaf_not_yet_valid_is_refused_with_its_start()
    {
        var now = Whole(TestPki.Now);
        using var leaf = TestPki.Svid(Root, "spiffe://example.org/owner", notBefore: now.AddMinutes(30), notAfter: now.AddHours(2));

        ShouldBeRefused(Present(Authenticator(Spiffe("spiffe://example.org/owner"), new FakeTimeProvider(now)), leaf),
            $"the client certificate is not valid before {now.AddMinutes(30):yyyy-MM-dd'T'HH:mm:ss'Z'}");
    }

    [Fact]
    public void Validity_is_judged_by_the_injected_clock()
    {
        var now = Whole(TestPki.Now);
        using var leaf = TestPki.Svid(Root, "spiffe://example.org/owner", notBefore: now.AddMinutes(-30), notAfter: now.AddMinutes(30));
        var time = new FakeTimeProvider(now);
        var authenticator = Authenticator(Spiffe("spiffe://example.org/owner"), time);

        Present(authenticator, leaf).Identity!.Allowed.Should().BeTrue();
        time.Advance(TimeSpan.FromHours(1));
        Present(authenticator, leaf).Refusal.Should().StartWith("the client certificate expired");
    }

    [Fact]
    public void A_chain_to_a_different_bundle_is_refused()
    {
        using var leaf = TestPki.Svid(Intermediate, "spiffe://example.org/owner");

        ShouldBeRefused(Present(Authenticator(Spiffe("spiffe://example.org/owner"), null, OtherRoot), leaf, Intermediate),
            "its chain does not lead to a root in the --client-ca bundle");
    }

    [Fact]
    public void A_chain_through_an_intermediate_that_is_not_a_ca_is_refused()
    {
        using var notCa = TestPki.Intermediate(Root, "not a CA", ca: false);
        using var leaf = TestPki.Svid(notCa, "spiffe://example.org/owner");

        ShouldBeRefused(Present(Authenticator(Spiffe("spiffe://example.org/owner")), leaf, notCa),
            "certificate 2 of its chain ('CN=not a CA') issued a certificate but is not a CA (basicConstraints)");
    }

    [Fact]
    public void A_100_certificate_chain_is_refused_before_anything_else()
    {
        var chain = new List<X509Certificate2>();
        var issuer = Root;
        for (var i = 0; i < 99; i++)
        {
            issuer = TestPki.Intermediate(issuer, $"level {i}");
            chain.Insert(0, issuer);
        }
        using var leaf = TestPki.Svid(issuer, "spiffe://example.org/owner");

        var check = Present(Authenticator(Spiffe("spiffe://example.org/owner")), leaf, [.. chain]);

        ShouldBeRefused(check, "it presented 100 certificates; at most 8 are accepted");
        check.Presented.Should().StartWith("spiffe://example.org/owner (sha256//");
        chain.ForEach(c => c.Dispose());
    }

    [Fact]
    public void An_svid_not_valid_for_client_authentication_is_refused()
    {
        using var leaf = TestPki.Issue(TestPki.SvidSpec("spiffe://example.org/owner") with { ExtendedKeyUsage = [TestPki.ServerAuth] }, Root);

        ShouldBeRefused(Present(Authenticator(Spiffe("spiffe://example.org/owner")), leaf),
            "the client certificate is not valid for client authentication (extended key usage)");
    }

    [Fact]
    public void A_replaced_bundle_applies_to_the_next_handshake()
    {
        var bundle = new ClientTrustBundle([OtherRoot], "bundle.pem");
        var authenticator = new ClientAuthenticator(Spiffe("spiffe://example.org/owner"), bundle, TimeProvider.System);
        using var leaf = TestPki.Svid(Root, "spiffe://example.org/owner");

        Present(authenticator, leaf).Refusal.Should().Be("its chain does not lead to a root in the --client-ca bundle");
        bundle.Replace([OtherRoot, Root]);
        Present(authenticator, leaf).Identity!.Allowed.Should().BeTrue();
    }

    [Fact]
    public void A_pinned_self_signed_key_is_allowed()
    {
        using var client = TestPki.SelfSignedClient();
        var authenticator = new ClientAuthenticator(new ClientAuthPolicy([], [KeyPin.Of(client)]), null, TimeProvider.System);

        var check = Present(authenticator, client);

        check.Identity.Should().Be(new ClientIdentity(KeyPin.Of(client), null, Allowed: true));
    }

    [Fact]
    public void An_unpinned_key_completes_the_handshake_but_is_not_allowed_and_is_named_by_its_pin()
    {
        using var owner = TestPki.SelfSignedClient("owner");
        using var stranger = TestPki.SelfSignedClient("stranger");
        var authenticator = new ClientAuthenticator(new ClientAuthPolicy([], [KeyPin.Of(owner)]), null, TimeProvider.System);

        var check = Present(authenticator, stranger);

        check.Identity!.Allowed.Should().BeFalse();
        check.Identity.Presented.Should().Be(TestPki.PinOf(stranger));
    }

    [Fact]
    public void With_both_modes_a_pinned_key_needs_no_chain_and_an_unpinned_self_signed_one_is_refused()
    {
        using var owner = TestPki.SelfSignedClient("owner");
        using var stranger = TestPki.SelfSignedClient("stranger");
        using var svid = TestPki.Svid(Root, "spiffe://example.org/owner");
        var authenticator = new ClientAuthenticator(
            new ClientAuthPolicy([SpiffeIdPattern.TryParse("spiffe://example.org/owner", out _)!], [KeyPin.Of(owner)]),
            new ClientTrustBundle([Root], "bundle.pem"),
            TimeProvider.System);

        Present(authenticator, owner).Identity!.Allowed.Should().BeTrue();
        Present(authenticator, svid).Identity!.Allowed.Should().BeTrue();
        Present(authenticator, stranger).Refusal.Should().Be("its chain does not lead to a root in the --client-ca bundle");
    }
}
