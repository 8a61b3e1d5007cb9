using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Attestation.Verification;

/// <summary>
/// Certificate checks done by hand rather than by <see cref="X509Chain"/>: the vendor chains use
/// RSASSA-PSS and private extensions, and a verifier must say precisely which link failed. Only
/// the algorithms the vendors use are accepted.
/// </summary>
internal static class CertificateChecks
{
    private const string RsaPss = "1.2.840.113549.1.1.10";
    private const string Sha384 = "2.16.840.1.101.3.4.2.2";
    private const string Mgf1 = "1.2.840.113549.1.1.8";
    private const string EcdsaWithSha256 = "1.2.840.10045.4.3.2";
    private const string EcdsaWithSha384 = "1.2.840.10045.4.3.3";

    /// <summary>Loads one DER or PEM certificate, or every certificate of a PEM bundle.</summary>
    public static IReadOnlyList<X509Certificate2> Load(byte[] derOrPem)
    {
        var text = derOrPem.AsSpan().IndexOf("-----BEGIN"u8) >= 0;
        if (!text)
        {
            return [X509CertificateLoader.LoadCertificate(derOrPem)];
        }
        var collection = new X509Certificate2Collection();
        collection.ImportFromPem(System.Text.Encoding.ASCII.GetString(derOrPem).TrimEnd('\0'));
        // ImportFromPem skips a block it cannot decode; a chain missing its first link must not
        // silently promote the next certificate to leaf.
        var blocks = derOrPem.AsSpan().Count("-----BEGIN CERTIFICATE-----"u8);
        if (collection.Count != blocks)
        {
            throw new CryptographicException($"{blocks} PEM certificate blocks, but only {collection.Count} could be read");
        }
        return [.. collection];
    }

    /// <summary>
    /// True when <paramref name="child"/> names <paramref name="issuer"/> as its issuer and the
    /// issuer's key verifies its signature. Otherwise <paramref name="error"/> says why.
    /// </summary>
    public static bool IsSignedBy(X509Certificate2 child, X509Certificate2 issuer, out string? error)
    {
        if (!IsIssuedBy(child, issuer))
        {
            error = $"{Describe(child)} is issued by '{child.Issuer}', not by '{issuer.Subject}'";
            return false;
        }
        try
        {
            var (tbs, algorithm, signature) = Split(child.RawData);
            var ok = algorithm switch
            {
                RsaPss => issuer.GetRSAPublicKey() is { } rsa && Using(rsa, k => k.VerifyData(tbs, signature, HashAlgorithmName.SHA384, RSASignaturePadding.Pss)),
                EcdsaWithSha256 => issuer.GetECDsaPublicKey() is { } ec && Using(ec, k => k.VerifyData(tbs, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)),
                EcdsaWithSha384 => issuer.GetECDsaPublicKey() is { } ec2 && Using(ec2, k => k.VerifyData(tbs, signature, HashAlgorithmName.SHA384, DSASignatureFormat.Rfc3279DerSequence)),
                _ => throw new CryptographicException($"unsupported signature algorithm {algorithm}"),
            };
            error = ok ? null : $"the signature on {Describe(child)} does not verify with the key of {Describe(issuer)}";
            return ok;
        }
        catch (Exception ex) when (ex is CryptographicException or AsnContentException)
        {
            error = $"cannot check the signature on {Describe(child)}: {ex.Message}";
            return false;
        }
    }

    /// <summary>
    /// The first of <paramref name="candidates"/>, in order, whose key verifies <paramref name="child"/>'s
    /// signature; null otherwise, with the first candidate's reason in <paramref name="error"/> (null
    /// when there was no candidate).
    /// </summary>
    public static X509Certificate2? FirstSigner(X509Certificate2 child, IEnumerable<X509Certificate2> candidates, out string? error)
    {
        error = null;
        foreach (var candidate in candidates)
        {
            if (IsSignedBy(child, candidate, out var reason))
            {
                error = null;
                return candidate;
            }
            error ??= reason;
        }
        return null;
    }

    /// <summary>True when <paramref name="child"/>'s issuer name is <paramref name="issuer"/>'s subject, byte for byte (no signature check).</summary>
    public static bool IsIssuedBy(X509Certificate2 child, X509Certificate2 issuer) =>
        child.IssuerName.RawData.AsSpan().SequenceEqual(issuer.SubjectName.RawData);

    /// <summary>Adds an error unless the certificate is valid at <paramref name="at"/>.</summary>
    public static void CheckValidity(X509Certificate2 certificate, DateTimeOffset at, VerificationResult result)
    {
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        if (at < notBefore)
        {
            result.Fail($"{Describe(certificate)} is not valid before {notBefore:yyyy-MM-ddTHH:mm:ssZ} (verification time {at.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ})");
        }
        else if (at > notAfter)
        {
            result.Fail($"{Describe(certificate)} expired at {notAfter:yyyy-MM-ddTHH:mm:ssZ} (verification time {at.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}; use --at to verify an old report)");
        }
    }

    /// <summary>True when the certificate carries basicConstraints with cA set.</summary>
    public static bool IsCa(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);

    /// <summary>The raw extnValue bytes of an extension, or null when absent.</summary>
    public static byte[]? Extension(X509Certificate2 certificate, string oid) =>
        certificate.Extensions.FirstOrDefault(e => e.Oid?.Value == oid)?.RawData;

    public static string Describe(X509Certificate2 certificate) =>
        $"'{certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false)}'";

    private static bool Using<T>(T key, Func<T, bool> verify)
        where T : IDisposable
    {
        using (key)
        {
            return verify(key);
        }
    }

    /// <summary>Splits a certificate into its signed bytes, signature algorithm and signature.</summary>
    private static (byte[] Tbs, string Algorithm, byte[] Signature) Split(byte[] der)
    {
        var certificate = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        var tbs = certificate.ReadEncodedValue().ToArray();
        var algorithmId = certificate.ReadSequence();
        var algorithm = algorithmId.ReadObjectIdentifier();
        if (algorithm == RsaPss)
        {
            RequirePssSha384(algorithmId.ReadSequence());
        }
        var signature = certificate.ReadBitString(out var unused);
        if (unused != 0)
        {
            throw new CryptographicException("signature BIT STRING has unused bits");
        }
        return (tbs, algorithm, signature);
    }

    /// <summary>RSASSA-PSS parameters must be SHA-384, MGF1 with SHA-384, salt 48: what AMD uses and what .NET verifies.</summary>
    private static void RequirePssSha384(AsnReader parameters)
    {
        string? hash = null, mgfHash = null;
        var salt = 20;
        while (parameters.HasData)
        {
            var tag = parameters.PeekTag();
            var field = parameters.ReadSequence(tag);
            switch (tag.TagValue)
            {
                case 0:
                    hash = field.ReadSequence().ReadObjectIdentifier();
                    break;
                case 1:
                    var mgf = field.ReadSequence();
                    if (mgf.ReadObjectIdentifier() != Mgf1)
                    {
                        throw new CryptographicException("RSASSA-PSS mask generation is not MGF1");
                    }
                    mgfHash = mgf.ReadSequence().ReadObjectIdentifier();
                    break;
                case 2:
                    salt = (int)field.ReadInteger();
                    break;
                default:
                    break;
            }
        }
        if (hash != Sha384 || mgfHash != Sha384 || salt != 48)
        {
            throw new CryptographicException("RSASSA-PSS parameters are not SHA-384/MGF1-SHA-384/salt 48");
        }
    }
}
