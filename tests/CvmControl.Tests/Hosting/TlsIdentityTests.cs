using System.Security.Authentication;
using CvmControl.Hosting;

namespace CvmControl.Tests.Hosting;

public sealed class TlsIdentityTests
{
    [Fact]
    public async Task Handshake_options_serve_the_generated_certificate_over_tls_1_2_and_1_3_only()
    {
        var tls = TlsIdentity.Create("cvm.test", TimeProvider.System);

        var options = await tls.ServerOptionsAsync();

        options.ServerCertificateContext.Should().NotBeNull();
        options.ServerCertificateContext!.TargetCertificate.Thumbprint.Should().Be(tls.Certificate.Thumbprint);
        options.ServerCertificateContext.TargetCertificate.HasPrivateKey.Should().BeTrue();
        options.ServerCertificateContext.IntermediateCertificates.Should().BeEmpty("the certificate is self-signed");
        options.EnabledSslProtocols.Should().Be(SslProtocols.Tls12 | SslProtocols.Tls13);
        options.ServerCertificate.Should().BeNull("the context alone names the certificate");
    }

    [Fact]
    public async Task Every_handshake_gets_its_own_options_with_alpn_left_for_kestrel_to_fill()
    {
        var tls = TlsIdentity.Create("cvm.test", TimeProvider.System);

        var first = await tls.ServerOptionsAsync();
        var second = await tls.ServerOptionsAsync();

        second.Should().NotBeSameAs(first);
        second.ServerCertificateContext.Should().BeSameAs(first.ServerCertificateContext, "the context is built once");
        first.ApplicationProtocols.Should().BeNull();
    }

    [Fact]
    public async Task Is_ready_once_the_certificate_context_is_built()
    {
        var tls = TlsIdentity.Create("cvm.test", TimeProvider.System);

        await tls.Ready.WaitAsync(TimeSpan.FromSeconds(30));

        tls.Ready.IsCompletedSuccessfully.Should().BeTrue();
    }
}
