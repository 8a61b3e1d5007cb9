using CvmControl.OS;
using CvmControl.Volumes.Devices;
using CvmControl.Volumes.Luks;
using Microsoft.Extensions.Options;

namespace CvmControl.Tests.Volumes;

public sealed class SysfsBlockDevicesTests : IDisposable
{
    private readonly TempDir _sys = new();
    private readonly SysfsBlockDevices _blocks;

    public SysfsBlockDevicesTests()
    {
        _blocks = new SysfsBlockDevices(Options.Create(new DeviceOptions { SysRoot = _sys.Path }));
    }

    /// <summary>What the kernel shows for a dm device: /sys/dev/block/M:m → its directory, with dm/ and slaves/.</summary>
    private void Dm(string number, string name, string? uuid, params (string Name, string Dev)[] slaves)
    {
        var device = _sys.Combine("devices", "virtual", "block", "dm-" + number.Split(':')[1]);
        Directory.CreateDirectory(Path.Combine(device, "dm"));
        File.WriteAllText(Path.Combine(device, "dm", "name"), name + "\n");
        File.WriteAllText(Path.Combine(device, "dm", "uuid"), (uuid ?? "") + "\n");
        Directory.CreateDirectory(Path.Combine(device, "slaves"));
        foreach (var (slave, dev) in slaves)
        {
            var target = _sys.Combine("devices", "pci", "nvme", slave);
            Directory.CreateDirectory(target);
            File.WriteAllText(Path.Combine(target, "dev"), dev + "\n");
            File.CreateSymbolicLink(Path.Combine(device, "slaves", slave), target);
        }
        Directory.CreateDirectory(_sys.Combine("dev", "block"));
        File.CreateSymbolicLink(_sys.Combine("dev", "block", number), device);
    }

    [Fact]
    public void Reads_a_mappings_name_uuid_and_the_devices_under_it()
    {
        var uuid = MappingProof.DmUuidOf("0f3c9a52-77d4-4b1e-9a0c-5e2b8d6f1a34", "data");
        Dm("253:0", "data", uuid, ("nvme1n1", "259:1"));

        _blocks.MappingOf(new DeviceNumber(253, 0)).Should().BeEquivalentTo(
            new DmDevice(new DeviceNumber(253, 0), "data", "CRYPT-LUKS2-0f3c9a5277d44b1e9a0c5e2b8d6f1a34-data", [new DeviceNumber(259, 1)]));
    }

    [Fact]
    public void Lists_every_device_under_a_mapping()
    {
        Dm("253:3", "striped", null, ("nvme2n1", "259:2"), ("nvme1n1", "259:1"));

        _blocks.MappingOf(new DeviceNumber(253, 3))!.Slaves.Should().Equal(new DeviceNumber(259, 1), new DeviceNumber(259, 2));
    }

    [Fact]
    public void A_device_that_is_not_device_mapper_is_no_mapping()
    {
        Directory.CreateDirectory(_sys.Combine("dev", "block", "259:1"));

        _blocks.MappingOf(new DeviceNumber(259, 1)).Should().BeNull();
        _blocks.MappingOf(new DeviceNumber(7, 0)).Should().BeNull();
    }

    [Fact]
    public void A_slave_whose_number_cannot_be_read_is_an_error_not_a_match()
    {
        Dm("253:0", "data", "CRYPT-LUKS2-x-data", ("nvme1n1", "garbage"));

        var act = () => _blocks.MappingOf(new DeviceNumber(253, 0));

        act.Should().Throw<IOException>().WithMessage("*nvme1n1/dev is not major:minor");
    }

    [Fact]
    public void The_dm_uuid_is_cut_at_the_device_mapper_limit_as_cryptsetup_cuts_it()
    {
        var name = new string('n', 127);

        var uuid = MappingProof.DmUuidOf("0f3c9a52-77d4-4b1e-9a0c-5e2b8d6f1a34", name);

        uuid.Should().HaveLength(128).And.StartWith("CRYPT-LUKS2-0f3c9a5277d44b1e9a0c5e2b8d6f1a34-nnn");
    }

    public void Dispose() => _sys.Dispose();

    [Fact]
    public void A_mapping_uuid_is_cut_to_128_characters_as_cryptsetup_cuts_it()
    {
        var header = "0f3c9a52-77d4-4b1e-9a0c-5e2b8d6f1a34";
        var fits = new string('n', 128 - "CRYPT-LUKS2-".Length - 32 - 1);

        MappingProof.DmUuidOf(header, fits).Should().Be("CRYPT-LUKS2-0f3c9a5277d44b1e9a0c5e2b8d6f1a34-" + fits).And.HaveLength(128);
        MappingProof.DmUuidOf(header, fits + "xyz").Should().Be("CRYPT-LUKS2-0f3c9a5277d44b1e9a0c5e2b8d6f1a34-" + fits);
    }
}
