using CvmControl.OS;

namespace CvmControl.Volumes.Devices;

/// <summary>A device-mapper device as sysfs describes it.</summary>
/// <param name="Name">The kernel's name of the mapping (<c>dm/name</c>).</param>
/// <param name="Uuid">The mapping's UUID (<c>dm/uuid</c>); cryptsetup sets <c>CRYPT-LUKS2-&lt;uuid&gt;-&lt;name&gt;</c>.</param>
/// <param name="Slaves">The devices its table sits on (<c>slaves/*/dev</c>).</param>
internal sealed record DmDevice(DeviceNumber Number, string Name, string Uuid, IReadOnlyList<DeviceNumber> Slaves);

/// <summary>The identity of block devices: which device a node stands for, and what a mapping sits on.</summary>
internal interface IBlockDevices
{
    /// <summary>The device number of the block device node at <paramref name="path"/>; null when there is none.</summary>
    /// <exception cref="IOException">The node could not be examined.</exception>
    DeviceNumber? NumberOf(string path);

    /// <summary>The device-mapper device with that number; null when it is not one.</summary>
    /// <exception cref="IOException">sysfs could not be read.</exception>
    DmDevice? MappingOf(DeviceNumber number);
}
