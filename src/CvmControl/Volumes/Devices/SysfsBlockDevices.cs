using CvmControl.OS;
using Microsoft.Extensions.Options;

namespace CvmControl.Volumes.Devices;

/// <summary>
/// Block device identity from stat and sysfs: a node's rdev, then <c>/sys/dev/block/M:m</c> for the
/// mapping's name, UUID and the devices under it. Names in /dev are not trusted; numbers are.
/// </summary>
internal sealed class SysfsBlockDevices(IOptions<DeviceOptions> options) : IBlockDevices
{
    public DeviceNumber? NumberOf(string path) => DeviceNode.BlockDeviceNumber(path);

    public DmDevice? MappingOf(DeviceNumber number)
    {
        var device = Path.Combine(options.Value.SysRoot, "dev", "block", number.ToString());
        var dm = Path.Combine(device, "dm");
        if (!Directory.Exists(dm))
        {
            return null;
        }
        var slavesDir = Path.Combine(device, "slaves");
        var slaves = Directory.Exists(slavesDir)
            ? Directory.EnumerateFileSystemEntries(slavesDir)
                .Order(StringComparer.Ordinal)
                .Select(slave => DeviceNumber.Parse(File.ReadAllText(Path.Combine(slave, "dev")))
                    ?? throw new IOException($"{slave}/dev is not major:minor"))
                .ToList()
            : [];
        return new DmDevice(number, ReadLine(Path.Combine(dm, "name")), ReadLine(Path.Combine(dm, "uuid")), slaves);
    }

    private static string ReadLine(string path) => File.ReadAllText(path).TrimEnd('\n');
}
