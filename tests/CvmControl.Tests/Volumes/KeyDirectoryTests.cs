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

    [Fact]
    public void Leftovers_of_a_killed_run_are_removed_and_named_but_a_subdirectory_is_left()
    {
        var dir = _dir.Combine("run", "keys");
        Directory.CreateDirectory(Path.Combine(dir, "not-ours"));
        File.WriteAllText(Path.Combine(dir, "newkey-0123"), "a passphrase");
        File.WriteAllText(Path.Combine(dir, "header-4567"), "header bytes");
        File.CreateSymbolicLink(Path.Combine(dir, "edit-89ab"), "/nonexistent");

        var removed = Keys().RemoveLeftovers();

        removed.Should().BeEquivalentTo("newkey-0123", "header-4567", "edit-89ab");
        Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).Should().Equal("not-ours");
    }

    [Fact]
    public void Without_a_key_directory_there_is_nothing_to_remove()
    {
        Keys().RemoveLeftovers().Should().BeEmpty();
        Directory.Exists(_dir.Combine("run", "keys")).Should().BeFalse("the sweep does not create it");
    }

    private sealed class UnknownFileSystems : CvmControl.OS.IMountTable
    {
        public CvmControl.OS.MountEntry? Find(string mountPoint) => null;

        public string? FileSystemOf(string path) => null;

        public IReadOnlyList<CvmControl.OS.MountEntry> Entries() => [];
    }

    public void Dispose() => _dir.Dispose();
}
