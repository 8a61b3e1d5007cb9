using CvmControl.Tests.Fakes;
using CvmControl.Volumes.Devices;

namespace CvmControl.Tests.Volumes.Devices;

public sealed class GcpDeviceResolverTests : IDisposable
{
    private readonly FakeSysfs _sys = new();

    private FakeSysfs PersistentDisk(string disk, string hctl, string name) =>
        _sys.Scsi(disk, hctl, GcpDeviceResolver.ScsiVendor, GcpDeviceResolver.ScsiModel, serial: name);

    [Theory]
    [InlineData("by-id/google-data-disk-1")]
    [InlineData("by-id/scsi-0Google_PersistentDisk_data-disk-1")]
    public async Task Resolves_the_udev_link_to_the_disk(string link)
    {
        _sys.Scsi("sdb", "0:0:1:0").Link(link, "../../sdb");

        (await Resolvers.Gcp(_sys).ResolveAsync("data-disk-1", CancellationToken.None)).Should().Be(_sys.Node("sdb"));
    }

    [Fact]
    public async Task Without_udev_finds_the_scsi_persistent_disk_whose_vpd_serial_is_the_name()
    {
        PersistentDisk("sda", "0:0:0:1", "boot-disk");
        PersistentDisk("sdb", "0:0:0:2", "data-disk-1");

        (await Resolvers.Gcp(_sys).ResolveAsync("data-disk-1", CancellationToken.None)).Should().Be(_sys.Node("sdb"));
    }

    [Fact]
    public void A_link_and_a_serial_for_the_same_disk_are_one_match()
    {
        PersistentDisk("sdb", "0:0:0:2", "data-disk-1").Link("by-id/google-data-disk-1", "../../sdb");

        var look = Resolvers.Gcp(_sys).Look("data-disk-1");

        look.Device.Should().Be(_sys.Node("sdb"));
        look.Detail.Should().Contain("google-data-disk-1").And.Contain("SCSI 0:0:0:2 Google PersistentDisk, serial data-disk-1");
    }

    [Fact]
    public async Task Finds_an_nvme_persistent_disk_by_the_device_name_in_its_identify_data()
    {
        _sys.Nvme("nvme0n1", "nvme_card-pd", GcpDeviceResolver.NvmeModel, nsid: 1)
            .Nvme("nvme0n2", "nvme_card-pd", GcpDeviceResolver.NvmeModel, controller: "nvme0", nsid: 2);
        _sys.NvmeAdmin.Identify(_sys.Node("nvme0n1"), 1, DiskTestData.WithVendorSpecific("""{"device_name":"boot","disk_type":"PERSISTENT"}"""));
        _sys.NvmeAdmin.Identify(_sys.Node("nvme0n2"), 2, DiskTestData.GcpPersistentDisk0);

        (await Resolvers.Gcp(_sys).ResolveAsync("persistent-disk-0", CancellationToken.None)).Should().Be(_sys.Node("nvme0n2"));
    }

