using CvmControl.OS;
using CvmControl.Volumes.Devices;

namespace CvmControl.Tests.Volumes;

public sealed class DeviceMapperTests : IDisposable
{
    private readonly TempDir _dev = new();

    [Fact]
    public void A_mount_is_from_the_mapping_when_its_source_is_the_mapper_path_or_the_node_it_links_to()
    {
        // With udev, /dev/mapper/data links to ../dm-0, and mount(8) may record either name.
        Directory.CreateDirectory(_dev.Combine("mapper"));
        File.WriteAllText(_dev.Combine("dm-0"), "");
        File.CreateSymbolicLink(_dev.Combine("mapper", "data"), "../dm-0");
        var mapper = DeviceMapper.PathOf(_dev.Path, "data");

        DeviceMapper.IsSource(new MountEntry("/data", "ext4", mapper), mapper).Should().BeTrue();
        DeviceMapper.IsSource(new MountEntry("/data", "ext4", _dev.Combine("dm-0")), mapper).Should().BeTrue();
        DeviceMapper.IsSource(new MountEntry("/data", "ext4", _dev.Combine("dm-1")), mapper).Should().BeFalse();
        DeviceMapper.IsSource(new MountEntry("/data", "ext4", "/dev/sdb1"), DeviceMapper.PathOf(_dev.Path, "missing")).Should().BeFalse();
    }

    public void Dispose() => _dev.Dispose();
}
