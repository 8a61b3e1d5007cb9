using CvmControl.Metrics;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace CvmControl.Identity;

/// <summary>
/// The TLS side of every listener: per handshake, the certificate that is current at that moment
/// and, when client authentication is on, the demand for a client certificate and its check.
/// Kestrel takes it as <see cref="TlsHandshakeCallbackOptions"/> (<see cref="CallbackOptions"/>),
/// which any listener can use: the TCP endpoint today, a socket handed over by systemd tomorrow.
/// </summary>
internal sealed partial class TlsEndpoint(ServerIdentity server, ClientAuthenticator clients, ILogger<TlsEndpoint> logger, CvmMetrics? metrics = null)
{
    public const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    /// <summary>Kestrel's default; named here so that every listener gets the same.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    public ServerIdentity Server => server;

    public ClientAuthenticator Clients => clients;

    public TlsHandshakeCallbackOptions CallbackOptions() => new()
    {
        OnConnection = static context => ((TlsEndpoint)context.State!).OnConnectionAsync(context.Connection),
        OnConnectionState = this,
        HandshakeTimeout = HandshakeTimeout,
    };

    /// <summary>
    /// Options for one handshake. A new instance every time: Kestrel fills in the ALPN protocols on
    /// the instance it is given, and SslStream adds the client's intermediates to the chain policy.
    /// </summary>
    public async ValueTask<SslServerAuthenticationOptions> OnConnectionAsync(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        HandshakeWatch.HelloSeen(connection);
        var served = server.Current;
        var tls = new TlsConnection(served);
        connection.Features.Set(tls);
        var options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = await served.Context.ConfigureAwait(false),
            EnabledSslProtocols = Protocols,
        };
        if (clients.Enabled)
        {
            options.ClientCertificateRequired = true;
            // A resumed session would skip the client certificate, and with it the check against
            // the current bundle and allow-lists; every connection shows its certificate afresh.
            options.AllowTlsResume = false;
            options.CertificateChainPolicy = clients.NewChainPolicy();
            options.RemoteCertificateValidationCallback = (_, certificate, chain, _) => Validate(tls, connection, certificate, chain);
        }
        return options;
    }

    private bool Validate(TlsConnection tls, ConnectionContext connection, X509Certificate? certificate, X509Chain? chain)
    {
        var leaf = certificate as X509Certificate2 ?? (certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
        var check = clients.Check(leaf, chain);
        if (check.Identity is { } identity)
        {
            tls.Client = identity;
            return true;
        }
        HandshakeWatch.Refused(connection);
        if (tls.FirstRefusal())
        {
            (metrics ?? CvmMetrics.None).ClientRefused("handshake");
            LogHandshakeRefused(logger, connection.RemoteEndPoint?.ToString() ?? "?", connection.ConnectionId, check.Presented, check.Refusal ?? "refused");
        }
        return false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS handshake refused for {Remote} (connection {ConnectionId}), which presented {Presented}: {Reason}")]
    private static partial void LogHandshakeRefused(ILogger logger, string remote, string connectionId, string presented, string reason);
}
