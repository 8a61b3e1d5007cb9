namespace CvmControl.OS;

/// <summary>Removes secret values from text that may leave the process (error details, logs).</summary>
internal static class SecretScrubber
{
    public const string Mask = "[REDACTED]";

    /// <summary>Shorter secrets match ordinary words by chance, so masking them would garble the text.</summary>
    public const int MinMaskableLength = 4;

    public const string Withheld = "[detail withheld: it contains a string equal to a short passphrase]";

    /// <summary>
    /// Masks every occurrence of each secret. When a secret too short to mask cleanly occurs anywhere,
    /// the whole text is withheld instead: a garbled message helps nobody, and a leaked secret is worse.
    /// </summary>
    public static string Scrub(string text, IEnumerable<string> secrets)
    {
        ArgumentNullException.ThrowIfNull(text);
        // Longest first, so a secret that contains another is removed whole.
        foreach (var secret in secrets.Where(s => !string.IsNullOrEmpty(s)).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length))
        {
            if (!text.Contains(secret, StringComparison.Ordinal))
            {
                continue;
            }
            if (secret.Length < MinMaskableLength)
            {
                return Withheld;
            }
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }
        return text;
    }
}
