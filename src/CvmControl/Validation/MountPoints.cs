namespace CvmControl.Validation;

/// <summary>Which mount points a request may use.</summary>
internal static class MountPoints
{
    /// <summary>
    /// System trees a volume must never be mounted on or under: the API's list, plus the other homes of
    /// the dynamic loader and libraries (/lib64, /lib32, /libx32) and the Nix store, whose loss would
    /// break every tool the daemon runs.
    /// </summary>
    public static readonly IReadOnlyList<string> Forbidden =
        ["/proc", "/sys", "/dev", "/run", "/boot", "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32", "/nix"];

    /// <summary>
    /// Returns null when <paramref name="path"/> is acceptable, or why it is not. With <paramref name="runDir"/>,
    /// a mount point must also not cover the run dir (it would hide the env files) or lie inside it.
    /// </summary>
    public static string? Check(string path, string? runDir = null)
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
        if (runDir is not null && (IsSameOrUnder(runDir, path) || IsSameOrUnder(path, runDir)))
        {
            return $"must not cover or lie inside the run dir {runDir}";
        }
        return null;
    }

    public static bool IsSameOrUnder(string path, string root) =>
        path == root || path.StartsWith(root + "/", StringComparison.Ordinal);

    public static bool IsNormalised(string path)
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
