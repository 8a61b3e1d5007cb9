using System.Net;
using System.Text.Json;
using CvmControl.Attestation.Client;
using CvmControl.Attestation.Verification.Snp;
using CvmControl.Cli;
using CvmControl.Identity;
using CvmControl.Tests.Identity;
using CvmControl.Tests.Attestation.Fakes;
using CvmControl.Tests.Fakes;
using CvmControl.Tests.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CvmControl.Tests.Attestation.Client;

/// <summary>
/// <c>cvm-control verify --url</c> end to end: the real daemon on loopback HTTPS, its evidence from a
/// fake configfs-tsm whose "PSP" is a fake AMD that signs whatever report data the daemon writes.
/// </summary>
public sealed class OnlineVerifyTests : IAsyncLifetime
{
    private readonly FakeSnpReport _amd = new("Genoa");
    private LoopbackDaemon _daemon = null!;
    private FakeTsm _tsm = null!;
    private Uri _url = null!;

    public async Task InitializeAsync()
    {
        _tsm = new FakeTsm
        {
            Provider = "sev_guest",
            Outblob = inblob => _amd.Create(inblob),
            Auxblob = _ => FakeSnpReport.CertificateTable(true, (SnpCertificateTable.Vcek, _amd.Vcek.RawData)),
        };
        _daemon = await LoopbackDaemon.StartAsync(_tsm);
        _url = _daemon.Url;
    }

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        _amd.Dispose();
    }

    private async Task<(int Exit, JsonElement Json, string Stdout)> Verify(Uri url, params string[] extra)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await CvmControlCommand.InvokeAsync(
            ["verify", "--url", url.GetLeftPart(UriPartial.Authority), .. extra],
            _ => null,
            stdout,
            stderr,
            (_, _) => throw new InvalidOperationException("the daemon must not start"),
            () => new VerifyRunner(_amd.Anchors, TimeProvider.System, new AttestationFetcher(TimeSpan.FromSeconds(20))));
        stderr.ToString().Should().BeEmpty();
        var text = stdout.ToString();
        return (exit, extra.Contains("--json") ? JsonDocument.Parse(text).RootElement.Clone() : default, text);
    }

    [Fact]
    public async Task Verifies_a_daemon_whose_evidence_binds_this_clients_nonce_to_the_key_it_saw()
    {
        var (exit, json, _) = await Verify(_url, "--json");

        json.GetProperty("errors").EnumerateArray().Should().BeEmpty();
        exit.Should().Be(0);
        json.GetProperty("verified").GetBoolean().Should().BeTrue();
        json.GetProperty("kind").GetString().Should().Be("sev-snp");
        json.GetProperty("product").GetString().Should().Be("Genoa");
        json.GetProperty("signing_key").GetString().Should().Be("vcek");
        var certificate = _daemon.App.Services.GetRequiredService<CvmControl.Identity.ServerIdentity>().Current.Certificate;
        var spki = CvmControl.Attestation.AttestationBinding.SpkiSha256(certificate);
        json.GetProperty("tls_spki_sha256").GetString().Should().Be(Convert.ToHexStringLower(spki));
        json.GetProperty("pinned_pubkey").GetString().Should().Be($"sha256//{Convert.ToBase64String(spki)}");
    }

    [Fact]
    public async Task Each_run_sends_a_fresh_32_byte_nonce()
    {
        await Verify(_url, "--json");
        await Verify(_url, "--json");

        // The report data is a hash of the nonce, so two different inblobs mean two different nonces.
        _tsm.Inblobs.Should().HaveCount(2);
        _tsm.Inblobs.Distinct(new ByteArrayComparer()).Should().HaveCount(2);
    }

    [Fact]
    public async Task Print_pin_prints_only_the_curl_pin_on_success()
    {
        var (exit, _, stdout) = await Verify(_url, "--print-pin");

        exit.Should().Be(0);
        stdout.Should().MatchRegex("^sha256//[A-Za-z0-9+/]{43}=\n$");
    }

    [Fact]
    public async Task Fails_through_a_TLS_terminating_proxy_even_though_it_relays_genuine_evidence()
    {
        await using var proxy = new TlsTerminatingProxy(_url);

        var (exit, json, _) = await Verify(proxy.Url, "--json", "--print-pin");

        exit.Should().Be(1);
        json.GetProperty("verified").GetBoolean().Should().BeFalse();
        var errors = json.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
        errors.Should().Contain(e => e.StartsWith("REPORT_DATA does not match the expected value", StringComparison.Ordinal));
        errors.Should().Contain(e => e.Contains("something between client and daemon terminates TLS", StringComparison.Ordinal));
        // The genuine evidence itself was fine: chain and signature checks raised nothing.
        errors.Should().HaveCount(2);
        json.GetProperty("tls_spki_sha256").GetString().Should().Be(Convert.ToHexStringLower(CvmControl.Attestation.AttestationBinding.SpkiSha256(proxy.Certificate)));
    }

    [Fact]
    public async Task Fails_when_the_expected_measurement_differs()
    {
        var (exit, json, _) = await Verify(_url, "--json", "--expected-measurement", new string('a', 96));

        exit.Should().Be(1);
        json.GetProperty("errors").EnumerateArray().Should().ContainSingle().Which.GetString().Should().StartWith("MEASUREMENT does not match");
    }

    [Fact]
    public async Task Passes_with_the_expected_measurement()
    {
        var (exit, _, _) = await Verify(_url, "--expected-measurement", Convert.ToHexStringLower(FakeSnpReport.Measurement));

        exit.Should().Be(0);
    }

    [Fact]
    public async Task Fails_with_the_daemons_reason_when_it_has_no_provider()
    {
        _tsm.Present = false;

        var (exit, json, _) = await Verify(_url, "--json");

        exit.Should().Be(1);
        json.GetProperty("errors")[0].GetString().Should().Contain("501").And.Contain("no attestation provider");
    }

    [Fact]
    public async Task Fails_cleanly_when_nothing_listens()
    {
        var closed = new Uri($"https://127.0.0.1:{FreePort()}/");

        var (exit, json, _) = await Verify(closed, "--json");

        exit.Should().Be(1);
        json.GetProperty("errors")[0].GetString().Should().StartWith("cannot fetch evidence from");
    }

    [Fact]
    public async Task Verifies_a_daemon_that_requires_a_client_certificate_when_given_one()
    {
        using var files = new TempDir();
        using var client = TestPki.SelfSignedClient("owner");
        File.WriteAllText(files.Combine("owner.pem"), TestPki.CertificatePem(client));
        File.WriteAllText(files.Combine("owner.key"), TestPki.Sec1Pem(client));
        await using var daemon = await LoopbackDaemon.StartAsync(_tsm, s => s with { AllowedClientKeys = [KeyPin.Of(client)] });

        var (exit, json, _) = await Verify(daemon.Url, "--json", "--client-cert", files.Combine("owner.pem"), "--client-key", files.Combine("owner.key"));
        var (refusedExit, refused, _) = await Verify(daemon.Url, "--json");

        json.GetProperty("errors").EnumerateArray().Should().BeEmpty();
        exit.Should().Be(0);
        refusedExit.Should().Be(1);
        refused.GetProperty("errors")[0].GetString().Should().StartWith("cannot fetch evidence from")
            .And.EndWith("(if the daemon requires client authentication, give --client-cert and --client-key)");
    }

    [Fact]
    public async Task Verifies_a_daemon_before_and_after_its_certificate_files_rotate()
    {
        using var files = new TempDir();
        using var root = TestPki.Root();
        using var first = TestPki.Server(root, "first");
        using var second = TestPki.Server(root, "second");
        File.WriteAllText(files.Combine("svid.pem"), TestPki.CertificatePem(first));
        File.WriteAllText(files.Combine("svid_key.pem"), TestPki.Pkcs8Pem(first));
        await using var daemon = await LoopbackDaemon.StartAsync(_tsm, s => s with { TlsCertFile = files.Combine("svid.pem"), TlsKeyFile = files.Combine("svid_key.pem") });

        var (beforeExit, before, _) = await Verify(daemon.Url, "--json");
        File.WriteAllText(files.Combine("svid.pem"), TestPki.CertificatePem(second));
        File.WriteAllText(files.Combine("svid_key.pem"), TestPki.Pkcs8Pem(second));
        await daemon.WaitForLog("Reloaded --tls-cert");
        var (afterExit, after, _) = await Verify(daemon.Url, "--json");

        beforeExit.Should().Be(0);
        before.GetProperty("pinned_pubkey").GetString().Should().Be(TestPki.PinOf(first));
        after.GetProperty("errors").EnumerateArray().Should().BeEmpty();
        afterExit.Should().Be(0);
        after.GetProperty("pinned_pubkey").GetString().Should().Be(TestPki.PinOf(second));
    }

    [Theory]
    [InlineData(new[] { "--evidence", "/x", "--client-cert", "/c.pem" }, "--client-cert and --client-key are for online checks (--url)")]
    [InlineData(new[] { "--url", "https://127.0.0.1:1", "--client-key", "/k.pem" }, "--client-key needs --client-cert")]
    [InlineData(new[] { "--url", "https://127.0.0.1:1", "--client-cert", "/nonexistent/c.pem" }, "--client-cert: /nonexistent/c.pem: no such file")]
    public async Task Client_certificate_misuse_is_a_usage_error(string[] args, string message)
    {
        var stderr = new StringWriter();
        var exit = await CvmControlCommand.InvokeAsync(["verify", .. args], _ => null, new StringWriter(), stderr, (_, _) => Task.FromResult(0));

        exit.Should().Be(2);
        stderr.ToString().Should().Be($"cvm-control verify: {message}\n");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => obj.Length == 0 ? 0 : obj[0];
    }
}
