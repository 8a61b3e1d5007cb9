using System.Net;
using System.Security.Cryptography.X509Certificates;
using CvmControl.Identity;
using CvmControl.Tests.Identity;

namespace CvmControl.Tests.Http;

/// <summary>
/// Client authentication on the real server: Kestrel, TLS handshakes on loopback, files on disk in
/// spiffe-helper's names. Handshake refusals are seen by the client as a failed request and by the
/// daemon as one log line naming what was presented.
/// </summary>
public sealed class MutualTlsTests : IAsyncLifetime
{
    private const string Owner = "spiffe://example.org/owner";

    private static readonly X509Certificate2 Root = TestPki.Root("example.org root", spiffe: "spiffe://example.org");
    private static readonly X509Certificate2 Intermediate = TestPki.Intermediate(Root, "example.org intermediate");
    private static readonly X509Certificate2 OtherRoot = TestPki.Root("other.org root", spiffe: "spiffe://other.org");

    private readonly TempDir _files = new();
    private LoopbackDaemon _daemon = null!;

    private string Bundle => _files.Combine("svid_bundle.pem");

    public Task InitializeAsync()
    {
        File.WriteAllText(Bundle, TestPki.CertificatePem(Root));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_daemon is not null)
        {
            await _daemon.DisposeAsync();
        }
        _files.Dispose();
    }

    private async Task StartSpiffe(params string[] allowed) =>
        _daemon = await LoopbackDaemon.StartAsync(configure: s => s with
        {
            ClientCaFile = Bundle,
            AllowedClients = [.. allowed.Select(a => SpiffeIdPattern.TryParse(a, out _)!)],
        });

    private async Task StartPinned(params X509Certificate2[] allowed) =>
        _daemon = await LoopbackDaemon.StartAsync(configure: s => s with { AllowedClientKeys = [.. allowed.Select(KeyPin.Of)] });

    private async Task<HttpResponseMessage> Get(X509Certificate2? client, params X509Certificate2[] intermediates)
    {
        using var http = TlsClient.Create(_daemon.Url, client, intermediates);
        return await http.GetAsync(new Uri("/api/v1/status", UriKind.Relative));
    }

    private async Task ShouldBeRefusedAtHandshake(X509Certificate2? client, string logged, params X509Certificate2[] intermediates)
    {
        var act = () => Get(client, intermediates);

        await act.Should().ThrowAsync<HttpRequestException>();
        var log = await _daemon.WaitForLog("TLS handshake refused for 127.0.0.1:");
        log.Should().Contain(logged);
    }

    [Fact]
    public async Task An_allowed_svid_gets_through()
    {
        await StartSpiffe(Owner);
        using var owner = TestPki.Svid(Intermediate, Owner);

        var response = await Get(owner, Intermediate);

        await response.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task An_svid_under_an_allowed_prefix_gets_through_over_tls_1_2_too()
    {
        await StartSpiffe("spiffe://example.org/ops/*");
        using var alice = TestPki.Svid(Root, "spiffe://example.org/ops/alice");
        using var http = TlsClient.Create(_daemon.Url, alice, protocols: System.Security.Authentication.SslProtocols.Tls12);

        var response = await http.GetAsync(new Uri("/api/v1/status", UriKind.Relative));

        await response.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_valid_svid_that_is_not_allowed_gets_403_naming_its_id_on_every_route()
    {
        await StartSpiffe(Owner);
        using var intruder = TestPki.Svid(Root, "spiffe://example.org/intruder");
        using var http = TlsClient.Create(_daemon.Url, intruder);

        var status = await http.Get("/api/v1/status");
        var bootstrap = await http.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes);
        var unknown = await http.Get("/api/v1/nothing-here");

        foreach (var response in new[] { status, bootstrap, unknown })
        {
            await response.ShouldBe(HttpStatusCode.Forbidden);
            var error = await response.ErrorOf();
            error.Error.Should().Be("client not allowed");
            error.Detail.Should().Be($"spiffe://example.org/intruder is not allowed by --allow-client, and its key {TestPki.PinOf(intruder)} is not among the --allow-client-key pins");
        }
        _daemon.Volumes.Calls.Should().BeEmpty("nothing behind the gate ran");
    }

    [Fact]
    public async Task A_refusal_is_logged_once_per_connection()
    {
        await StartSpiffe(Owner);
        using var intruder = TestPki.Svid(Root, "spiffe://example.org/intruder");
        using (var http = TlsClient.Create(_daemon.Url, intruder))
        {
            for (var i = 0; i < 3; i++)
            {
                (await http.Get("/api/v1/status")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
            }
        }
        using (var again = TlsClient.Create(_daemon.Url, intruder))
        {
            (await again.Get("/api/v1/status")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        }

        await _daemon.WaitForLog("spiffe://example.org/intruder is not allowed", occurrences: 2);
        _daemon.CountOf("spiffe://example.org/intruder is not allowed").Should().Be(2, "two connections, one line each");
    }

    [Fact]
    public async Task No_client_certificate_is_refused_at_the_handshake()
    {
        await StartSpiffe(Owner);

        await ShouldBeRefusedAtHandshake(null, "which presented no certificate: no client certificate was presented");
    }

    public static TheoryData<string, string> BadSvids => new()
    {
        { "two URI SANs", "it has 2 URI SANs (spiffe://example.org/owner, spiffe://example.org/admin)" },
        { "CA:true leaf", "is a CA certificate (basicConstraints CA:TRUE)" },
        { "uppercase trust domain", "its URI SAN \"spiffe://Example.org/owner\" is not a valid SPIFFE ID: it has an uppercase letter ('E') in its trust domain" },
        { "dot-dot segment", "its URI SAN \"spiffe://example.org/ops/../owner\" is not a valid SPIFFE ID: it has a '..' path segment" },
        { "query", "its URI SAN \"spiffe://example.org/owner?admin=1\" is not a valid SPIFFE ID: it has a query ('?')" },
        { "another trust domain, its own CA", "which presented spiffe://other.org/owner (sha256//" },
        { "another trust domain, our CA", "its trust domain other.org is not one that --allow-client names (example.org)" },
        { "expired", "the client certificate expired at" },
        { "not yet valid", "the client certificate is not valid before" },
        { "chain to a different bundle", "its chain does not lead to a root in the --client-ca bundle" },
        { "intermediate that is not a CA", "certificate 2 of its chain ('CN=not a CA') issued a certificate but is not a CA (basicConstraints)" },
        { "100-certificate chain", "it presented 100 certificates; at most 8 are accepted" },
    };

    [Theory]
    [MemberData(nameof(BadSvids))]
    public async Task Bad_client_certificates_are_refused_at_the_handshake_with_a_log_line(string @case, string logged)
    {
        await StartSpiffe(Owner);
        var (leaf, chain) = BadSvid(@case);

        await ShouldBeRefusedAtHandshake(leaf, logged, [.. chain]);

        // And the daemon goes on serving the owner.
        using var owner = TestPki.Svid(Root, Owner);
        await (await Get(owner)).ShouldBe(HttpStatusCode.OK);
    }

    private static (X509Certificate2 Leaf, List<X509Certificate2> Chain) BadSvid(string @case)
    {
        var now = TestPki.Now;
        switch (@case)
        {
            case "two URI SANs":
                return (TestPki.Issue(TestPki.SvidSpec(Owner, "spiffe://example.org/admin"), Root), []);
            case "CA:true leaf":
                return (TestPki.Issue(TestPki.SvidSpec(Owner) with { CertificateAuthority = true, KeyUsage = X509KeyUsageFlags.DigitalSignature }, Root), []);
            case "uppercase trust domain":
                return (TestPki.Svid(Root, "spiffe://Example.org/owner"), []);
            case "dot-dot segment":
                return (TestPki.Svid(Root, "spiffe://example.org/ops/../owner"), []);
            case "query":
                return (TestPki.Svid(Root, "spiffe://example.org/owner?admin=1"), []);
            case "another trust domain, its own CA":
                return (TestPki.Svid(OtherRoot, "spiffe://other.org/owner"), []);
            case "another trust domain, our CA":
                return (TestPki.Svid(Root, "spiffe://other.org/owner"), []);
            case "expired":
                return (TestPki.Svid(Root, Owner, notBefore: now.AddDays(-2), notAfter: now.AddDays(-1)), []);
            case "not yet valid":
                return (TestPki.Svid(Root, Owner, notBefore: now.AddDays(1), notAfter: now.AddDays(2)), []);
            case "chain to a different bundle":
                var otherIntermediate = TestPki.Intermediate(OtherRoot, "other.org intermediate");
                return (TestPki.Svid(otherIntermediate, Owner), [otherIntermediate]);
            case "intermediate that is not a CA":
                var notCa = TestPki.Intermediate(Root, "not a CA", ca: false);
                return (TestPki.Svid(notCa, Owner), [notCa]);
            case "100-certificate chain":
                var chain = new List<X509Certificate2>();
                var issuer = Root;
                for (var i = 0; i < 99; i++)
                {
                    issuer = TestPki.Intermediate(issuer, $"level {i}");
                    chain.Insert(0, issuer);
                }
                return (TestPki.Svid(issuer, Owner), chain);
            default:
                throw new ArgumentOutOfRangeException(nameof(@case), @case, null);
        }
    }

    [Fact]
    public async Task A_pinned_self_signed_key_gets_through_and_another_gets_403_naming_its_pin()
    {
        using var owner = TestPki.SelfSignedClient("owner");
        using var stranger = TestPki.SelfSignedClient("stranger");
        await StartPinned(owner);

        await (await Get(owner)).ShouldBe(HttpStatusCode.OK);
        var refused = await Get(stranger);

        await refused.ShouldBe(HttpStatusCode.Forbidden);
        (await refused.ErrorOf()).Detail.Should().Be($"the key {TestPki.PinOf(stranger)} is not among the --allow-client-key pins");
        await _daemon.WaitForLog($"the key {TestPki.PinOf(stranger)} is not among the --allow-client-key pins");
    }

    [Fact]
    public async Task With_pinned_keys_no_certificate_is_still_refused_at_the_handshake()
    {
        using var owner = TestPki.SelfSignedClient("owner");
        await StartPinned(owner);

        await ShouldBeRefusedAtHandshake(null, "no client certificate was presented");
    }

    [Fact]
    public async Task A_bundle_deleted_while_running_keeps_the_last_good_roots()
    {
        await StartSpiffe(Owner);
        using var owner = TestPki.Svid(Root, Owner);

        File.Delete(Bundle);
        await _daemon.WaitForLog($"{Bundle}: no such file");

        await (await Get(owner)).ShouldBe(HttpStatusCode.OK);
        _daemon.Log.Should().Contain($"Keeping the --client-ca {Bundle} applied at");
    }

    [Fact]
    public async Task A_rotated_bundle_trusts_the_new_root_for_new_handshakes()
    {
        await StartSpiffe(Owner);
        using var fromOther = TestPki.Svid(OtherRoot, Owner);
        await ShouldBeRefusedAtHandshake(fromOther, "its chain does not lead to a root in the --client-ca bundle");

        File.WriteAllText(Bundle, TestPki.CertificatePem(Root, OtherRoot));
        await _daemon.WaitForLog($"Reloaded --client-ca {Bundle}: client certificates now chain to 2 certificates");

        await (await Get(fromOther)).ShouldBe(HttpStatusCode.OK);
    }
}
