using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using CvmControl.Identity;

namespace CvmControl.Attestation.Client;

/// <summary>
/// HTTPS to a daemon as its clients make it: no proxy, no redirects, TLS 1.2 or 1.3, the caller's
/// client certificate when the daemon asks for one, and the server certificate judged by the caller
/// alone (trust comes from attestation, not from a CA).
/// </summary>
internal static class DaemonConnections
{
    /// <param name="admit">Sees the certificate every handshake presents; false refuses the handshake.</param>
    public static SocketsHttpHandler Handler(TimeSpan connectTimeout, CertificateWithKey? client, Func<X509Certificate2, bool> admit) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        ConnectTimeout = connectTimeout,
        SslOptions = new SslClientAuthenticationOptions
        {
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            // The context sends the intermediates too; built offline, nothing is fetched.
            ClientCertificateContext = client is null
                ? null
                : SslStreamCertificateContext.Create(client.Certificate, new X509Certificate2Collection(client.Intermediates.ToArray()), offline: true),
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && admit(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData())),
        },
    };

    /// <summary>The root cause of a failed request, whose message says what went wrong (refused, reset, alert).</summary>
    public static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }
        return ex;
    }
}
