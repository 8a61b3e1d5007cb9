using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using CvmControl.Api.V1;
using CvmControl.Identity;
using CvmControl.Json;

namespace CvmControl.Attestation.Client;

/// <summary>
/// Fetches evidence from a running daemon and captures the certificate its TLS handshake presented.
/// The certificate is accepted whatever it is, because trust comes from the evidence, not from a
/// CA; but it must be the only one seen, since the evidence has to be bound to the very key that
/// terminated this connection.
/// </summary>
internal sealed class AttestationFetcher(TimeSpan timeout)
{
    public const int MaxResponseBytes = 16 * 1024 * 1024;

    /// <param name="client">Presented when the daemon asks for a client certificate; null to present none.</param>
    public async Task<FetchedEvidence> FetchAsync(Uri server, byte[] nonce, CertificateWithKey? client, CancellationToken cancellationToken)
    {
        var seen = new List<X509Certificate2>();
        using var handler = DaemonConnections.Handler(timeout, client, certificate =>
        {
            lock (seen)
            {
                seen.Add(certificate);
            }
            return true;
        });
        handler.MaxConnectionsPerServer = 1;
        using var http = new HttpClient(handler) { Timeout = timeout };
        var uri = new Uri(server, $"/api/v1/attestation?nonce={Convert.ToHexStringLower(nonce)}");

        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(uri, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            // A daemon that wants a client certificate refuses the handshake without one; with TLS 1.3
            // the client only learns of it on its first read, as a bare I/O error.
            var hint = client is null ? " (if the daemon requires client authentication, give --client-cert and --client-key)" : "";
            throw new AttestationFetchException($"cannot fetch evidence from {server}: {DaemonConnections.Innermost(ex).Message}{hint}", unreachable: true);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new AttestationFetchException($"{server} answered {(int)response.StatusCode} {response.ReasonPhrase}: {await ErrorText(response, cancellationToken)}");
            }
            AttestationResponse? body;
            try
            {
                // A quote, a certificate table and an event log, in base64: far below this.
                await response.Content.LoadIntoBufferAsync(MaxResponseBytes, cancellationToken);
                body = await response.Content.ReadFromJsonAsync(CvmJsonContext.Default.AttestationResponse, cancellationToken);
            }
            catch (JsonException ex)
            {
                throw new AttestationFetchException($"{server} answered with malformed evidence JSON: {ex.Message}");
            }
            catch (HttpRequestException ex)
            {
                throw new AttestationFetchException($"{server} answered with more than {MaxResponseBytes} bytes, or the answer broke off: {DaemonConnections.Innermost(ex).Message}");
            }
            lock (seen)
            {
                var distinct = seen.Select(c => AttestationBinding.SpkiSha256(c)).Select(Convert.ToHexStringLower).Distinct().Count();
                if (seen.Count == 0 || distinct != 1)
                {
                    throw new AttestationFetchException($"expected one TLS server key, saw {distinct}");
                }
                return Decode(body, seen[0], server);
            }
        }
    }

    private static FetchedEvidence Decode(AttestationResponse? body, X509Certificate2 certificate, Uri server)
    {
        if (body?.Evidence is not { Length: > 0 } evidence)
        {
            throw new AttestationFetchException($"{server} returned no evidence");
        }
        try
        {
            return new FetchedEvidence(
                Convert.FromBase64String(evidence),
                body.Certificates is { Length: > 0 } table ? Convert.FromBase64String(table) : null,
                certificate,
                body.Nonce,
                body.TlsSpkiSha256)
            {
                EventLog = body.EventLog is { Length: > 0 } log ? Convert.FromBase64String(log) : null,
            };
        }
        catch (FormatException)
        {
            throw new AttestationFetchException($"{server} returned evidence, certificates or an event log that is not base64");
        }
    }

    private static async Task<string> ErrorText(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var error = await response.Content.ReadFromJsonAsync(CvmJsonContext.Default.ErrorResponse, cancellationToken);
            return error is null ? "(no body)" : error.Detail is null ? error.Error : $"{error.Error} ({error.Detail})";
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            return "(no JSON error body)";
        }
    }
}
