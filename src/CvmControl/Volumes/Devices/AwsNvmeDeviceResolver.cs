using Microsoft.Extensions.Options;

namespace CvmControl.Volumes.Devices;

/// <summary>
/// EBS volumes appear as NVMe namespaces whose controller serial is the volume id without its dash
/// (<c>vol-0abc</c> → <c>vol0abc</c>). udev links them as
/// <c>/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0abc</c> (also with <c>_1</c> from systemd v254
/// and <c>-ns-1</c> from amazon-ec2-utils). <c>/sys/block/nvme*/device/serial</c> is read as well, so a
/// volume is found without udev and a second controller with the same serial is seen. The serial belongs
/// to the controller, so all its namespaces show it; an EBS volume is always namespace 1, and only that
/// one is taken.
/// </summary>
internal sealed class AwsNvmeDeviceResolver(BlockDevices disks, IOptions<DeviceOptions> options, TimeProvider time, ILogger<AwsNvmeDeviceResolver> logger)
    : DeviceResolver(disks, options, time, logger)
{
    public static string SerialOf(string volumeId) => volumeId.Replace("-", "", StringComparison.Ordinal);

    public IReadOnlyList<string> LinkCandidates(string volumeId)
    {
        var link = Path.Combine(Disks.DevRoot, "disk", "by-id", "nvme-Amazon_Elastic_Block_Store_" + SerialOf(volumeId));
        return [link, link + "_1", link + "-ns-1"];
    }

    protected override DeviceSearch Search(string volumeId)
    {
        var search = new DeviceSearch();
        foreach (var link in LinkCandidates(volumeId))
        {
            search.Link(Disks, link);
        }
        var serial = SerialOf(volumeId);
        search.Try(Disks.SysPath("block", "nvme*", "device", "serial") + " = " + serial);
        foreach (var disk in Disks.Disks().Where(BlockDevices.IsNvmeNamespace))
        {
            if (Disks.Text(disk, "device/serial") == serial && Disks.NamespaceId(disk) == 1)
            {
                search.Match(disk, $"NVMe serial {serial}");
            }
        }
        return search;
    }
}
