using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Identity;

/// <summary>
/// Certificates and keys from PEM files, as SPIRE, spiffe-helper, cert-manager and openssl write them:
/// <list type="bullet">
/// <item>a certificate file, leaf first, then intermediates, each one issued by the next;</item>
/// <item>a key file with one unencrypted private key: PKCS#8 (<c>PRIVATE KEY</c>), SEC1
/// (<c>EC PRIVATE KEY</c>) or PKCS#1 (<c>RSA PRIVATE KEY</c>);</item>
/// <item>or, with no key file, one file holding both, such as SPIFFE's single-file layout: the
/// PKCS#8 key followed by the chain.</item>
/// </list>
/// Every failure is a <see cref="CredentialException"/> that names the file and the reason.
/// </summary>
internal static class PemCredentials
{
    /// <summary>Far more than any real chain; a longer one is a mistake or an attack.</summary>
    public const int MaxChainLength = 16;

    /// <summary>A trust bundle may carry several roots (rotation overlaps them), but not thousands.</summary>
    public const int MaxBundleCertificates = 256;

    private const string EcPublicKey = "1.2.840.10045.2.1";
    private const string RsaEncryption = "1.2.840.113549.1.1.1";

    public static CertificateWithKey Load(ReadOnlySpan<byte> certificatePem, string certificateName, ReadOnlySpan<byte> keyPem = default, string? keyName = null)
    {
        var certificateBlocks = Pem.Read(certificatePem, certificateName);
        var keyBlocks = keyName is null ? certificateBlocks : Pem.Read(keyPem, keyName);
        var certificates = Certificates(certificateBlocks, certificateName, allowKey: keyName is null || keyName == certificateName);
        if (certificates.Count == 0)
        {
            throw new CredentialException($"{certificateName} holds no certificate (found {Labels(certificateBlocks)})");
        }
        if (certificates.Count > MaxChainLength)
        {
            throw new CredentialException($"{certificateName} holds {certificates.Count} certificates; at most {MaxChainLength} are accepted");
        }
        for (var i = 0; i + 1 < certificates.Count; i++)
        {
            if (!certificates[i].IssuerName.RawData.AsSpan().SequenceEqual(certificates[i + 1].SubjectName.RawData))
            {
                throw new CredentialException(
                    $"{certificateName}: certificate {i + 2} ('{certificates[i + 1].Subject}') is not the issuer of certificate {i + 1} ('{certificates[i].Subject}', issued by '{certificates[i].Issuer}'); the leaf comes first, then each issuer");
            }
        }

        var keyFile = keyName ?? certificateName;
        var keys = keyBlocks.Where(b => IsKey(b.Label)).ToList();
        if (keys.Count == 0)
        {
            throw new CredentialException($"{keyFile} holds no private key (found {Labels(keyBlocks)})");
        }
        if (keys.Count > 1)
        {
            throw new CredentialException($"{keyFile} holds {keys.Count} private keys; give exactly one");
        }
        return new CertificateWithKey(WithKey(certificates[0], keys[0], keyFile, certificateName), certificates.Skip(1).ToList());
    }

    /// <summary>Every certificate of a trust bundle (PEM, one or more <c>CERTIFICATE</c> blocks).</summary>
    public static IReadOnlyList<X509Certificate2> LoadBundle(ReadOnlySpan<byte> pem, string name)
    {
        var blocks = Pem.Read(pem, name);
        var certificates = Certificates(blocks, name, allowKey: false);
        if (certificates.Count == 0)
        {
            throw new CredentialException($"{name} holds no certificate (found {Labels(blocks)})");
        }
        if (certificates.Count > MaxBundleCertificates)
        {
            throw new CredentialException($"{name} holds {certificates.Count} certificates; at most {MaxBundleCertificates} are accepted");
        }
        return certificates;
    }

    private static List<X509Certificate2> Certificates(IReadOnlyList<PemBlock> blocks, string name, bool allowKey)
    {
        var certificates = new List<X509Certificate2>();
        foreach (var block in blocks)
        {
            switch (block.Label)
            {
                case "CERTIFICATE":
                    try
                    {
                        certificates.Add(X509CertificateLoader.LoadCertificate(block.Der));
                    }
                    catch (CryptographicException ex)
                    {
                        throw new CredentialException($"{name}: certificate {certificates.Count + 1} cannot be read: {ex.Message}");
                    }
                    break;
                // openssl ecparam -genkey writes the curve before the key.
                case "EC PARAMETERS":
                    break;
                case var label when IsKey(label) && allowKey:
                    break;
                case var label:
                    throw new CredentialException($"{name} holds a '{label}' PEM block; expected {(allowKey ? "certificates and at most one private key" : "certificates only")}");
            }
        }
        return certificates;
    }

    private static bool IsKey(string label) => label is "PRIVATE KEY" or "EC PRIVATE KEY" or "RSA PRIVATE KEY" or "ENCRYPTED PRIVATE KEY";

    private static string Labels(IReadOnlyList<PemBlock> blocks) => string.Join(", ", blocks.Select(b => b.Label).Distinct());

    private static X509Certificate2 WithKey(X509Certificate2 leaf, PemBlock key, string keyFile, string certificateFile)
    {
        if (key.Label == "ENCRYPTED PRIVATE KEY")
        {
            throw new CredentialException($"{keyFile} holds an encrypted private key; give it unencrypted (the daemon has no passphrase to open it with)");
        }
        using AsymmetricAlgorithm privateKey = leaf.GetKeyAlgorithm() switch
        {
            EcPublicKey => ECDsa.Create(),
            RsaEncryption => RSA.Create(),
            var other => throw new CredentialException($"{certificateFile}: the certificate's key type ({other}) is not supported; use an EC or RSA key"),
        };
        try
        {
            switch (key.Label, privateKey)
            {
                case ("PRIVATE KEY", _):
                    privateKey.ImportPkcs8PrivateKey(key.Der, out _);
                    break;
                case ("EC PRIVATE KEY", ECDsa ec):
                    ec.ImportECPrivateKey(key.Der, out _);
                    break;
                case ("RSA PRIVATE KEY", RSA rsa):
                    rsa.ImportRSAPrivateKey(key.Der, out _);
                    break;
                default:
                    throw new CryptographicException($"an '{key.Label}' cannot be the key of a {(privateKey is RSA ? "RSA" : "EC")} certificate");
            }
            return privateKey is ECDsa ecKey ? leaf.CopyWithPrivateKey(ecKey) : leaf.CopyWithPrivateKey((RSA)privateKey);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            throw new CredentialException($"the private key in {keyFile} does not match the certificate in {certificateFile} ({ex.Message})");
        }
    }
}
