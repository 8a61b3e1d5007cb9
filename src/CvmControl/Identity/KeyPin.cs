using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Identity;

/// <summary>
/// A public key pin as curl's <c>--pinnedpubkey</c> takes it: <c>sha256//</c> and the base64
/// SHA-256 of the DER SubjectPublicKeyInfo. It names a key, whatever certificate carries it.
/// </summary>
internal sealed record KeyPin
{
    public const string Prefix = "sha256//";

    private readonly string _base64;

    private KeyPin(byte[] sha256) => _base64 = Convert.ToBase64String(sha256);

    public override string ToString() => Prefix + _base64;

    public static KeyPin Of(X509Certificate2 certificate) =>
        new(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));

    public static KeyPin? TryParse(string text, out string? error)
    {
        const string Expected = "must be sha256// and the base64 SHA-256 of a public key (SubjectPublicKeyInfo), as curl --pinnedpubkey takes";
        error = Expected;
        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }
        var digest = new byte[SHA256.HashSizeInBytes];
        var base64 = text.AsSpan(Prefix.Length);
        if (!Convert.TryFromBase64Chars(base64, digest, out var written) || written != SHA256.HashSizeInBytes
            || base64.Length != 44 || base64.ContainsAny(" \t\r\n"))
        {
            return null;
        }
        error = null;
        return new KeyPin(digest);
    }
}
