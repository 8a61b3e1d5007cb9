namespace CvmControl.Tests.Volumes.Devices;

/// <summary>Identify data from public sources; see TestData/README.md for where each buffer comes from.</summary>
internal static class DiskTestData
{
    public static byte[] Read(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Volumes", "Devices", "TestData", name));

    /// <summary>A real GCP NVMe persistent disk named persistent-disk-0.</summary>
    public static byte[] GcpPersistentDisk0 => Read("gcp-nvme-pd-identify-ns.bin");

    public static byte[] AzureDataLun4 => Read("azure-nvme-identify-ns-data-lun4.bin");

    public static byte[] AzureOs => Read("azure-nvme-identify-ns-os.bin");

    public static byte[] AzureLocal => Read("azure-nvme-identify-ns-local.bin");

    public static byte[] AzureEmpty => Read("azure-nvme-identify-ns-empty.bin");

    /// <summary>VPD page 0x80 of a QEMU scsi-hd with serial data-disk-1, copied from the VM test bed's sysfs.</summary>
    public static byte[] QemuScsiVpdPage80 => Read("qemu-scsi-hd-vpd-pg80.bin");

    /// <summary>A whole Identify Namespace buffer whose vendor-specific area holds <paramref name="area"/>.</summary>
    public static byte[] WithVendorSpecific(byte[] area)
    {
        var buffer = new byte[4096];
        area.AsSpan(0, Math.Min(area.Length, 4096 - 384)).CopyTo(buffer.AsSpan(384));
        return buffer;
    }

    public static byte[] WithVendorSpecific(string text) => WithVendorSpecific(System.Text.Encoding.UTF8.GetBytes(text));
}
