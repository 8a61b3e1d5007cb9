using System.Globalization;
using CvmControl.OS;

namespace CvmControl.Tools;

/// <summary>dmsetup, for the one plain mapping the daemon makes itself: a linear window onto part of a disk.</summary>
internal sealed class Dmsetup(IProcessRunner runner)
{
    /// <summary>
    /// Maps <paramref name="lengthSectors"/> sectors of <paramref name="device"/>, from <paramref name="startSector"/>,
    /// as <c>/dev/mapper/<paramref name="name"/></c>. The node is made explicitly too, for hosts without udev.
    /// </summary>
    public async Task CreateLinearAsync(string name, string device, long startSector, long lengthSectors, CancellationToken cancellationToken)
    {
        var table = string.Create(CultureInfo.InvariantCulture, $"0 {lengthSectors} linear {device} {startSector}");
        await runner.RunCheckedAsync("dmsetup create failed",
            new ProcessSpec("dmsetup", ["create", name, "--table", table]) { Timeout = TimeSpan.FromMinutes(2) }, cancellationToken);
        await runner.RunCheckedAsync("dmsetup mknodes failed",
            new ProcessSpec("dmsetup", ["mknodes", name]) { Timeout = TimeSpan.FromMinutes(2) }, cancellationToken);
    }

    /// <summary>Removes the mapping, then its node: without udev, <c>dmsetup remove</c> leaves a stale /dev/mapper node behind.</summary>
    public async Task RemoveAsync(string name, CancellationToken cancellationToken)
    {
        await runner.RunCheckedAsync("dmsetup remove failed",
            new ProcessSpec("dmsetup", ["remove", name]) { Timeout = TimeSpan.FromMinutes(2) }, cancellationToken);
        await RemoveStaleNodeAsync(name, cancellationToken);
    }

    /// <summary>
    /// <c>dmsetup mknodes NAME</c> for a mapping that does not exist removes its leftover node. Best effort:
    /// a stale node is harmless to the daemon, which checks a node's mapping by name in sysfs, and the next
    /// <c>mknodes</c> after a create rewrites it.
    /// </summary>
    public Task RemoveStaleNodeAsync(string name, CancellationToken cancellationToken) =>
        runner.RunAsync("dmsetup mknodes failed",
            new ProcessSpec("dmsetup", ["mknodes", name]) { Timeout = TimeSpan.FromMinutes(2) }, cancellationToken);
}
