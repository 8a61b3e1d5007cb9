namespace CvmControl.Validation;

/// <summary>Which mount points a request may use.</summary>
internal static class MountPoints
{
    /// <summary>System trees a volume must never be mounted on or under.</summary>
    public static readonly IReadOnlyList<string> Forbidden =
        ["/proc", "/sys", "/dev", "/run", "/boot", "/etc", "/usr", "/bin", "/sbin", "/lib"];

    /// <summary>Returns null when <paramref name="path"/> is acceptable, or why it is not.</summary>
    public static string? Check(string path)
    {
        if (!path.StartsWith('/'))
        {
            return "must be an absolute path";
        }
        if (path == "/")
        {
            return "must not be /";
        }
        if (path.Length > 4096 || path.Any(char.IsControl) || !Names.IsWellFormed(path))
        {
            return "contains characters that are not allowed";
        }
        if (!IsNormalised(path))
        {
            return "must be normalised (no //, /./, /../ or trailing /)";
        }
        foreach (var root in Forbidden)
        {
            if (IsSameOrUnder(path, root))
            {
                return $"must not be {root} or lie under it";
            }
        }
        return null;
    }

    public static bool IsSameOrUnder(string path, string root) =>
        path == root || path.StartsWith(root + "/", StringComparison.Ordinal);

    private static bool IsNormalised(string path)
    {
        if (path.EndsWith('/'))
        {
            return false;
        }
        foreach (var segment in path[1..].Split('/'))
        {
            if (segment is "" or "." or "..")
            {
                return false;
            }
        }
        return true;
    }
}
