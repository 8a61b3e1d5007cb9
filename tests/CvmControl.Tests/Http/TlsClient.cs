using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Tests.Http;

/// <summary>HTTPS clients for the loopback daemon: optionally presenting a client certificate, and recording what the server presented.</summary>
internal static class TlsClient
{
    /// <param name="client">The client certificate (with its key), or null to present none.</param>
    /// <param name="intermediates">Sent after <paramref name="client"/>.</param>
    /// <param name="seen">Receives each server leaf the handshakes presented.</param>
    /// <param name="protocols">None lets the platform choose (TLS 1.3 here).</param>
    public static HttpClient Create(Uri baseUrl, X509Certificate2? client = null, IEnumerable<X509Certificate2>? intermediates = null, List<X509Certificate2>? seen = null, SslProtocols protocols = SslProtocols.None)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = protocols,
                ClientCertificateContext = client is null ? null : SslStreamCertificateContext.Create(client, new X509Certificate2Collection((intermediates ?? []).ToArray()), offline: true),
                // The daemon's certificate is judged by the test, not by a CA.
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    if (seen is not null && certificate is not null)
                    {
                        lock (seen)
                        {
                            seen.Add(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
                        }
                    }
                    return true;
                },
            },
        };
        return new HttpClient(handler) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(20) };
    }

    /// <summary>The server leaf of one fresh handshake.</summary>
    public static async Task<X509Certificate2> ServerCertificateOf(Uri baseUrl, X509Certificate2? client = null)
    {
        var seen = new List<X509Certificate2>();
        using var http = Create(baseUrl, client, seen: seen);
        using var response = await http.GetAsync(new Uri("/api/v1/status", UriKind.Relative));
        lock (seen)
        {
            return seen.Single();
        }
    }
}
