using CvmControl.Tests.Fakes;
using CvmControl.Volumes;
using Microsoft.Extensions.Options;

namespace CvmControl.Tests.Volumes;

public sealed class KeyDirectoryTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeMountTable _mounts = new();

    private KeyDirectory Keys() => new(Options.Create(new VolumeOptions { KeyDirectory = _dir.Combine("run", "keys") }), _mounts);

    [Theory]
    [InlineData("tmpfs")]
    [InlineData("ramfs")]
    public void A_directory_in_ram_is_made_0700_and_used(string fileSystem)
    {
        _mounts.RootFileSystem = fileSystem;

        var dir = Keys().Prepare();

        dir.Should().Be(_dir.Combine("run", "keys"));
        File.GetUnixFileMode(dir).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [Fact]
    public void A_directory_on_a_disk_is_refused_naming_its_filesystem()
    {
        _mounts.RootFileSystem = "ext4";

        var act = () => Keys().Prepare();

        act.Should().Throw<VolumeOperationException>().Which.Detail.Should().Be($"{_dir.Combine("run", "keys")} is on ext4, not tmpfs; put --run-dir on tmpfs (e.g. /run/cvm)");
    }

    [Fact]
    public void A_directory_whose_filesystem_is_unknown_is_refused()
    {
        var act = () => new KeyDirectory(Options.Create(new VolumeOptions { KeyDirectory = _dir.Combine("keys") }), new UnknownFileSystems()).Prepare();

        act.Should().Throw<VolumeOperationException>().Which.Detail.Should().Contain("is on an unknown filesystem, not tmpfs");
    }

    [Fact]
    public void The_production_defaults_are_the_real_paths()
    {
        new VolumeOptions().KeyDirectory.Should().Be("/run/cvm/keys");
        var devices = new CvmControl.Volumes.Devices.DeviceOptions();
        (devices.DevRoot, devices.SysRoot).Should().Be(("/dev", "/sys"));
    }

    private sealed class UnknownFileSystems : CvmControl.OS.IMountTable
    {
        public CvmControl.OS.MountEntry? Find(string mountPoint) => null;

        public string? FileSystemOf(string path) => null;
    }

    public void Dispose() => _dir.Dispose();
}
