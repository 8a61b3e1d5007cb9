using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Tests.Identity;

/// <summary>
/// Certificates for the TLS tests, made in memory: CAs, intermediates, SVIDs and plain leaves, with
/// every property the bad-input cases need. URI SANs are written byte for byte (System.Uri would
/// lowercase a host or drop a <c>..</c> segment, which is exactly what must reach the daemon).
/// </summary>
internal static class TestPki
{
    public static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");
    public static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");

    public static DateTimeOffset Now => DateTimeOffset.UtcNow;

    public sealed record Spec
    {
        public string Subject { get; init; } = "CN=test";
        public IReadOnlyList<string> Uris { get; init; } = [];
        public IReadOnlyList<string> DnsNames { get; init; } = [];
        public bool? CertificateAuthority { get; init; }
        public X509KeyUsageFlags? KeyUsage { get; init; }
        public IReadOnlyList<Oid>? ExtendedKeyUsage { get; init; }
        public DateTimeOffset? NotBefore { get; init; }
        public DateTimeOffset? NotAfter { get; init; }
        public bool Rsa { get; init; }
    }

    public static X509Certificate2 Root(string name = "Test Root", DateTimeOffset? notAfter = null, string? spiffe = null) =>
        Issue(new Spec { Subject = $"CN={name}", CertificateAuthority = true, KeyUsage = X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, NotAfter = notAfter, Uris = spiffe is null ? [] : [spiffe] }, issuer: null);

    public static X509Certificate2 Intermediate(X509Certificate2 issuer, string name = "Test Intermediate", bool ca = true) =>
        Issue(new Spec { Subject = $"CN={name}", CertificateAuthority = ca, KeyUsage = ca ? X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign : X509KeyUsageFlags.DigitalSignature }, issuer);

    /// <summary>An X.509-SVID as SPIRE issues it: one URI SAN, not a CA, digitalSignature, client and server auth.</summary>
    public static X509Certificate2 Svid(X509Certificate2 issuer, string id, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null) =>
        Issue(SvidSpec(id) with { NotBefore = notBefore, NotAfter = notAfter }, issuer);

    public static Spec SvidSpec(params string[] uris) => new()
    {
        Subject = "O=SPIRE",
        Uris = uris,
        CertificateAuthority = false,
        KeyUsage = X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.KeyAgreement,
        ExtendedKeyUsage = [ServerAuth, ClientAuth],
    };

    /// <summary>A server certificate for 127.0.0.1 / localhost.</summary>
    public static X509Certificate2 Server(X509Certificate2? issuer, string name = "cvm.test", DateTimeOffset? notAfter = null, bool rsa = false) =>
        Issue(new Spec { Subject = $"CN={name}", DnsNames = [name, "localhost"], CertificateAuthority = false, KeyUsage = X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, ExtendedKeyUsage = [ServerAuth], NotAfter = notAfter, Rsa = rsa }, issuer);

    /// <summary>What <c>openssl req -x509 -newkey ec</c> makes: self-signed, no extensions beyond the defaults.</summary>
    public static X509Certificate2 SelfSignedClient(string name = "owner laptop") =>
        Issue(new Spec { Subject = $"CN={name}" }, issuer: null);

    public static X509Certificate2 Issue(Spec spec, X509Certificate2? issuer)
    {
        AsymmetricAlgorithm key = spec.Rsa ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using (key)
        {
            var request = key is RSA rsa
                ? new CertificateRequest(spec.Subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
                : new CertificateRequest(spec.Subject, (ECDsa)key, HashAlgorithmName.SHA256);
            if (spec.CertificateAuthority is { } ca)
            {
                request.CertificateExtensions.Add(new X509BasicConstraintsExtension(ca, false, 0, true));
            }
            if (spec.KeyUsage is { } usage)
            {
                request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, true));
            }
            if (spec.ExtendedKeyUsage is { } eku)
            {
                request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([.. eku], false));
            }
            if (spec.Uris.Count > 0 || spec.DnsNames.Count > 0)
            {
                request.CertificateExtensions.Add(SubjectAltName(spec.Uris, spec.DnsNames));
            }
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            var notBefore = spec.NotBefore ?? Now.AddHours(-1);
            var notAfter = spec.NotAfter ?? Now.AddDays(1);
            if (issuer is null)
            {
                return request.CreateSelfSigned(notBefore, notAfter);
            }
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));
            // Signed through a generator: CertificateRequest.Create(issuer...) would refuse a non-CA
            // issuer or a child outliving its issuer, and the bad-input cases need both.
            var generator = issuer.GetECDsaPrivateKey() is { } issuerEc
                ? X509SignatureGenerator.CreateForECDsa(issuerEc)
                : X509SignatureGenerator.CreateForRSA(issuer.GetRSAPrivateKey()!, RSASignaturePadding.Pkcs1);
            using var issued = request.Create(issuer.SubjectName, generator, notBefore, notAfter, RandomNumberGenerator.GetBytes(12));
            return key is RSA rsaKey ? issued.CopyWithPrivateKey(rsaKey) : issued.CopyWithPrivateKey((ECDsa)key);
        }
    }

    /// <summary>A subjectAltName with the URIs exactly as given, then DNS names (and an IP SAN for 127.0.0.1 when "localhost" is one).</summary>
    private static X509Extension SubjectAltName(IEnumerable<string> uris, IEnumerable<string> dnsNames)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            foreach (var uri in uris)
            {
                writer.WriteCharacterString(UniversalTagNumber.IA5String, uri, new Asn1Tag(TagClass.ContextSpecific, 6));
            }
            foreach (var dns in dnsNames)
            {
                writer.WriteCharacterString(UniversalTagNumber.IA5String, dns, new Asn1Tag(TagClass.ContextSpecific, 2));
                if (dns == "localhost")
                {
                    writer.WriteOctetString([127, 0, 0, 1], new Asn1Tag(TagClass.ContextSpecific, 7));
                }
            }
        }
        return new X509Extension("2.5.29.17", writer.Encode(), critical: false);
    }

    public static string CertificatePem(params X509Certificate2[] chain) => string.Concat(chain.Select(c => c.ExportCertificatePem() + "\n"));

    public static string Pkcs8Pem(X509Certificate2 certificate) =>
        certificate.GetECDsaPrivateKey() is { } ec ? ec.ExportPkcs8PrivateKeyPem() + "\n" : certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem() + "\n";

    public static string Sec1Pem(X509Certificate2 certificate) => certificate.GetECDsaPrivateKey()!.ExportECPrivateKeyPem() + "\n";

    public static string RsaPem(X509Certificate2 certificate) => certificate.GetRSAPrivateKey()!.ExportRSAPrivateKeyPem() + "\n";

    /// <summary>curl's form of a key pin, computed independently of the daemon's KeyPin.</summary>
    public static string PinOf(X509Certificate2 certificate) =>
        "sha256//" + Convert.ToBase64String(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));
}
