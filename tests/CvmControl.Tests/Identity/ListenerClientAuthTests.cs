using System.Net;
using CvmControl.Api.V1;
using CvmControl.Identity;
using CvmControl.Systemd;
using CvmControl.Tests.Http;
using CvmControl.Tests.Metrics;
using CvmControl.Tests.Systemd;

namespace CvmControl.Tests.Identity;

/// <summary>
/// With client authentication on: what the file system guards (local sockets, the probe) needs no
/// certificate, HTTPS still does, and both kinds of refusal are counted.
/// </summary>
public sealed class ListenerClientAuthTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private readonly NotifyReceiver _manager = new();
    private readonly System.Security.Cryptography.X509Certificates.X509Certificate2 _owner = TestPki.SelfSignedClient("owner");
    private LoopbackDaemon _daemon = null!;

    private string Socket => _dir.Combine("api.sock");

    public async Task InitializeAsync() =>
        _daemon = await LoopbackDaemon.StartAsync(
            configure: s => s with { AllowedClientKeys = [KeyPin.Of(_owner)], UnixSocket = Socket },
            systemd: new SystemdEnvironment { NotifySocket = _manager.Path, Watchdog = TimeSpan.FromMilliseconds(400) });

    [Fact]
    public async Task The_probe_and_the_unix_socket_answer_without_a_client_certificate()
    {
        await _manager.WaitForAsync("READY=1");
        await _manager.WaitForAsync("WATCHDOG=1", occurrences: 2);
        using var local = SocketClients.Unix(Socket);

        (await local.DaemonStatus()).Should().Be(ApiStatus.Bootstrap);
        await (await local.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Forbidden);
        using var owner = TlsClient.Create(_daemon.Url, _owner);
        (await owner.DaemonStatus()).Should().Be(ApiStatus.Bootstrap);
    }

    [Fact]
    public async Task Refusals_at_the_handshake_and_at_a_request_are_counted_and_the_metrics_need_an_allowed_client()
    {
        // A key that is not pinned passes the handshake and is refused at the request (403).
        using var stranger = TlsClient.Create(_daemon.Url, TestPki.SelfSignedClient("stranger"));
        await (await stranger.GetAsync(new Uri("/metrics", UriKind.Relative))).ShouldBe(HttpStatusCode.Forbidden);
        // No certificate at all is refused at the handshake: one connection, over TLS 1.2 so that the
        // refusal ends the handshake itself (an HTTP client would retry on fresh connections).
        using (var anonymous = new System.Net.Sockets.TcpClient())
        {
            await anonymous.ConnectAsync(IPAddress.Loopback, _daemon.Url.Port);
            using var tls = new System.Net.Security.SslStream(anonymous.GetStream(), false, (_, _, _, _) => true);
            var exchange = async () =>
            {
                await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
                {
                    TargetHost = "cvm.test",
                    EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12,
                });
                await tls.WriteAsync("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
                if (await tls.ReadAsync(new byte[256]) == 0)
                {
                    throw new IOException("closed");
                }
            };
            // The client may learn of the refusal during its handshake or only at its first read.
            await exchange.Should().ThrowAsync<Exception>();
        }
        using var owner = TlsClient.Create(_daemon.Url, _owner);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        IReadOnlyDictionary<string, double> samples;
        do
        {
            samples = TestMetrics.Samples(await owner.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
        }
        while (!samples.ContainsKey("""cvm_control_tls_handshake_failures_total{listener="tcp",reason="client_certificate_refused"}""")
            && DateTime.UtcNow < deadline && await Task.Delay(50).ContinueWith(_ => true));

        samples.Should().Contain("""cvm_control_client_auth_refusals_total{stage="request"}""", 1);
        samples.Should().Contain("""cvm_control_client_auth_refusals_total{stage="handshake"}""", 1);
        samples.Should().Contain("""cvm_control_tls_handshake_failures_total{listener="tcp",reason="client_certificate_refused"}""", 1);
    }

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        _manager.Dispose();
        _dir.Dispose();
    }
}
