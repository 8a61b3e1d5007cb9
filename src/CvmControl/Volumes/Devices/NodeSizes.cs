using System.Globalization;
using Microsoft.Extensions.Options;

namespace CvmControl.Volumes.Devices;

/// <summary>
/// The size of a block device node, such as a /dev/mapper entry: .NET reports 0 as the length of a
/// block device, so it is read from sysfs by device number (<c>/sys/dev/block/MAJ:MIN/size</c>, in
/// 512-byte sectors). A regular file (a test's stand-in) gives its own length.
/// </summary>
internal sealed class NodeSizes(IBlockDevices blocks, IOptions<DeviceOptions> options)
{
    /// <exception cref="IOException">The node or its sysfs entry could not be read.</exception>
    public long SizeOf(string path)
    {
        var info = new FileInfo(path);
        // .NET gives a block device the length 0, and does not always mark it as a device.
        if (info.Exists && (info.Attributes & FileAttributes.Device) == 0 && info.Length > 0)
        {
            return info.Length;
        }
        var number = blocks.NumberOf(path) ?? throw new IOException($"{path} is not a block device");
        var text = File.ReadAllText(Path.Combine(options.Value.SysRoot, "dev", "block", $"{number.Major}:{number.Minor}", "size")).Trim();
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var sectors)
            ? sectors * 512
            : throw new IOException($"the size of {path} in sysfs is not a number: {text}");
    }
}
