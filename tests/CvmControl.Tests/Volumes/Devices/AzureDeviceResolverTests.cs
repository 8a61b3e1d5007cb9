using CvmControl.Tests.Fakes;
using CvmControl.Volumes.Devices;

namespace CvmControl.Tests.Volumes.Devices;

public sealed class AzureDeviceResolverTests : IDisposable
{
    // Hyper-V SCSI controllers' VMBus instance ids: scsi0 carries the OS (LUN 0) and resource (LUN 1) disks, scsi1-3 data disks.
    private const string Scsi0 = "{f8b3781a-1e82-4818-a1c3-63d806ec15bb}";
    private const string Scsi1 = "{f8b3781b-1e82-4818-a1c3-63d806ec15bb}";
    private const string Scsi2 = "{f8b3781c-1e82-4818-a1c3-63d806ec15bb}";
    private const string Gen1Os = "{00000000-0000-8899-0000-000000000000}";
    private const string Gen1Resource = "{00000000-0001-8899-0000-000000000000}";

    private readonly FakeSysfs _sys = new();

    private FakeSysfs AzureDisk(string disk, string hctl, string? controller) =>
        _sys.Scsi(disk, hctl, AzureDeviceResolver.ScsiVendor, AzureDeviceResolver.ScsiModel, vmbusId: controller);

    [Theory]
    [InlineData("azure/data/by-lun/3")]
    [InlineData("azure/scsi1/lun3")]
    public async Task Resolves_the_udev_link_for_the_lun(string link)
    {
        AzureDisk("sdc", "1:0:0:3", Scsi1).Link(link, _sys.Node("sdc"));

        (await Resolvers.Azure(_sys).ResolveAsync("3", CancellationToken.None)).Should().Be(_sys.Node("sdc"));
    }

    [Fact]
    public async Task Without_udev_takes_the_lun_on_the_data_controller_not_the_os_or_resource_disks()
    {
        AzureDisk("sda", "0:0:0:0", Scsi0);
        AzureDisk("sdb", "0:0:0:1", Scsi0);
        AzureDisk("sdc", "1:0:0:0", Scsi1);
        AzureDisk("sdd", "1:0:0:1", Scsi1);

        (await Resolvers.Azure(_sys).ResolveAsync("0", CancellationToken.None)).Should().Be(_sys.Node("sdc"));
        (await Resolvers.Azure(_sys).ResolveAsync("1", CancellationToken.None)).Should().Be(_sys.Node("sdd"));
    }

    [Fact]
    public async Task Generation_1_os_and_resource_controllers_never_carry_a_data_disk()
    {
        AzureDisk("sda", "0:0:0:0", Gen1Os);
        AzureDisk("sdb", "1:0:1:0", Gen1Resource);

        (await Resolvers.FailureOf(Resolvers.Azure(_sys), "0")).Message.Should().Be(DeviceResolver.NotFound);
    }

    [Fact]
    public async Task The_same_lun_on_two_data_controllers_is_refused_naming_both()
    {
        AzureDisk("sdc", "1:0:0:2", Scsi1);
        AzureDisk("sdd", "2:0:0:2", Scsi2);

        var error = await Resolvers.FailureOf(Resolvers.Azure(_sys), "2");

        error.Message.Should().Be(DeviceResolver.Ambiguous);
        error.Detail.Should().Contain($"{_sys.Node("sdc")} (SCSI 1:0:0:2 Msft Virtual Disk on data-disk controller {Scsi1})")
            .And.Contain($"{_sys.Node("sdd")} (SCSI 2:0:0:2 Msft Virtual Disk on data-disk controller {Scsi2})");
    }

    [Fact]
    public async Task Two_targets_with_one_lun_on_one_controller_are_refused()
    {
        AzureDisk("sdc", "1:0:0:7", Scsi1);
        AzureDisk("sdd", "1:0:1:7", Scsi1);

        (await Resolvers.FailureOf(Resolvers.Azure(_sys), "7")).Message.Should().Be(DeviceResolver.Ambiguous);
    }

    [Fact]
    public async Task A_disk_that_is_not_a_msft_virtual_disk_is_not_a_data_disk()
    {
        _sys.Scsi("sdc", "1:0:0:3", "QEMU", "QEMU HARDDISK", vmbusId: Scsi1);

        (await Resolvers.FailureOf(Resolvers.Azure(_sys), "3")).Message.Should().Be(DeviceResolver.NotFound);
    }

    [Fact]
    public void Without_vmbus_identity_any_controller_but_the_root_disks_counts_as_a_data_controller()
    {
        // The VM test bed's layout: virtio-scsi controllers, which carry no VMBus device_id.
        AzureDisk("sda", "0:0:0:3", null).Partition("sda", "sda1").Mount("/", "sda1");
        AzureDisk("sdb", "1:0:0:3", null);

        var look = Resolvers.Azure(_sys).Look("3");

        look.Device.Should().Be(_sys.Node("sdb"));
        look.Detail.Should().Be("SCSI 1:0:0:3 Msft Virtual Disk on SCSI host 1, which has no VMBus identity and does not carry the root disk");
    }

