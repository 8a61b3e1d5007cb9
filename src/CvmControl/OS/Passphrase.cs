using System.Security.Cryptography;
using System.Text;

namespace CvmControl.OS;

/// <summary>
/// A LUKS passphrase. Its exact UTF-8 bytes go to cryptsetup's stdin (no trailing newline);
/// <see cref="ToString"/> is redacted so that it cannot leak through logging or string interpolation.
/// It lives beside the process runner and the scrubber, the other handlers of secrets bound for a
/// child process, so that the tool wrappers and the volume layer above them share one type.
/// </summary>
internal sealed class Passphrase
{
    private readonly byte[] _utf8;

    public Passphrase(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        Value = value;
        _utf8 = Encoding.UTF8.GetBytes(value);
    }

    /// <summary>The text, for scrubbing tool output. Do not log.</summary>
    public string Value { get; }

    public ReadOnlyMemory<byte> Utf8 => _utf8;

    /// <summary>Constant-time comparison of the bytes.</summary>
    public bool SameAs(Passphrase other) => CryptographicOperations.FixedTimeEquals(_utf8, other._utf8);

    public override string ToString() => "[passphrase]";
}
