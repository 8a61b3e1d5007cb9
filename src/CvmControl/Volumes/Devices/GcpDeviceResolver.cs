using Microsoft.Extensions.Options;

namespace CvmControl.Volumes.Devices;

/// <summary>
/// A GCP persistent disk is named by its device name, given when it is attached. guest-configs' udev
/// rules link it as <c>/dev/disk/by-id/google-&lt;name&gt;</c>, and systemd's as
/// <c>scsi-0Google_PersistentDisk_&lt;name&gt;</c>. Without udev the name is read where those rules read it:
/// <list type="bullet">
/// <item>a SCSI disk (vendor <c>Google</c>, model <c>PersistentDisk</c>) carries it as its VPD page 0x80 serial;</item>
/// <item>an NVMe persistent disk (controller model <c>nvme_card-pd</c>) carries it as <c>device_name</c> in the
/// JSON of Identify Namespace's vendor-specific area, read with the NVMe admin ioctl.</item>
/// </list>
/// </summary>
internal sealed partial class GcpDeviceResolver(BlockDevices disks, IOptions<DeviceOptions> options, TimeProvider time, ILogger<GcpDeviceResolver> logger)
    : DeviceResolver(disks, options, time, logger)
{
    public const string ScsiVendor = "Google";
    public const string ScsiModel = "PersistentDisk";
    public const string NvmeModel = "nvme_card-pd";


    protected override DeviceSearch Search(string volumeId)
    {
        var search = new DeviceSearch();
        search.Link(Disks, Path.Combine(Disks.DevRoot, "disk", "by-id", "google-" + volumeId));
        search.Link(Disks, Path.Combine(Disks.DevRoot, "disk", "by-id", "scsi-0Google_PersistentDisk_" + volumeId));
        search.Try($"SCSI disks {ScsiVendor} {ScsiModel} with VPD 0x80 serial {volumeId}");
        search.Try($"NVMe namespaces of {NvmeModel} whose identify data names {volumeId}");

        foreach (var disk in Disks.Disks())
        {
            if (disk.StartsWith("sd", StringComparison.Ordinal))
            {
                if (Disks.Text(disk, "device/vendor") == ScsiVendor && Disks.Text(disk, "device/model") == ScsiModel
                    && Disks.Bytes(disk, "device/vpd_pg80") is { } page && DiskIdentity.ScsiUnitSerial(page) == volumeId)
                {
                    search.Match(disk, $"SCSI {Disks.DeviceDirectory(disk)?.Name} {ScsiVendor} {ScsiModel}, serial {volumeId}");
                }
            }
            else if (BlockDevices.IsNvmeNamespace(disk) && Disks.Text(disk, "device/model") == NvmeModel && Disks.NamespaceId(disk) is { } nsid)
            {
                string? name;
                string? problem;
                try
                {
                    name = DiskIdentity.GcpDeviceName(Disks.IdentifyNamespace(disk, nsid), out problem);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    (name, problem) = (null, ex.Message);
                }
                if (name == volumeId)
                {
                    search.Match(disk, $"NVMe {NvmeModel} namespace {nsid}, device_name {volumeId}");
                }
                else if (problem is not null)
                {
                    LogUnreadable(Logger, disk, problem);
                }
            }
        }
        return search;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "NVMe disk {Disk} gives no GCP device name: {Problem}")]
    private static partial void LogUnreadable(ILogger logger, string disk, string problem);
}
