using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Identity;

/// <summary>
/// One server certificate as handshakes use it: the leaf with its key, the intermediates sent after
/// it, and the <see cref="SslStreamCertificateContext"/> built from them.
/// </summary>
/// <remarks>
/// Building the context builds an X509 chain, and on Linux the first chain loads the whole system
/// trust store, even for a self-signed certificate: about 85 ms of a 270 ms cold start here. So the
/// first certificate's context is built on the thread pool while the host is composed, and each
/// handshake awaits that one task. A reloaded certificate's context is built before it replaces the
/// old one, so no handshake ever waits for a reload. Built offline: the daemon fetches nothing for
/// its own chain.
/// </remarks>
internal sealed class ServedCertificate
{
    private ServedCertificate(CertificateWithKey credential, string source, bool background)
    {
        Certificate = credential.Certificate;
        Intermediates = credential.Intermediates;
        Source = source;
        SpkiSha256 = SHA256.HashData(Certificate.PublicKey.ExportSubjectPublicKeyInfo());
        Pin = KeyPin.Of(Certificate);
        var extra = new X509Certificate2Collection(Intermediates.ToArray());
        Context = background
            ? Task.Run(() => SslStreamCertificateContext.Create(Certificate, extra, offline: true))
            : Task.FromResult(SslStreamCertificateContext.Create(Certificate, extra, offline: true));
    }

    public X509Certificate2 Certificate { get; }

    public IReadOnlyList<X509Certificate2> Intermediates { get; }

    /// <summary>Where it came from: <c>self-signed</c>, or the file it was read from.</summary>
    public string Source { get; }

    /// <summary>SHA-256 of the DER SubjectPublicKeyInfo: what attestation binds.</summary>
    public byte[] SpkiSha256 { get; }

    public KeyPin Pin { get; }

    public Task<SslStreamCertificateContext> Context { get; }

    public DateTimeOffset NotBefore => new(Certificate.NotBefore.ToUniversalTime());

    public DateTimeOffset NotAfter => new(Certificate.NotAfter.ToUniversalTime());

    /// <summary>The first certificate of a start: its context is built on the thread pool.</summary>
    public static ServedCertificate ForStart(CertificateWithKey credential, string source) => new(credential, source, background: true);

    /// <summary>A reloaded certificate: its context is ready before anything can use it.</summary>
    public static ServedCertificate ForReload(CertificateWithKey credential, string source) => new(credential, source, background: false);
}
