using System.Globalization;

namespace CvmControl.Tools;

/// <summary>
/// The one LUKS2 cipher policy. New volumes and new keyslots are made with exactly these settings, and
/// <c>LuksHeaderPolicy</c> accepts no other cipher or key size in a header, so what the daemon writes
/// and what it accepts cannot drift apart.
/// </summary>
internal static class LuksParameters
{
    /// <summary>Data segment and keyslot area cipher.</summary>
    public const string Cipher = "aes-xts-plain64";

    /// <summary>XTS takes two AES-256 keys.</summary>
    public const int KeyBits = 512;

    public const int KeyBytes = KeyBits / 8;

    /// <summary>The KDF of every keyslot the daemon makes.</summary>
    public const string Pbkdf = "argon2id";

    /// <summary>The hash of the volume key digest and of the anti-forensic splitter.</summary>
    public const string Hash = "sha256";

    public static string KeyBitsText => KeyBits.ToString(CultureInfo.InvariantCulture);
}
