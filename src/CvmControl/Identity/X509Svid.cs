using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Identity;

/// <summary>
/// The leaf rules of an X.509-SVID (github.com/spiffe/spiffe, standards/X509-SVID.md): exactly one
/// URI SAN, a valid SPIFFE ID; not a CA; no keyCertSign or cRLSign key usage.
/// </summary>
internal static class X509Svid
{
    private const string SubjectAltName = "2.5.29.17";

    private static readonly Asn1Tag UriTag = new(TagClass.ContextSpecific, 6);

    /// <summary>The SPIFFE ID of a leaf that keeps every rule; otherwise null, with the broken rule in <paramref name="error"/>.</summary>
    public static SpiffeId? IdOf(X509Certificate2 leaf, out string? error)
    {
        IReadOnlyList<string> uris;
        try
        {
            uris = UriSans(leaf);
        }
        catch (Exception ex) when (ex is AsnContentException or CryptographicException)
        {
            error = $"its subjectAltName cannot be read ({ex.Message})";
            return null;
        }
        if (uris.Count != 1)
        {
            error = uris.Count == 0
                ? "it has no URI SAN, so no SPIFFE ID"
                : $"it has {uris.Count} URI SANs ({string.Join(", ", uris.Select(Printable))}); an X.509-SVID has exactly one";
            return null;
        }
        var id = SpiffeId.TryParse(uris[0], out var idError);
        if (id is null)
        {
            error = $"its URI SAN \"{Printable(uris[0])}\" is not a valid SPIFFE ID: it {idError}";
            return null;
        }
        if (leaf.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is { CertificateAuthority: true })
        {
            error = $"{id} is a CA certificate (basicConstraints CA:TRUE); an X.509-SVID leaf may not be";
            return null;
        }
        if (leaf.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault() is { } usage
            && (usage.KeyUsages & (X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign)) != 0)
        {
            error = $"{id} has the keyCertSign or cRLSign key usage; an X.509-SVID leaf may not";
            return null;
        }
        error = null;
        return id;
    }

    /// <summary>Every uniformResourceIdentifier of the subjectAltName extension, exactly as encoded (no normalising).</summary>
    public static IReadOnlyList<string> UriSans(X509Certificate2 certificate)
    {
        var uris = new List<string>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != SubjectAltName)
            {
                continue;
            }
            var names = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
            while (names.HasData)
            {
                if (names.PeekTag().HasSameClassAndValue(UriTag))
                {
                    uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, UriTag));
                }
                else
                {
                    names.ReadEncodedValue();
                }
            }
        }
        return uris;
    }

    /// <summary>What a log line may show of a client-chosen string: bounded, and no control characters.</summary>
    public static string Printable(string text) =>
        string.Concat(text.Take(256).Select(c => char.IsControl(c) ? '?' : c)) + (text.Length > 256 ? "..." : "");
}
