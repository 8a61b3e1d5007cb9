using System.Text.RegularExpressions;

namespace CvmControl.Validation;

/// <summary>The character rules that keep request names inside their directories and readable by systemd.</summary>
internal static partial class Names
{
    public const int MaxDmNameLength = 127;

    /// <summary>A volume with integrity also names the two mappings under its dm-crypt one after itself.</summary>
    public const int MaxIntegrityDmNameLength = MaxDmNameLength - Volumes.LayerNames.LongestSuffixLength;
    public const int MaxFileNameLength = 255;
    public const int MaxVolumeIdLength = 255;

    // \z, not $, in these patterns: $ also matches before a final newline.
    // No leading '-': a name that reaches a tool's argv must never read as an option.
    [GeneratedRegex("^[A-Za-z0-9._][A-Za-z0-9._-]*\\z", RegexOptions.CultureInvariant)]
    private static partial Regex FileNamePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*\\z", RegexOptions.CultureInvariant)]
    private static partial Regex EnvKeyPattern();

    // Volume ids become part of device paths (/dev/disk/by-id/...): no slash, no leading dot.
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:-]*\\z", RegexOptions.CultureInvariant)]
    private static partial Regex VolumeIdPattern();

    public static bool IsFileName(string name) =>
        name.Length <= MaxFileNameLength && name is not "." and not ".." && FileNamePattern().IsMatch(name);

    /// <summary>dm names share the file-name alphabet (they become /dev/mapper entries), with the kernel's 127-byte limit.</summary>
    public static bool IsDmName(string name) =>
        name.Length <= MaxDmNameLength && name is not "." and not ".." && FileNamePattern().IsMatch(name);

    public static bool IsEnvKey(string key) => EnvKeyPattern().IsMatch(key);

    public static bool IsVolumeId(string id) => id.Length <= MaxVolumeIdLength && VolumeIdPattern().IsMatch(id);

    /// <summary>A value systemd can read back exactly: no NUL, no line breaks, and well-formed Unicode.</summary>
    public static bool IsEnvValue(string value) =>
        !value.AsSpan().ContainsAny('\0', '\n', '\r') && IsWellFormed(value);

    public static bool IsWellFormed(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return false;
            }
        }
        return true;
    }
}
