using System.Diagnostics;
using CvmControl.OS;

namespace CvmControl.Tests.OS;

public sealed class DeviceNumberTests : IDisposable
{
    private readonly TempDir _dir = new();

    [Theory]
    [InlineData("253:0", 253u, 0u)]
    [InlineData("259:12\n", 259u, 12u)]
    public void Parses_major_colon_minor_as_sysfs_and_mountinfo_write_it(string text, uint major, uint minor)
    {
        DeviceNumber.Parse(text).Should().Be(new DeviceNumber(major, minor));
        new DeviceNumber(major, minor).ToString().Should().Be(text.TrimEnd('\n'));
    }

    [Theory]
    [InlineData("")]
    [InlineData("253")]
    [InlineData("253:0:1")]
    [InlineData("-1:0")]
    [InlineData("253: 0")]
    [InlineData("a:b")]
    public void Anything_else_is_not_a_device_number(string text)
    {
        DeviceNumber.Parse(text).Should().BeNull();
    }

    [Fact]
    public void A_block_device_node_gives_its_rdev_even_through_a_symlink()
    {
        // The node itself needs no device behind it: stat reads only the inode.
        var node = _dir.Combine("blk");
        using (var mknod = Process.Start("mknod", [node, "b", "259", "7"]))
        {
            mknod.WaitForExit();
            mknod.ExitCode.Should().Be(0, "the tests run as root, as the daemon does");
        }
        File.CreateSymbolicLink(_dir.Combine("link"), node);

        DeviceNode.BlockDeviceNumber(node).Should().Be(new DeviceNumber(259, 7));
        DeviceNode.BlockDeviceNumber(_dir.Combine("link")).Should().Be(new DeviceNumber(259, 7));
    }

    [Fact]
    public void A_character_device_a_file_or_nothing_is_not_a_block_device()
    {
        File.WriteAllText(_dir.Combine("file"), "x");

        DeviceNode.BlockDeviceNumber("/dev/null").Should().BeNull();
        DeviceNode.BlockDeviceNumber(_dir.Combine("file")).Should().BeNull();
        DeviceNode.BlockDeviceNumber(_dir.Combine("missing")).Should().BeNull();
        DeviceNode.BlockDeviceNumber(_dir.Combine("file", "below-a-file")).Should().BeNull();
    }

    public void Dispose() => _dir.Dispose();
}
