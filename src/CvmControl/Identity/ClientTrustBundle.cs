using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Identity;

/// <summary>
/// The roots that client certificates must chain to (<c>--client-ca</c>), replaced whole when the
/// bundle file changes. Only these: never the system's roots.
/// </summary>
internal sealed class ClientTrustBundle(IReadOnlyList<X509Certificate2> roots, string source)
{
    private volatile IReadOnlyList<X509Certificate2> _roots = roots;

    public IReadOnlyList<X509Certificate2> Roots => _roots;

    public string Source { get; } = source;

    public void Replace(IReadOnlyList<X509Certificate2> roots)
    {
        ArgumentNullException.ThrowIfNull(roots);
        _roots = roots;
    }
}
