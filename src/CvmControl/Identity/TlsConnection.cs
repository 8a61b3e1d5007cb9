namespace CvmControl.Identity;

/// <summary>
/// What TLS established for one connection, kept in its features: the certificate this connection
/// was served with (attestation binds its key, so a rotation between handshake and request cannot
/// confuse a verifier) and, with client authentication on, the client.
/// </summary>
internal sealed class TlsConnection(ServedCertificate served)
{
    private int _refusalLogged;

    public ServedCertificate Served { get; } = served;

    /// <summary>Set during the handshake; null when client authentication is off.</summary>
    public ClientIdentity? Client { get; set; }

    /// <summary>True the first time only: a refusal is logged once per connection, however many requests it makes.</summary>
    public bool FirstRefusal() => Interlocked.Exchange(ref _refusalLogged, 1) == 0;
}
