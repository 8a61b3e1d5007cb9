namespace CvmControl.Identity;

/// <summary>
/// The certificate new handshakes get. Replaced whole when its files change: a handshake already
/// under way, and every open connection, keeps the certificate it started with.
/// </summary>
internal sealed class ServerIdentity(ServedCertificate first)
{
    private readonly Task _ready = first.Context;
    private volatile ServedCertificate _current = first;

    public ServedCertificate Current => _current;

    /// <summary>Completes once the first certificate can serve handshakes; faults if its context cannot be built.</summary>
    public Task Ready => _ready;

    /// <summary>Raised after every replacement, on the thread that replaced it.</summary>
    public event Action<ServedCertificate>? Replaced;

    public void Replace(ServedCertificate next)
    {
        ArgumentNullException.ThrowIfNull(next);
        _current = next;
        Replaced?.Invoke(next);
    }
}
