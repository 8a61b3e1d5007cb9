using CvmControl.Tests.Fakes;
using CvmControl.Volumes.Devices;

namespace CvmControl.Tests.Volumes.Devices;

public sealed class GenericSerialDeviceResolverTests : IDisposable
{
    private readonly FakeSysfs _sys = new();

    [Fact]
    public async Task Finds_virtio_blk_nvme_and_scsi_disks_by_serial()
    {
        _sys.VirtioBlk("vda", "SER123").Nvme("nvme0n1", "NVME-SER-1").Scsi("sda", "0:0:0:1", serial: "SCSI-SER-1");
        var resolver = Resolvers.Generic(_sys);

        (await resolver.ResolveAsync("SER123", CancellationToken.None)).Should().Be(_sys.Node("vda"));
        (await resolver.ResolveAsync("NVME-SER-1", CancellationToken.None)).Should().Be(_sys.Node("nvme0n1"));
        (await resolver.ResolveAsync("SCSI-SER-1", CancellationToken.None)).Should().Be(_sys.Node("sda"));
    }

    [Fact]
    public async Task A_serial_must_match_whole()
    {
        _sys.VirtioBlk("vda", "SER1234").VirtioBlk("vdb", "XSER123");

        var error = await Resolvers.FailureOf(Resolvers.Generic(_sys), "SER123");

        error.Message.Should().Be(DeviceResolver.NotFound);
        error.Detail.Should().StartWith("volume SER123 did not appear within 0.4 s; tried ")
            .And.Contain(Path.Combine(_sys.Sys, "block", "vd*", "serial") + " = SER123");
    }

    [Fact]
    public async Task Two_disks_on_different_buses_with_one_serial_are_refused_naming_both()
    {
        _sys.VirtioBlk("vdb", "dup-1").Scsi("sdb", "0:0:0:2", serial: "dup-1");

        var error = await Resolvers.FailureOf(Resolvers.Generic(_sys), "dup-1");

        error.Message.Should().Be(DeviceResolver.Ambiguous);
        error.Detail.Should().Be($"volume dup-1 matches {_sys.Node("sdb")} (SCSI 0:0:0:2 serial dup-1) and {_sys.Node("vdb")} (virtio-blk serial dup-1); " +
            "the host presents one identity on more than one disk, so none is used");
    }

    [Fact]
    public async Task An_nvme_controller_with_two_namespaces_cannot_be_told_apart_by_serial()
    {
        _sys.Nvme("nvme0n1", "NVME-SER-1", nsid: 1).Nvme("nvme0n2", "NVME-SER-1", controller: "nvme0", nsid: 2);

        (await Resolvers.FailureOf(Resolvers.Generic(_sys), "NVME-SER-1")).Message.Should().Be(DeviceResolver.Ambiguous);
    }

    [Fact]
    public async Task A_disk_that_is_mounted_is_refused()
    {
        _sys.VirtioBlk("vdb", "SER123").Mount("/srv", "vdb");

        var error = await Resolvers.FailureOf(Resolvers.Generic(_sys), "SER123");

        error.Message.Should().Be(DeviceResolver.Refused);
        error.Detail.Should().Be($"volume SER123 is {_sys.Node("vdb")} (virtio-blk serial SER123), but {_sys.Node("vdb")} is mounted at /srv");
    }

    [Fact]
    public async Task A_disk_one_of_whose_partitions_is_mounted_is_refused()
    {
        _sys.VirtioBlk("vdb", "SER123").Partition("vdb", "vdb1").Partition("vdb", "vdb2").Mount("/boot", "vdb2").Mount("/boot/efi", "vdb1");

        var error = await Resolvers.FailureOf(Resolvers.Generic(_sys), "SER123");

        error.Message.Should().Be(DeviceResolver.Refused);
        error.Detail.Should().EndWith($"{_sys.Node("vdb")} is mounted at /boot, /boot/efi");
    }

    [Fact]
    public async Task The_disk_under_the_root_filesystem_is_refused_even_through_device_mapper()
    {
        // Root on LVM or dm-crypt: / is mounted from dm-0, whose slave is a partition of the matching disk.
        _sys.VirtioBlk("vda", "SER123").Partition("vda", "vda2").Mapper("dm-0", "vda2").Mount("/", "dm-0");

        var error = await Resolvers.FailureOf(Resolvers.Generic(_sys), "SER123");

        error.Message.Should().Be(DeviceResolver.Refused);
        error.Detail.Should().EndWith($"{_sys.Node("vda")} holds the root filesystem");
    }

    [Fact]
    public async Task A_root_filesystem_with_an_anonymous_device_number_is_found_by_its_source()
    {
        // btrfs reports 0:N in mountinfo; its source names the device.
        _sys.VirtioBlk("vda", "SER123").Partition("vda", "vda1");
        _sys.Mounts.Mount("/", "/dev/vda1", new CvmControl.OS.DeviceNumber(0, 27));

        (await Resolvers.FailureOf(Resolvers.Generic(_sys), "SER123")).Detail.Should().EndWith("holds the root filesystem");
    }

    [Fact]
    public async Task A_disk_mounted_only_through_its_own_dm_crypt_mapping_is_usable()
    {
        // A bootstrapped volume: the raw disk is open in dm-crypt, and the mapping is mounted. Rotation resolves it again.
        _sys.VirtioBlk("vdb", "SER123").Mapper("dm-1", "vdb").Mount("/data", "dm-1");

        (await Resolvers.Generic(_sys).ResolveAsync("SER123", CancellationToken.None)).Should().Be(_sys.Node("vdb"));
    }

    public void Dispose() => _sys.Dispose();
}
