using CvmControl.OS;

namespace CvmControl.Tests.OS;

public sealed class MountInfoParserTests : IDisposable
{
    private const string Sample = """
        22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p1 rw
        36 22 0:33 / /run rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,size=400k,mode=755
        101 22 253:0 / /data rw,relatime shared:60 - ext4 /dev/mapper/data rw
        102 22 253:1 / /mnt/with\040space\011tab rw,relatime - ext4 /dev/mapper/odd rw
        103 22 253:2 / /back\134slash rw master:7 propagate_from:2 - xfs /dev/mapper/b rw
        104 101 0:50 / /data rw,relatime - tmpfs overlay rw

        """;

    private readonly TempDir _dir = new();

    [Fact]
    public void Parses_mount_point_fstype_source_and_device_number()
    {
        var entries = MountInfoParser.Parse(Sample);

        entries.Should().HaveCount(6);
        entries[2].Should().Be(new MountEntry("/data", "ext4", "/dev/mapper/data", new DeviceNumber(253, 0)));
        entries[1].Device.Should().Be(new DeviceNumber(0, 33), "field 3 is the filesystem's device, whatever its source says");
    }

    [Fact]
    public void Undoes_the_kernels_octal_escapes()
    {
        var entries = MountInfoParser.Parse(Sample);

        entries[3].MountPoint.Should().Be("/mnt/with space\ttab");
        entries[4].MountPoint.Should().Be("/back\\slash");
        entries[4].FileSystemType.Should().Be("xfs", "optional fields before the separator vary in number");
    }

    [Fact]
    public void Find_returns_the_topmost_mount_at_exactly_that_point()
    {
        var path = _dir.Combine("mountinfo");
        File.WriteAllText(path, Sample);
        var table = new MountInfoTable(path);

        table.Find("/data")!.Source.Should().Be("overlay");
        table.Find("/mnt/with space\ttab")!.Source.Should().Be("/dev/mapper/odd");
        table.Find("/dat").Should().BeNull();
        table.Find("/data/sub").Should().BeNull("a parent mount does not make a path mounted");
    }

    [Fact]
    public void Ignores_malformed_lines()
    {
        MountInfoParser.Parse("garbage\n1 2 3\n").Should().BeEmpty();
    }

    [Fact]
    public void Reads_this_processes_real_mountinfo()
    {
        new MountInfoTable().Find("/").Should().NotBeNull();
    }

    public void Dispose() => _dir.Dispose();
}
