using Microsoft.Extensions.Options;

namespace CvmControl.Volumes.Devices;

/// <summary>
/// On a plain KVM/QEMU host (or any cloud not listed) a volume is named by its disk serial, as the
/// hypervisor sets it: <c>/sys/block/vdX/serial</c> for virtio-blk, the controller serial
/// (<c>/sys/block/nvmeXnY/device/serial</c>) for NVMe, and the VPD page 0x80 unit serial for SCSI.
/// Serials are read from sysfs only; every namespace of an NVMe controller shares its serial, so such a
/// controller with more than one namespace is refused as ambiguous.
/// </summary>
internal sealed class GenericSerialDeviceResolver(BlockDevices disks, IOptions<DeviceOptions> options, TimeProvider time, ILogger<GenericSerialDeviceResolver> logger)
    : DeviceResolver(disks, options, time, logger)
{
    protected override DeviceSearch Search(string volumeId)
    {
        var search = new DeviceSearch();
        search.Try(Disks.SysPath("block", "vd*", "serial") + " = " + volumeId);
        search.Try(Disks.SysPath("block", "nvme*", "device", "serial") + " = " + volumeId);
        search.Try(Disks.SysPath("block", "sd*", "device", "vpd_pg80") + " = " + volumeId);
        foreach (var disk in Disks.Disks())
        {
            if (disk.StartsWith("vd", StringComparison.Ordinal))
            {
                if (Disks.Text(disk, "serial") == volumeId)
                {
                    search.Match(disk, $"virtio-blk serial {volumeId}");
                }
            }
            else if (BlockDevices.IsNvmeNamespace(disk))
            {
                if (Disks.Text(disk, "device/serial") == volumeId)
                {
                    search.Match(disk, $"NVMe serial {volumeId}");
                }
            }
            else if (disk.StartsWith("sd", StringComparison.Ordinal))
            {
                if (Disks.Bytes(disk, "device/vpd_pg80") is { } page && DiskIdentity.ScsiUnitSerial(page) == volumeId)
                {
                    search.Match(disk, $"SCSI {Disks.DeviceDirectory(disk)?.Name} serial {volumeId}");
                }
            }
        }
        return search;
    }
}
