using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CvmControl.Api.V1;
using CvmControl.Json;
using CvmControl.Tests.Fakes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace CvmControl.Tests.Http;

/// <summary>The real server: Kestrel, HTTPS with the generated certificate, on 127.0.0.1 and an ephemeral port.</summary>
public sealed class KestrelHttpsTests : IAsyncLifetime
{
    private LoopbackDaemon _daemon = null!;
    private WebApplication _app = null!;
    private FakeVolumeBackend _volumes = null!;
    private Uri _base = null!;

    public async Task InitializeAsync()
    {
        _daemon = await LoopbackDaemon.StartAsync();
        (_app, _volumes, _base) = (_daemon.App, _daemon.Volumes, _daemon.Url);
    }

    private HttpClient Client(Action<X509Certificate2, SslProtocols>? seen = null, SslProtocols protocols = SslProtocols.None)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = protocols,
                // Self-signed by design; capture what the server presented instead of trusting blindly.
                RemoteCertificateValidationCallback = (sender, certificate, _, _) =>
                {
                    seen?.Invoke(new X509Certificate2(certificate!), ((SslStream)sender).SslProtocol);
                    return true;
                },
            },
        };
        return new HttpClient(handler) { BaseAddress = _base };
    }

    [Fact]
    public async Task Serves_the_api_over_https_on_loopback()
    {
        _base.Scheme.Should().Be("https");
        using var client = Client();

        (await client.DaemonStatus()).Should().Be(ApiStatus.Bootstrap);
    }

    [Fact]
    public async Task Presents_a_fresh_ecdsa_p256_certificate_with_the_configured_name()
    {
        X509Certificate2? certificate = null;
        using var client = Client((c, _) => certificate = c);

        await client.Get("/api/v1/status");

        certificate.Should().NotBeNull();
        certificate!.GetNameInfo(X509NameType.SimpleName, false).Should().Be("cvm.test");
        using var key = certificate.GetECDsaPublicKey();
        key.Should().NotBeNull();
        key!.ExportParameters(false).Curve.Oid.FriendlyName.Should().BeOneOf("nistP256", "ECDSA_P256");
        certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames().Should().Contain("cvm.test");
        certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages[0]!.Value.Should().Be("1.3.6.1.5.5.7.3.1");
        certificate.NotAfter.Should().BeAfter(DateTime.UtcNow.AddDays(300));
    }

    [Fact]
    public async Task Negotiates_tls_1_2_when_the_client_offers_only_that()
    {
        var negotiated = SslProtocols.None;
        using var client = Client((_, p) => negotiated = p, SslProtocols.Tls12);

        (await client.Get("/api/v1/status")).StatusCode.Should().Be(HttpStatusCode.OK);
        negotiated.Should().Be(SslProtocols.Tls12);
    }

    [Fact]
    public async Task Negotiates_http2_through_alpn_and_still_serves_http_1_1()
    {
        using var client = Client();

        using var h2 = new HttpRequestMessage(HttpMethod.Get, "/api/v1/status") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var h2Response = await client.SendAsync(h2);
        using var h1 = new HttpRequestMessage(HttpMethod.Get, "/api/v1/status") { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var h1Response = await client.SendAsync(h1);

        h2Response.StatusCode.Should().Be(HttpStatusCode.OK);
        h2Response.Version.Should().Be(HttpVersion.Version20);
        h1Response.StatusCode.Should().Be(HttpStatusCode.OK);
        h1Response.Version.Should().Be(HttpVersion.Version11);
    }

    [Fact]
    public async Task Refuses_plain_http()
    {
        using var plain = new HttpClient { BaseAddress = new UriBuilder(_base) { Scheme = "http" }.Uri, Timeout = TimeSpan.FromSeconds(10) };

        var act = () => plain.GetAsync(new Uri("/api/v1/status", UriKind.Relative));

        await act.Should().ThrowAsync<HttpRequestException>();
    }

    [Fact]
    public async Task Stopping_waits_for_the_running_step_and_tells_the_operation_to_stop()
    {
        _volumes.Hold("data");
        using var client = Client();
        await (await client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);

        var stop = _app.StopAsync();
        var told = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (_app.Services.GetRequiredService<CvmControl.Operations.BackgroundOperations>().Stopping.Register(() => told.TrySetResult()))
        {
            await told.Task.WaitAsync(TimeSpan.FromSeconds(20));
        }
        stop.IsCompleted.Should().BeFalse("the operation was told to stop, and its running step gets time to finish");

        _volumes.Release("data");
        await stop.WaitAsync(TimeSpan.FromSeconds(20));
        var tracker = _app.Services.GetRequiredService<CvmControl.Operations.OperationTracker>();
        tracker.BootstrapView.Status.Should().NotBe(ApiStatus.InProgress);
        _volumes.StoppingSeen.Should().BeTrue("the operation was told to stop before its next step");
    }

    [Fact]
    public async Task Attestation_binds_the_key_of_the_certificate_seen_in_the_tls_handshake()
    {
        X509Certificate2? certificate = null;
        using var client = Client((c, _) => certificate = c);
        var nonce = RandomNumberGenerator.GetBytes(32);

        var response = await client.Get($"/api/v1/attestation?nonce={Convert.ToHexStringLower(nonce)}");

        await response.ShouldBe(HttpStatusCode.OK);
        var body = (await response.Content.ReadFromJsonAsync(CvmJsonContext.Default.AttestationResponse))!;
        certificate.Should().NotBeNull();
        var seenSpki = SHA256.HashData(certificate!.PublicKey.ExportSubjectPublicKeyInfo());
        body.TlsSpkiSha256.Should().Be(Convert.ToHexStringLower(seenSpki));
        body.ReportData.Should().Be(Convert.ToHexStringLower(
            SHA512.HashData([.. "cvm-control-attestation-v1"u8, .. nonce, .. seenSpki])));
        FakeTsm.ReportDataOfSnp(Convert.FromBase64String(body.Evidence)).Should().Equal(Convert.FromHexString(body.ReportData));
    }

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
    }
}
