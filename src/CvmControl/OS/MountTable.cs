using System.Text;

namespace CvmControl.OS;

/// <summary>One line of /proc/self/mountinfo, with the kernel's octal escapes undone.</summary>
/// <param name="Device">The mounted filesystem's device (field 3, st_dev): for a dm-crypt mount, the mapping's number.</param>
internal sealed record MountEntry(string MountPoint, string FileSystemType, string Source, DeviceNumber? Device = null);

internal interface IMountTable
{
    /// <summary>Returns the entry mounted at exactly <paramref name="mountPoint"/> (the topmost one), or null.</summary>
    MountEntry? Find(string mountPoint);

    /// <summary>The filesystem type that holds <paramref name="path"/>: that of the longest mount point above it.</summary>
    string? FileSystemOf(string path);

    /// <summary>Every entry, in mount order.</summary>
    IReadOnlyList<MountEntry> Entries();
}

/// <summary>Reads a mountinfo file (by default the daemon's own /proc/self/mountinfo).</summary>
internal sealed class MountInfoTable(string path = "/proc/self/mountinfo") : IMountTable
{
    public MountEntry? Find(string mountPoint)
    {
        // Later lines are mounted on top of earlier ones at the same point.
        return MountInfoParser.Parse(File.ReadAllText(path)).LastOrDefault(e => e.MountPoint == mountPoint);
    }

    public string? FileSystemOf(string target) => MountInfoParser.Containing(MountInfoParser.Parse(File.ReadAllText(path)), target)?.FileSystemType;

    public IReadOnlyList<MountEntry> Entries() => MountInfoParser.Parse(File.ReadAllText(path));
}

internal static class MountInfoParser
{
    // Format (proc(5)): id parent major:minor root mountpoint options [optional...] - fstype source superopts
    public static IReadOnlyList<MountEntry> Parse(string text)
    {
        var entries = new List<MountEntry>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ');
            if (fields.Length < 10)
            {
                continue;
            }
            var separator = Array.IndexOf(fields, "-", 6);
            if (separator < 0 || separator + 2 >= fields.Length)
            {
                continue;
            }
            entries.Add(new MountEntry(Unescape(fields[4]), Unescape(fields[separator + 1]), Unescape(fields[separator + 2]), DeviceNumber.Parse(fields[2])));
        }
        return entries;
    }

    /// <summary>The entry whose mount point is the longest prefix of <paramref name="target"/> (the last one wins a tie).</summary>
    public static MountEntry? Containing(IReadOnlyList<MountEntry> entries, string target) =>
        entries
            .Select((entry, index) => (entry, index))
            .Where(e => target == e.entry.MountPoint || target.StartsWith(e.entry.MountPoint.TrimEnd('/') + "/", StringComparison.Ordinal))
            .OrderByDescending(e => e.entry.MountPoint.Length)
            .ThenByDescending(e => e.index)
            .Select(e => e.entry)
            .FirstOrDefault();

    /// <summary>Undoes the kernel's \ooo escapes (space, tab, newline, backslash).</summary>
    public static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }
        var bytes = new List<byte>(field.Length);
        var raw = Encoding.UTF8.GetBytes(field);
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] == '\\' && IsOctal(raw, i + 1))
            {
                bytes.Add((byte)(((raw[i + 1] - '0') << 6) | ((raw[i + 2] - '0') << 3) | (raw[i + 3] - '0')));
                i += 3;
            }
            else
            {
                bytes.Add(raw[i]);
            }
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }

    private static bool IsOctal(byte[] raw, int start) =>
        start + 2 < raw.Length
        && raw[start] is >= (byte)'0' and <= (byte)'3'
        && raw[start + 1] is >= (byte)'0' and <= (byte)'7'
        && raw[start + 2] is >= (byte)'0' and <= (byte)'7';
}
