using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Tests.Attestation.Fakes;

/// <summary>
/// A machine in the middle on loopback: it terminates the client's TLS with its own certificate,
/// opens its own TLS connection to the real daemon and relays the bytes unchanged. Everything the
/// daemon says reaches the client intact, except the key of the TLS session. It keeps every byte a
/// client sent it in the clear, which is what such a proxy would steal. The first
/// <see cref="PassThroughConnections"/> connections it relays untouched, TLS and all, as a proxy
/// that waits for attestation to pass before it steps in.
/// </summary>
internal sealed class TlsTerminatingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly MemoryStream _plaintext = new();
    private int _connections;
    private readonly Uri _upstream;
    private readonly X509Certificate2 _certificate;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public TlsTerminatingProxy(Uri upstream)
    {
        _upstream = upstream;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=cvm.test", key, HashAlgorithmName.SHA256);
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public Uri Url => new($"https://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    public X509Certificate2 Certificate => _certificate;

    /// <summary>How many connections to relay as raw TCP before terminating TLS.</summary>
    public int PassThroughConnections { get; init; }

    /// <summary>How many connections were accepted.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Everything clients sent through terminated TLS, decrypted, in the order it came.</summary>
    public byte[] Plaintext
    {
        get { lock (_plaintext) { return _plaintext.ToArray(); } }
    }

    /// <summary>The decrypted client bytes as Latin-1 text, for searching for requests and secrets.</summary>
    public string PlaintextText => System.Text.Encoding.Latin1.GetString(Plaintext);

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = RelayAsync(client);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var upstreamTcp = new TcpClient())
        {
            try
            {
                if (Interlocked.Increment(ref _connections) <= PassThroughConnections)
                {
                    await upstreamTcp.ConnectAsync(_upstream.Host, _upstream.Port, _stop.Token);
                    await Task.WhenAny(client.GetStream().CopyToAsync(upstreamTcp.GetStream(), _stop.Token), upstreamTcp.GetStream().CopyToAsync(client.GetStream(), _stop.Token));
                    return;
                }
                await using var downstream = new SslStream(client.GetStream());
                await downstream.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, _stop.Token);
                await upstreamTcp.ConnectAsync(_upstream.Host, _upstream.Port, _stop.Token);
                await using var upstream = new SslStream(upstreamTcp.GetStream());
                await upstream.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = "cvm.test",
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
                }, _stop.Token);
                await Task.WhenAny(RecordAndCopyAsync(downstream, upstream), upstream.CopyToAsync(downstream, _stop.Token));
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or System.Security.Authentication.AuthenticationException)
            {
                // A closed or refused connection ends the relay; the client sees the failure itself.
            }
        }
    }

    private async Task RecordAndCopyAsync(Stream from, Stream to)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
        {
            lock (_plaintext)
            {
                _plaintext.Write(buffer, 0, read);
            }
            await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _certificate.Dispose();
        _stop.Dispose();
        _plaintext.Dispose();
    }
}
