using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using CvmControl.Identity;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;

namespace CvmControl.Tests.Identity;

public sealed class TlsEndpointTests
{
    private static ServedCertificate SelfSigned() =>
        ServedCertificate.ForStart(new CertificateWithKey(SelfSignedCertificate.Create("cvm.test", TimeProvider.System), []), TlsSetup.SelfSigned);

    private static TlsEndpoint Endpoint(ClientAuthPolicy? policy = null, ServerIdentity? server = null, params X509Certificate2[] roots) =>
        new(server ?? new ServerIdentity(SelfSigned()),
            new ClientAuthenticator(policy ?? ClientAuthPolicy.Off, roots.Length == 0 ? null : new ClientTrustBundle(roots, "bundle.pem"), TimeProvider.System),
            NullLogger<TlsEndpoint>.Instance);

    [Fact]
    public async Task Handshake_options_serve_the_current_certificate_over_tls_1_2_and_1_3_only()
    {
        var endpoint = Endpoint();

        var options = await endpoint.OnConnectionAsync(new DefaultConnectionContext());

        var certificate = endpoint.Server.Current.Certificate;
        options.ServerCertificateContext.Should().NotBeNull();
        options.ServerCertificateContext!.TargetCertificate.Thumbprint.Should().Be(certificate.Thumbprint);
        options.ServerCertificateContext.TargetCertificate.HasPrivateKey.Should().BeTrue();
        options.ServerCertificateContext.IntermediateCertificates.Should().BeEmpty("the certificate is self-signed");
        options.EnabledSslProtocols.Should().Be(SslProtocols.Tls12 | SslProtocols.Tls13);
        options.ServerCertificate.Should().BeNull("the context alone names the certificate");
    }

    [Fact]
    public async Task Every_handshake_gets_its_own_options_with_alpn_left_for_kestrel_to_fill()
    {
        var endpoint = Endpoint();

        var first = await endpoint.OnConnectionAsync(new DefaultConnectionContext());
        var second = await endpoint.OnConnectionAsync(new DefaultConnectionContext());

        second.Should().NotBeSameAs(first);
        second.ServerCertificateContext.Should().BeSameAs(first.ServerCertificateContext, "the context is built once per certificate");
        first.ApplicationProtocols.Should().BeNull();
    }

    [Fact]
    public async Task Is_ready_once_the_first_certificate_context_is_built()
    {
        var server = new ServerIdentity(SelfSigned());

        await server.Ready.WaitAsync(TimeSpan.FromSeconds(30));

        server.Ready.IsCompletedSuccessfully.Should().BeTrue();
    }

    [Fact]
    public async Task Each_connection_keeps_the_certificate_it_was_served_with_across_a_replacement()
    {
        var server = new ServerIdentity(SelfSigned());
        var endpoint = Endpoint(server: server);
        var before = new DefaultConnectionContext();
        var after = new DefaultConnectionContext();

        await endpoint.OnConnectionAsync(before);
        var next = ServedCertificate.ForReload(new CertificateWithKey(SelfSignedCertificate.Create("cvm.test", TimeProvider.System), []), "cert.pem");
        server.Replace(next);
        var options = await endpoint.OnConnectionAsync(after);

        before.Features.Get<TlsConnection>()!.Served.Should().NotBeSameAs(next);
        after.Features.Get<TlsConnection>()!.Served.Should().BeSameAs(next);
        options.ServerCertificateContext!.TargetCertificate.Thumbprint.Should().Be(next.Certificate.Thumbprint);
        next.Context.IsCompletedSuccessfully.Should().BeTrue("a reloaded certificate's context is ready before it is served");
    }

    [Fact]
    public async Task Without_client_authentication_no_client_certificate_is_asked_for()
    {
        var options = await Endpoint().OnConnectionAsync(new DefaultConnectionContext());

        options.ClientCertificateRequired.Should().BeFalse();
        options.RemoteCertificateValidationCallback.Should().BeNull();
        options.CertificateChainPolicy.Should().BeNull();
    }

    [Fact]
    public async Task With_client_authentication_a_certificate_is_required_afresh_on_every_connection()
    {
        using var root = TestPki.Root();
        var endpoint = Endpoint(new ClientAuthPolicy([SpiffeIdPattern.TryParse("spiffe://example.org/owner", out _)!], []), null, root);

        var options = await endpoint.OnConnectionAsync(new DefaultConnectionContext());

        options.ClientCertificateRequired.Should().BeTrue();
        options.AllowTlsResume.Should().BeFalse("a resumed session would skip the client certificate check");
        options.RemoteCertificateValidationCallback.Should().NotBeNull();
        options.CertificateChainPolicy!.TrustMode.Should().Be(X509ChainTrustMode.CustomRootTrust);
        options.CertificateChainPolicy.CustomTrustStore.Should().ContainSingle().Which.Thumbprint.Should().Be(root.Thumbprint);
    }

    [Fact]
    public async Task The_validation_callback_records_the_client_on_the_connection()
    {
        using var client = TestPki.SelfSignedClient();
        var endpoint = Endpoint(new ClientAuthPolicy([], [KeyPin.Of(client)]));
        var connection = new DefaultConnectionContext();

        var options = await endpoint.OnConnectionAsync(connection);
        var accepted = options.RemoteCertificateValidationCallback!(new object(), client, null, System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors);

        accepted.Should().BeTrue();
        connection.Features.Get<TlsConnection>()!.Client.Should().Be(new ClientIdentity(KeyPin.Of(client), null, Allowed: true));
    }

    [Fact]
    public async Task The_validation_callback_refuses_a_missing_certificate()
    {
        using var client = TestPki.SelfSignedClient();
        var endpoint = Endpoint(new ClientAuthPolicy([], [KeyPin.Of(client)]));
        var connection = new DefaultConnectionContext();

        var options = await endpoint.OnConnectionAsync(connection);

        options.RemoteCertificateValidationCallback!(new object(), null, null, System.Net.Security.SslPolicyErrors.RemoteCertificateNotAvailable).Should().BeFalse();
        connection.Features.Get<TlsConnection>()!.Client.Should().BeNull();
    }
}
