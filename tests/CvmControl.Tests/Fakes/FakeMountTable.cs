using System.Collections.Concurrent;
using CvmControl.OS;

namespace CvmControl.Tests.Fakes;

internal sealed class FakeMountTable : IMountTable
{
    public ConcurrentDictionary<string, MountEntry> Mounted { get; } = new();

    public void Mount(string mountPoint, string source = "/dev/mapper/x", DeviceNumber? device = null) => Mounted[mountPoint] = new MountEntry(mountPoint, "ext4", source, device);

    public MountEntry? Find(string mountPoint) => Mounted.TryGetValue(mountPoint, out var entry) ? entry : null;

    /// <summary>Filesystem reported for any path that is not under a mounted entry.</summary>
    public string RootFileSystem { get; set; } = "tmpfs";

    public string? FileSystemOf(string path) =>
        MountInfoParser.Containing([.. Mounted.Values], path)?.FileSystemType ?? RootFileSystem;

    public IReadOnlyList<MountEntry> Entries() => [.. Mounted.Values];
}
