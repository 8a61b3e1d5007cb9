namespace CvmControl.Identity;

/// <summary>
/// Who a request comes from and over which key it is served: what handlers see instead of
/// certificates. Bound from the connection's <see cref="TlsConnection"/>.
/// </summary>
/// <param name="ServerKeySha256">SHA-256 of the SubjectPublicKeyInfo this connection's handshake used.</param>
/// <param name="Client">The authenticated client; null when client authentication is off.</param>
internal sealed record Caller(byte[] ServerKeySha256, ClientIdentity? Client)
{
    /// <summary>
    /// Minimal-API binding. A request without TLS underneath (the in-process test server) is served
    /// by no key; it gets the certificate new handshakes would get.
    /// </summary>
    public static ValueTask<Caller?> BindAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ValueTask.FromResult<Caller?>(context.Features.Get<TlsConnection>() is { } tls
            ? new Caller(tls.Served.SpkiSha256, tls.Client)
            : new Caller(context.RequestServices.GetRequiredService<ServerIdentity>().Current.SpkiSha256, null));
    }
}
