using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Identity;

/// <summary>
/// The daemon's TLS identity: a fresh ECDSA P-256 self-signed certificate at every start. The key
/// exists only in this process's memory; it is never exported or written anywhere.
/// </summary>
internal static class SelfSignedCertificate
{
    public static X509Certificate2 Create(string commonName, TimeProvider time)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(commonName);
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);

        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(commonName);
        if (IPAddress.TryParse(commonName, out var ip))
        {
            san.AddIpAddress(ip);
        }
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));

        var now = time.GetUtcNow();
        // A little slack for clients whose clocks run behind; a year covers any realistic uptime.
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(1));
    }
}
