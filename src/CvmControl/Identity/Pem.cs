using System.Security.Cryptography;
using System.Text;

namespace CvmControl.Identity;

/// <summary>One PEM block: its label (<c>CERTIFICATE</c>, <c>PRIVATE KEY</c>...) and its DER bytes.</summary>
internal readonly record struct PemBlock(string Label, byte[] Der);

/// <summary>
/// Reads every PEM block of a file, strictly: a block that starts but does not end (a file caught
/// half-written) or that does not decode fails the whole file, instead of being skipped the way
/// <c>ImportFromPem</c> skips it. Text between blocks (openssl's "Bag Attributes") is allowed.
/// </summary>
internal static class Pem
{
    public static IReadOnlyList<PemBlock> Read(ReadOnlySpan<byte> bytes, string name)
    {
        var text = Encoding.Latin1.GetString(bytes).AsSpan();
        var blocks = new List<PemBlock>();
        var offset = 0;
        while (PemEncoding.TryFind(text[offset..], out var fields))
        {
            var found = text[offset..];
            if (found[..fields.Location.Start.Value].Contains("-----BEGIN", StringComparison.Ordinal))
            {
                throw Broken(name, blocks.Count);
            }
            var der = new byte[fields.DecodedDataLength];
            if (!Convert.TryFromBase64Chars(found[fields.Base64Data], der, out var written) || written != der.Length)
            {
                throw Broken(name, blocks.Count);
            }
            blocks.Add(new PemBlock(found[fields.Label].ToString(), der));
            offset += fields.Location.End.Value;
        }
        if (text[offset..].Contains("-----BEGIN", StringComparison.Ordinal))
        {
            throw Broken(name, blocks.Count);
        }
        if (blocks.Count == 0)
        {
            throw new CredentialException(bytes.IsEmpty ? $"{name} is empty" : $"{name} holds no PEM block");
        }
        return blocks;
    }

    private static CredentialException Broken(string name, int complete) =>
        new($"{name} has an incomplete or malformed PEM block after {complete} complete one{(complete == 1 ? "" : "s")} (truncated, or still being written?)");
}

/// <summary>A credential file that cannot be used; the message names the file and says why.</summary>
internal sealed class CredentialException(string message) : Exception(message);
