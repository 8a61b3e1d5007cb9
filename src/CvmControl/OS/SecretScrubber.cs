namespace CvmControl.OS;

/// <summary>Removes secret values from text that may leave the process (error details, logs).</summary>
internal static class SecretScrubber
{
    public const string Mask = "[REDACTED]";

    public static string Scrub(string text, IEnumerable<string> secrets)
    {
        ArgumentNullException.ThrowIfNull(text);
        // Longest first, so a secret that contains another is removed whole.
        foreach (var secret in secrets.Where(s => !string.IsNullOrEmpty(s)).OrderByDescending(s => s.Length))
        {
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }
        return text;
    }
}
