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

    public Task RemoveAsync(string name, CancellationToken cancellationToken) =>
        runner.RunCheckedAsync("dmsetup remove failed",
            new ProcessSpec("dmsetup", ["remove", name]) { Timeout = TimeSpan.FromMinutes(2) }, cancellationToken);
}
