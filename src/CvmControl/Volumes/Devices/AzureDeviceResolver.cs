using System.Globalization;
using Microsoft.Extensions.Options;

namespace CvmControl.Volumes.Devices;

/// <summary>
/// An Azure data disk is named by its LUN, 0–63. udev links it as <c>/dev/disk/azure/data/by-lun/&lt;N&gt;</c>
/// (azure-vm-utils) or <c>/dev/disk/azure/scsi1/lun&lt;N&gt;</c> (WALinuxAgent). Without udev the disk is found
/// the way those rules find it:
/// <list type="bullet">
/// <item>a SCSI disk, vendor <c>Msft</c> and model <c>Virtual Disk</c>, whose H:C:T:L ends in the LUN, on a
/// data-disk controller: a Hyper-V SCSI controller whose VMBus <c>device_id</c> is
/// <c>{f8b3781b|c|d-1e82-4818-a1c3-63d806ec15bb}</c>. The OS and resource disks sit on
/// <c>{f8b3781a-…}</c> (LUN 0 and 1) or on controllers whose id starts <c>00000000-0000-</c> and
/// <c>00000000-0001-</c>. A SCSI controller with no VMBus identity at all counts as a data-disk controller
/// unless it carries the root filesystem's disk: nothing else tells it apart;</item>
/// <item>a namespace of the remote-disk NVMe controller (model <c>MSFT NVMe Accelerator v1.0</c>) with
/// nsid = LUN + 2 (nsid 1 is the OS disk), unless its Identify Namespace metadata says otherwise
/// (<c>type=data,lun=N</c>).</item>
/// </list>
/// </summary>
internal sealed class AzureDeviceResolver(BlockDevices disks, IOptions<DeviceOptions> options, TimeProvider time, ILogger<AzureDeviceResolver> logger)
    : DeviceResolver(disks, options, time, logger)
{
    public const string ScsiVendor = "Msft";
    public const string ScsiModel = "Virtual Disk";
    public const string NvmeModel = "MSFT NVMe Accelerator v1.0";

    /// <summary>VMBus instance ids of the SCSI controllers that carry data disks (scsi1 to scsi3).</summary>
    public static readonly IReadOnlyList<string> DataControllerIds =
    [
        "{f8b3781b-1e82-4818-a1c3-63d806ec15bb}",
        "{f8b3781c-1e82-4818-a1c3-63d806ec15bb}",
        "{f8b3781d-1e82-4818-a1c3-63d806ec15bb}",
    ];


    protected override DeviceSearch Search(string volumeId)
    {
        var lun = int.Parse(volumeId, NumberStyles.None, CultureInfo.InvariantCulture);
        var search = new DeviceSearch();
        search.Link(Disks, Path.Combine(Disks.DevRoot, "disk", "azure", "data", "by-lun", volumeId));
        search.Link(Disks, Path.Combine(Disks.DevRoot, "disk", "azure", "scsi1", "lun" + volumeId));
        search.Try($"SCSI disks {ScsiVendor} {ScsiModel} with LUN {lun} on a data-disk controller");
        search.Try($"namespace {lun + 2} of {NvmeModel}");

        HashSet<int>? rootHosts = null;
        foreach (var disk in Disks.Disks())
        {
            if (disk.StartsWith("sd", StringComparison.Ordinal))
            {
                if (Disks.Text(disk, "device/vendor") != ScsiVendor || Disks.Text(disk, "device/model") != ScsiModel
                    || Disks.DeviceDirectory(disk)?.Name is not { } hctl || ParseHctl(hctl) is not { } address || address.Lun != lun)
                {
                    continue;
                }
                var controller = Disks.AncestorText(disk, "device_id");
                if (controller is not null)
                {
                    if (DataControllerIds.Contains(controller, StringComparer.OrdinalIgnoreCase))
                    {
                        search.Match(disk, $"SCSI {hctl} {ScsiVendor} {ScsiModel} on data-disk controller {controller}");
                    }
                    continue;
                }
                rootHosts ??= RootHosts();
                if (!rootHosts.Contains(address.Host))
                {
                    search.Match(disk, $"SCSI {hctl} {ScsiVendor} {ScsiModel} on SCSI host {address.Host}, which has no VMBus identity and does not carry the root disk");
                }
            }
            else if (BlockDevices.IsNvmeNamespace(disk) && Disks.Text(disk, "device/model") == NvmeModel && Disks.NamespaceId(disk) is { } nsid)
            {
                if (Metadata(disk, nsid) is { } metadata && metadata.TryGetValue("type", out var type))
                {
                    if (type == "data" && metadata.GetValueOrDefault("lun") == volumeId)
                    {
                        search.Match(disk, $"NVMe {NvmeModel} namespace {nsid}, metadata type=data lun={volumeId}");
                    }
                }
                else if (nsid == lun + 2)
                {
                    search.Match(disk, $"NVMe {NvmeModel} namespace {nsid} (LUN {lun} + 2)");
                }
            }
        }
        return search;
    }

    /// <summary>H:C:T:L (host, channel, target, LUN) of a SCSI device directory.</summary>
    internal static (int Host, int Lun)? ParseHctl(string hctl)
    {
        var parts = hctl.Split(':');
        return parts.Length == 4
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var host)
            && parts[1..3].All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            && int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var lun)
            ? (host, lun)
            : null;
    }

    /// <summary>The SCSI hosts that carry the root filesystem's disks.</summary>
    private HashSet<int> RootHosts() =>
        [.. Disks.RootDisks()
            .Select(d => Disks.DeviceDirectory(d)?.Name is { } hctl ? ParseHctl(hctl) : null)
            .OfType<(int Host, int Lun)>()
            .Select(a => a.Host)];

    /// <summary>The namespace's key=value metadata; null when it has none or it cannot be read (then the nsid rule applies).</summary>
    private IReadOnlyDictionary<string, string>? Metadata(string disk, uint nsid)
    {
        try
        {
            return DiskIdentity.AzureProperties(Disks.IdentifyNamespace(disk, nsid), out _);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
