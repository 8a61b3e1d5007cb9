namespace CvmControl.Validation;

/// <summary>Untrusted text made safe to echo in a one-line message: at most 64 characters, control characters as '?'.</summary>
internal static class Printable
{
    public const int MaxLength = 64;

    public static string Of(string raw) =>
        raw.Length > MaxLength || raw.Any(char.IsControl) ? string.Concat(raw.Take(MaxLength).Select(c => char.IsControl(c) ? '?' : c)) : raw;
}
