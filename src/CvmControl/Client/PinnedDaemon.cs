using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using CvmControl.Api.V1;
using CvmControl.Attestation;
using CvmControl.Attestation.Client;
using CvmControl.Identity;
using CvmControl.Json;

namespace CvmControl.Client;

/// <summary>
/// HTTP to one daemon over connections pinned to one TLS key: the key its attestation was bound to,
/// or with <c>--insecure-skip-attestation</c> the first key seen. Every handshake checks the key the
/// daemon presents before the client sends a byte of its request; a different key fails the
/// handshake, so nothing at all reaches whoever holds it, and the caller hears
/// <see cref="KeyChangedException"/>.
/// </summary>
internal sealed class PinnedDaemon : IDisposable
{
    /// <summary>Status and operation replies are small; per-volume details are bounded by the daemon.</summary>
    public const int MaxResponseBytes = 4 * 1024 * 1024;

    /// <summary>Replies from a newer daemon may carry fields this client does not know; they are skipped.</summary>
    private static readonly JsonSerializerOptions Lenient = new(CvmJsonContext.Default.Options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip };

    private readonly Uri _server;
    private readonly HttpClient _http;
    private readonly Lock _gate = new();
    private readonly TimeSpan _readTimeout;
    private byte[]? _pin;
    private byte[]? _refused;

    /// <param name="pin">SHA-256 of the attested SubjectPublicKeyInfo; null to pin the first key seen.</param>
    /// <param name="client">Presented when the daemon asks for a client certificate.</param>
    /// <param name="readTimeout">How long a GET may take; a POST takes until the caller's token says.</param>
    public PinnedDaemon(Uri server, byte[]? pin, CertificateWithKey? client, TimeSpan readTimeout)
    {
        _server = server;
        _pin = pin;
        _readTimeout = readTimeout;
        // Trust comes from the attestation, not from a CA: the key is all that is checked.
        var handler = DaemonConnections.Handler(readTimeout, client, Admit);
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan, MaxResponseContentBufferSize = MaxResponseBytes };
    }

    /// <summary>The pinned key as <c>sha256//BASE64</c>, once there is one.</summary>
    public string? PinnedPubkey
    {
        get { lock (_gate) { return _pin is null ? null : $"sha256//{Convert.ToBase64String(_pin)}"; } }
    }

    public Task<DaemonAnswer<T>> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(_server, path)), type, _readTimeout, cancellationToken);

    public Task<DaemonAnswer<T>> PostAsync<T>(string path, byte[] body, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return SendAsync(new HttpRequestMessage(HttpMethod.Post, new Uri(_server, path)) { Content = content }, type, null, cancellationToken);
    }

    private bool Admit(X509Certificate2 presented)
    {
        using var disposing = presented;
        var spki = AttestationBinding.SpkiSha256(presented);
        lock (_gate)
        {
            _pin ??= spki;
            if (CryptographicOperations.FixedTimeEquals(_pin, spki))
            {
                return true;
            }
            _refused = spki;
            return false;
        }
    }

    private async Task<DaemonAnswer<T>> SendAsync<T>(HttpRequestMessage request, JsonTypeInfo<T> type, TimeSpan? limit, CancellationToken cancellationToken)
        where T : class
    {
        using (request)
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            if (limit is { } within)
            {
                timeout.CancelAfter(within);
            }
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, timeout.Token);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                lock (_gate)
                {
                    if (_refused is { } refused)
                    {
                        throw new KeyChangedException($"{_server} presented the TLS key sha256//{Convert.ToBase64String(refused)}, not the pinned sha256//{Convert.ToBase64String(_pin!)}; the connection was refused before anything was sent on it");
                    }
                }
                throw new DaemonUnreachableException($"{request.Method} {request.RequestUri!.AbsolutePath}: {DaemonConnections.Innermost(ex).Message}");
            }
            using (response)
            {
                try
                {
                    var bytes = await response.Content.ReadAsByteArrayAsync(timeout.Token);
                    var status = (int)response.StatusCode;
                    if (response.IsSuccessStatusCode)
                    {
                        return new(status, JsonSerializer.Deserialize(bytes, (JsonTypeInfo<T>)Lenient.GetTypeInfo(typeof(T))), null);
                    }
                    return new(status, null, ErrorBody(bytes));
                }
                catch (JsonException ex)
                {
                    throw new DaemonUnreachableException($"{request.Method} {request.RequestUri!.AbsolutePath}: the reply is not the expected JSON ({ex.Message})");
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    throw new DaemonUnreachableException($"{request.Method} {request.RequestUri!.AbsolutePath}: the reply broke off or is over {MaxResponseBytes} bytes ({DaemonConnections.Innermost(ex).Message})");
                }
            }
        }
    }

    private static ErrorResponse? ErrorBody(byte[] bytes)
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, (JsonTypeInfo<ErrorResponse>)Lenient.GetTypeInfo(typeof(ErrorResponse)));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose() => _http.Dispose();
}
