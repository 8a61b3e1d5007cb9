using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Hosting;

/// <summary>
/// What the HTTPS endpoint serves: the <see cref="SelfSignedCertificate"/> and the
/// <see cref="SslStreamCertificateContext"/> built from it.
/// </summary>
/// <remarks>
/// Building the context builds an X509 chain, and on Linux that loads the whole system trust store,
/// even though the certificate is self-signed. It took about 85 ms of a 270 ms cold start here, and
/// Kestrel does it inside <c>StartAsync</c> when it is handed a plain certificate. So the context is
/// built on the thread pool from the moment the certificate exists, while the host is composed, and
/// each handshake awaits that one task (only the first ever waits). It is built offline: the daemon
/// fetches nothing for its own certificate.
/// </remarks>
internal sealed class TlsIdentity
{
    public const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    private readonly Task<SslStreamCertificateContext> _context;

    public TlsIdentity(X509Certificate2 certificate)
    {
        Certificate = certificate;
        _context = Task.Run(() => SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true));
    }

    public static TlsIdentity Create(string commonName, TimeProvider time) => new(SelfSignedCertificate.Create(commonName, time));

    public X509Certificate2 Certificate { get; }

    /// <summary>Completes once handshakes can be served; faults if the context cannot be built.</summary>
    public Task Ready => _context;

    /// <summary>
    /// Options for one handshake. A new instance every time: Kestrel fills in the ALPN protocols on
    /// the instance it is given.
    /// </summary>
    public async ValueTask<SslServerAuthenticationOptions> ServerOptionsAsync() => new()
    {
        ServerCertificateContext = await _context.ConfigureAwait(false),
        EnabledSslProtocols = Protocols,
    };
}