    [Fact]
    public async Task Identify_data_is_asked_only_of_gcp_persistent_disk_controllers()
    {
        _sys.Nvme("nvme0n1", "persistent-disk-0", "nvme_card");
        _sys.Nvme("nvme1n1", "persistent-disk-0");

        var error = await Resolvers.FailureOf(Resolvers.Gcp(_sys), "persistent-disk-0");

        error.Message.Should().Be(DeviceResolver.NotFound);
        _sys.NvmeAdmin.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task A_persistent_disk_whose_identify_fails_or_is_garbage_is_not_a_match()
    {
        _sys.Nvme("nvme0n1", "nvme_card-pd", GcpDeviceResolver.NvmeModel, nsid: 1);
        _sys.Nvme("nvme1n1", "nvme_card-pd", GcpDeviceResolver.NvmeModel, nsid: 1);
        _sys.NvmeAdmin.Identify(_sys.Node("nvme1n1"), 1, DiskTestData.WithVendorSpecific("""{"device_name":"persistent-disk-0" """));

        var error = await Resolvers.FailureOf(Resolvers.Gcp(_sys), "persistent-disk-0");

        error.Message.Should().Be(DeviceResolver.NotFound);
        error.Detail.Should().Contain("google-persistent-disk-0").And.Contain("NVMe namespaces of nvme_card-pd whose identify data names persistent-disk-0");
        _sys.NvmeAdmin.Calls.Should().Contain((_sys.Node("nvme0n1"), 1u)).And.Contain((_sys.Node("nvme1n1"), 1u));
    }

    [Fact]
    public async Task A_scsi_disk_of_another_vendor_with_the_name_as_serial_is_not_a_match()
    {
        _sys.Scsi("sdb", "0:0:0:2", "QEMU", "QEMU HARDDISK", serial: "data-disk-1");
        _sys.Scsi("sdc", "0:0:0:3", GcpDeviceResolver.ScsiVendor, "EphemeralDisk", serial: "data-disk-1");

        (await Resolvers.FailureOf(Resolvers.Gcp(_sys), "data-disk-1")).Message.Should().Be(DeviceResolver.NotFound);
    }

    [Fact]
    public async Task Two_disks_with_one_name_are_refused_naming_both()
    {
        PersistentDisk("sdb", "0:0:0:2", "data-disk-1");
        PersistentDisk("sdc", "0:0:0:3", "data-disk-1");

        var error = await Resolvers.FailureOf(Resolvers.Gcp(_sys), "data-disk-1");

        error.Message.Should().Be(DeviceResolver.Ambiguous);
        error.Detail.Should().Be($"volume data-disk-1 matches {_sys.Node("sdb")} (SCSI 0:0:0:2 Google PersistentDisk, serial data-disk-1) and " +
            $"{_sys.Node("sdc")} (SCSI 0:0:0:3 Google PersistentDisk, serial data-disk-1); the host presents one identity on more than one disk, so none is used");
    }

    [Fact]
    public async Task A_link_to_one_disk_and_a_serial_on_another_are_two_matches_not_a_choice()
    {
        PersistentDisk("sdb", "0:0:0:2", "other-disk");
        PersistentDisk("sdc", "0:0:0:3", "data-disk-1");
        _sys.Link("by-id/google-data-disk-1", "../../sdb");

        var error = await Resolvers.FailureOf(Resolvers.Gcp(_sys), "data-disk-1");

        error.Message.Should().Be(DeviceResolver.Ambiguous);
        error.Detail.Should().Contain(_sys.Node("sdb")).And.Contain(_sys.Node("sdc"));
    }

    [Fact]
    public async Task A_scsi_disk_and_an_nvme_disk_claiming_one_name_are_refused()
    {
        PersistentDisk("sdb", "0:0:0:2", "persistent-disk-0");
        _sys.Nvme("nvme0n1", "nvme_card-pd", GcpDeviceResolver.NvmeModel, nsid: 1);
        _sys.NvmeAdmin.Identify(_sys.Node("nvme0n1"), 1, DiskTestData.GcpPersistentDisk0);

        var error = await Resolvers.FailureOf(Resolvers.Gcp(_sys), "persistent-disk-0");

        error.Message.Should().Be(DeviceResolver.Ambiguous);
        error.Detail.Should().Contain("nvme0n1 (NVMe nvme_card-pd namespace 1, device_name persistent-disk-0)").And.Contain("sdb (SCSI");
    }

    [Fact]
    public async Task A_link_to_a_partition_is_refused()
    {
        _sys.Scsi("sdb", "0:0:0:2").Partition("sdb", "sdb1").Link("by-id/google-data-disk-1", "../../sdb1");

        var error = await Resolvers.FailureOf(Resolvers.Gcp(_sys), "data-disk-1");

        error.Message.Should().Be(DeviceResolver.Refused);
        error.Detail.Should().EndWith($"but {_sys.Node("sdb1")} is a partition of sdb; a volume must be a whole disk");
    }

    [Fact]
    public async Task A_link_that_points_outside_dev_is_refused()
    {
        var outside = Path.Combine(_sys.Root, "evil.img");
        File.WriteAllText(outside, "");
        _sys.Link("by-id/google-data-disk-1", outside);

        var error = await Resolvers.FailureOf(Resolvers.Gcp(_sys), "data-disk-1");

        error.Message.Should().Be(DeviceResolver.Refused);
        error.Detail.Should().Be($"{_sys.LinkPath("by-id/google-data-disk-1")} points to {outside}, outside {_sys.Dev}");
    }

    [Theory]
    [InlineData("../../shm/evil.img")]
    [InlineData("../../not-a-disk")]
    public async Task A_link_to_something_in_dev_that_is_not_a_block_device_is_refused(string target)
    {
        Directory.CreateDirectory(Path.Combine(_sys.Dev, "shm"));
        File.WriteAllText(Path.Combine(_sys.Dev, "shm", "evil.img"), "");
        File.WriteAllText(Path.Combine(_sys.Dev, "not-a-disk"), "");
        _sys.Link("by-id/google-data-disk-1", target);

        var error = await Resolvers.FailureOf(Resolvers.Gcp(_sys), "data-disk-1");

        error.Message.Should().Be(DeviceResolver.Refused);
        error.Detail.Should().EndWith("which is not a block device");
    }

    [Fact]
    public async Task A_dangling_link_reads_as_not_attached_yet()
    {
        _sys.Link("by-id/google-data-disk-1", "../../sdz");

        (await Resolvers.FailureOf(Resolvers.Gcp(_sys), "data-disk-1")).Message.Should().Be(DeviceResolver.NotFound);
    }

    [Fact]
    public async Task Waits_for_a_disk_that_attaches_after_the_first_look()
    {
        _sys.Options.Timeout = TimeSpan.FromSeconds(60);
        var log = new RecordingLogger<GcpDeviceResolver>();
        var resolver = new GcpDeviceResolver(_sys.View(), Microsoft.Extensions.Options.Options.Create(_sys.Options), TimeProvider.System, log);

        var resolving = resolver.ResolveAsync("data-disk-1", CancellationToken.None);
        await log.WaitFor("Waiting up to 60 s for volume data-disk-1", TimeSpan.FromSeconds(60));
        PersistentDisk("sdb", "0:0:0:2", "data-disk-1");

        (await resolving).Should().Be(_sys.Node("sdb"));
        log.Messages.Should().Contain(m => m.StartsWith($"Volume data-disk-1 is {_sys.Node("sdb")} (SCSI 0:0:0:2", StringComparison.Ordinal));
    }

    public void Dispose() => _sys.Dispose();
}
