using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using CvmControl.OS;
using Microsoft.Extensions.Options;

namespace CvmControl.Volumes.Devices;

/// <summary>Where a <c>/dev/disk/...</c> link leads.</summary>
internal enum LinkKind
{
    /// <summary>No link (yet), or one that dangles: udev may still be at work.</summary>
    Absent,

    /// <summary>A block device known to sysfs, named by <see cref="LinkTarget.Name"/>.</summary>
    Device,

    /// <summary>Something that is not a block device directly under /dev: never used.</summary>
    Refused,
}

internal readonly record struct LinkTarget(LinkKind Kind, string? Name = null, string? Why = null);

/// <summary>
/// The machine's block devices as sysfs, <c>/dev</c> and the mount table show them, plus the NVMe admin
/// seam. The roots come from <see cref="DeviceOptions"/>, so tests lay out a fake sysfs and /dev.
/// Every read tolerates a device that vanishes mid-look (an attachment in flight): it reads as absent.
/// </summary>
internal sealed partial class BlockDevices(IOptions<DeviceOptions> options, IMountTable mounts, INvmeAdmin nvme)
{
    private string SysRoot => options.Value.SysRoot;

    public string DevRoot => Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.Value.DevRoot));

    public string NodeOf(string name) => Path.Combine(DevRoot, name);

    /// <summary>Display form of a sysfs path, for error details.</summary>
    public string SysPath(params string[] parts) => Path.Combine([SysRoot, .. parts]);

    /// <summary>Whole disks (the entries of /sys/block), sorted by name.</summary>
    public IReadOnlyList<string> Disks()
    {
        try
        {
            return [.. Directory.EnumerateFileSystemEntries(Path.Combine(SysRoot, "block"))
                .Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>NVMe namespace disks (<c>nvme&lt;N&gt;n&lt;M&gt;</c>); per-path nodes such as <c>nvme0c0n1</c> are not disks.</summary>
    public static bool IsNvmeNamespace(string disk) => NvmeNamespaceName().IsMatch(disk);

    /// <summary>The trimmed text of <c>/sys/block/&lt;disk&gt;/&lt;relative&gt;</c>; null when unreadable.</summary>
    public string? Text(string disk, string relative)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(SysRoot, "block", disk, relative));
            return text.Trim(' ', '\n', '\r', '\t', '\0');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The raw bytes of a binary sysfs attribute (at most 4 KiB, as sysfs serves); null when unreadable.</summary>
    public byte[]? Bytes(string disk, string relative)
    {
        try
        {
            using var stream = File.OpenRead(Path.Combine(SysRoot, "block", disk, relative));
            var buffer = new byte[4096];
            var total = 0;
            int read;
            while (total < buffer.Length && (read = stream.Read(buffer, total, buffer.Length - total)) > 0)
            {
                total += read;
            }
            return buffer[..total];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The directory <c>/sys/block/&lt;disk&gt;/device</c> leads to; for a SCSI disk its name is H:C:T:L.</summary>
    public DirectoryInfo? DeviceDirectory(string disk) =>
        RealPath(Path.Combine(SysRoot, "block", disk, "device")) is { } target && Directory.Exists(target) ? new DirectoryInfo(target) : null;

    /// <summary>
    /// The value of <paramref name="attribute"/> on the nearest ancestor of the disk's device that has
    /// it, the way udev's <c>ATTRS{}</c> matches: e.g. a Hyper-V SCSI controller's VMBus <c>device_id</c>.
    /// </summary>
    public string? AncestorText(string disk, string attribute)
    {
        var root = RealPath(SysRoot) ?? Path.GetFullPath(SysRoot);
        for (var dir = DeviceDirectory(disk)?.Parent; dir is not null && dir.FullName.StartsWith(root + "/", StringComparison.Ordinal); dir = dir.Parent)
        {
            try
            {
                var file = Path.Combine(dir.FullName, attribute);
                if (File.Exists(file))
                {
                    return File.ReadAllText(file).Trim();
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }
        return null;
    }

    /// <summary>The namespace id of an NVMe namespace disk: sysfs <c>nsid</c>, else the number after 'n' in its name.</summary>
    public uint? NamespaceId(string disk)
    {
        if (Text(disk, "nsid") is { } text && uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var nsid))
        {
            return nsid;
        }
        var match = NvmeNamespaceName().Match(disk);
        return match.Success && uint.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out nsid) ? nsid : null;
    }

    /// <summary>Identify Namespace through the disk's node; throws <see cref="IOException"/> on failure.</summary>
    public byte[] IdentifyNamespace(string disk, uint nsid) => nvme.IdentifyNamespace(NodeOf(disk), nsid);

    /// <summary>
    /// Follows a link under <c>/dev/disk</c> to its final target. Only a block device that sysfs knows,
    /// directly under /dev, is accepted: a link leading outside /dev, or to a file or directory inside it,
    /// is refused (udev never makes one; a link like that was planted).
    /// </summary>
    public LinkTarget Follow(string link)
    {
        string path;
        try
        {
            var info = new FileInfo(link);
            if (info.LinkTarget is null && !info.Exists)
            {
                return new LinkTarget(LinkKind.Absent);
            }
            // Null for a link that dangles: udev may still be at work.
            if (RealPath(link) is not { } resolved)
            {
                return new LinkTarget(LinkKind.Absent);
            }
            path = resolved;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new LinkTarget(LinkKind.Absent);
        }

        var full = Path.GetFullPath(path);
        var devRoot = RealPath(DevRoot) ?? DevRoot;
        if (!full.StartsWith(devRoot + "/", StringComparison.Ordinal))
        {
            return new LinkTarget(LinkKind.Refused, Why: $"{link} points to {full}, outside {DevRoot}");
        }
        var name = full[(devRoot.Length + 1)..];
        if (name.Contains('/', StringComparison.Ordinal) || !Directory.Exists(Path.Combine(SysRoot, "class", "block", name)))
        {
            return new LinkTarget(LinkKind.Refused, Why: $"{link} points to {full}, which is not a block device");
        }
        return new LinkTarget(LinkKind.Device, name);
    }

    /// <summary>
    /// Why <paramref name="name"/> must not become a volume, or null when it may: a partition, a device
    /// the host did not attach (dm, loop, md), one that holds the root filesystem, or one that is mounted
    /// (itself or any of its partitions).
    /// </summary>
    public string? Refusal(string name)
    {
        var node = NodeOf(name);
        if (File.Exists(Path.Combine(SysRoot, "class", "block", name, "partition")))
        {
            return $"{node} is a partition of {ParentOf(name) ?? "another disk"}; a volume must be a whole disk";
        }
        if (!Directory.Exists(Path.Combine(SysRoot, "block", name, "device")))
        {
            return $"{node} is not a disk the host attached (sysfs shows no device behind it)";
        }
        var entries = MountEntries();
        if (RootDisks(entries).Contains(name))
        {
            return $"{node} holds the root filesystem";
        }
        var numbers = new HashSet<DeviceNumber>();
        foreach (var block in PartitionsOf(name).Prepend(name))
        {
            if (SysfsNumber(block) is { } number)
            {
                numbers.Add(number);
            }
        }
        var mounted = entries.Where(e => e.Device is { } n && numbers.Contains(n))
            .Select(e => e.MountPoint).Distinct().Order(StringComparer.Ordinal).ToList();
        return mounted.Count > 0 ? $"{node} is mounted at {string.Join(", ", mounted)}" : null;
    }

    /// <summary>
    /// The whole disks under the root filesystem: its device, through partitions to their disk and
    /// through device-mapper or md slaves to theirs.
    /// </summary>
    public IReadOnlySet<string> RootDisks() => RootDisks(MountEntries());

    private HashSet<string> RootDisks(IReadOnlyList<MountEntry> entries)
    {
        var disks = new HashSet<string>(StringComparer.Ordinal);
        if (entries.LastOrDefault(e => e.MountPoint == "/") is not { } root)
        {
            return disks;
        }
        var name = root.Device is { Major: not 0 } number ? BlockWithNumber(number) : null;
        // Filesystems such as btrfs report an anonymous device number; their source names the device.
        if (name is null && root.Source.StartsWith("/dev/", StringComparison.Ordinal)
            && Follow(Path.Combine(DevRoot, root.Source["/dev/".Length..])) is { Kind: LinkKind.Device } target)
        {
            name = target.Name;
        }
        if (name is not null)
        {
            CollectDisks(name, disks, depth: 0);
        }
        return disks;
    }

    private void CollectDisks(string name, HashSet<string> disks, int depth)
    {
        if (depth > 16 || !disks.Add(name))
        {
            return;
        }
        if (File.Exists(Path.Combine(SysRoot, "class", "block", name, "partition")) && ParentOf(name) is { } parent)
        {
            CollectDisks(parent, disks, depth + 1);
        }
        foreach (var slave in Entries(Path.Combine(SysRoot, "class", "block", name, "slaves")))
        {
            CollectDisks(slave, disks, depth + 1);
        }
    }

    private IReadOnlyList<MountEntry> MountEntries()
    {
        try
        {
            return mounts.Entries();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>The disk a partition belongs to: the parent of its directory in /sys/devices.</summary>
    private string? ParentOf(string partition) =>
        RealPath(Path.Combine(SysRoot, "class", "block", partition)) is { } directory ? Path.GetFileName(Path.GetDirectoryName(directory)) : null;

    private IEnumerable<string> PartitionsOf(string disk) =>
        Entries(Path.Combine(SysRoot, "block", disk))
            .Where(child => File.Exists(Path.Combine(SysRoot, "block", disk, child, "partition")));

    /// <summary><c>major:minor</c> of a block device, from <c>/sys/class/block/&lt;name&gt;/dev</c>.</summary>
    private DeviceNumber? SysfsNumber(string name)
    {
        try
        {
            return OS.DeviceNumber.Parse(File.ReadAllText(Path.Combine(SysRoot, "class", "block", name, "dev")));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private string? BlockWithNumber(DeviceNumber number) =>
        Entries(Path.Combine(SysRoot, "class", "block")).FirstOrDefault(name => SysfsNumber(name) == number);

    private static IEnumerable<string> Entries(string directory)
    {
        try
        {
            return [.. Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>
    /// The physical path, as realpath(3) gives it. sysfs is a tree of relative links between linked
    /// directories (<c>/sys/block/sda</c> → <c>../devices/…/block/sda</c>, whose <c>device</c> is
    /// <c>../../../0:0:0:1</c>), so a link must be resolved against where its directory really is, not
    /// against the path it was reached by, as .NET's ResolveLinkTarget does. Null when it does not exist.
    /// </summary>
    internal static string? RealPath(string path)
    {
        var resolved = RealPathNative(path, 0);
        if (resolved == 0)
        {
            return null;
        }
        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            Free(resolved);
        }
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPathNative(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);

    [GeneratedRegex("^nvme[0-9]+n([0-9]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex NvmeNamespaceName();
}