    [Fact]
    public async Task Without_vmbus_identity_the_same_lun_on_two_controllers_cannot_be_told_apart()
    {
        AzureDisk("sda", "0:0:0:3", null);
        AzureDisk("sdb", "1:0:0:3", null);

        var error = await Resolvers.FailureOf(Resolvers.Azure(_sys), "3");

        error.Message.Should().Be(DeviceResolver.Ambiguous);
        error.Detail.Should().Contain(_sys.Node("sda")).And.Contain(_sys.Node("sdb"));
    }

    [Fact]
    public async Task Finds_an_nvme_data_disk_at_nsid_lun_plus_two_when_it_carries_no_metadata()
    {
        foreach (var nsid in new uint[] { 1, 2, 6 })
        {
            _sys.Nvme($"nvme0n{nsid}", "serial-1", AzureDeviceResolver.NvmeModel, controller: "nvme0", nsid: nsid);
            _sys.NvmeAdmin.Identify(_sys.Node($"nvme0n{nsid}"), nsid, DiskTestData.AzureEmpty);
        }

        var look = Resolvers.Azure(_sys).Look("4");

        look.Device.Should().Be(_sys.Node("nvme0n6"));
        look.Detail.Should().Be("NVMe MSFT NVMe Accelerator v1.0 namespace 6 (LUN 4 + 2)");
        (await Resolvers.Azure(_sys).ResolveAsync("0", CancellationToken.None)).Should().Be(_sys.Node("nvme0n2"));
    }

    [Fact]
    public void Namespace_metadata_overrules_the_nsid_rule()
    {
        // nsid 6 would be LUN 4 by number, but says it is a local disk; nsid 9 says it is LUN 4.
        _sys.Nvme("nvme0n6", "serial-1", AzureDeviceResolver.NvmeModel, controller: "nvme0", nsid: 6);
        _sys.Nvme("nvme0n9", "serial-1", AzureDeviceResolver.NvmeModel, controller: "nvme0", nsid: 9);
        _sys.Nvme("nvme0n1", "serial-1", AzureDeviceResolver.NvmeModel, controller: "nvme0", nsid: 1);
        _sys.NvmeAdmin.Identify(_sys.Node("nvme0n6"), 6, DiskTestData.AzureLocal);
        _sys.NvmeAdmin.Identify(_sys.Node("nvme0n9"), 9, DiskTestData.AzureDataLun4);
        _sys.NvmeAdmin.Identify(_sys.Node("nvme0n1"), 1, DiskTestData.AzureOs);

        var look = Resolvers.Azure(_sys).Look("4");

        look.Device.Should().Be(_sys.Node("nvme0n9"));
        look.Detail.Should().Be("NVMe MSFT NVMe Accelerator v1.0 namespace 9, metadata type=data lun=4");
    }

    [Fact]
    public async Task When_identify_fails_the_nsid_rule_still_applies()
    {
        _sys.Nvme("nvme0n5", "serial-1", AzureDeviceResolver.NvmeModel, controller: "nvme0", nsid: 5);

        (await Resolvers.Azure(_sys).ResolveAsync("3", CancellationToken.None)).Should().Be(_sys.Node("nvme0n5"));
    }

    [Fact]
    public async Task Local_nvme_disks_are_never_data_disks()
    {
        _sys.Nvme("nvme1n1", "serial-2", "Microsoft NVMe Direct Disk v2", nsid: 1);
        _sys.Nvme("nvme2n1", "serial-3", "Microsoft NVMe Direct Disk", nsid: 2);

        (await Resolvers.FailureOf(Resolvers.Azure(_sys), "0")).Message.Should().Be(DeviceResolver.NotFound);
    }

    [Fact]
    public async Task A_scsi_and_an_nvme_data_disk_with_one_lun_are_refused()
    {
        AzureDisk("sdc", "1:0:0:0", Scsi1);
        _sys.Nvme("nvme0n2", "serial-1", AzureDeviceResolver.NvmeModel, controller: "nvme0", nsid: 2);

        (await Resolvers.FailureOf(Resolvers.Azure(_sys), "0")).Message.Should().Be(DeviceResolver.Ambiguous);
    }

    [Theory]
    [InlineData("1:0:0:3", 1, 3)]
    [InlineData("12:0:4:63", 12, 63)]
    public void Parses_host_and_lun_of_a_scsi_address(string hctl, int host, int lun)
    {
        AzureDeviceResolver.ParseHctl(hctl).Should().Be((host, lun));
    }

    [Theory]
    [InlineData("1:0:0")]
    [InlineData("host1")]
    [InlineData("1:0:x:3")]
    [InlineData("-1:0:0:3")]
    public void Refuses_what_is_not_a_scsi_address(string hctl)
    {
        AzureDeviceResolver.ParseHctl(hctl).Should().BeNull();
    }

    public void Dispose() => _sys.Dispose();
}
