using System.Text;
using CvmControl.Volumes.Devices;

namespace CvmControl.Tests.Fakes;

/// <summary>
/// A fake machine's sysfs and /dev, laid out as the kernel lays them out, relative links included:
/// each disk's directory sits in <c>/sys/devices/…/block/&lt;disk&gt;</c> (under the controller for NVMe),
/// <c>/sys/block/&lt;disk&gt;</c> and <c>/sys/class/block/&lt;name&gt;</c> are relative links to it, its
/// <c>device</c> is a relative link to the device directory (named H:C:T:L for a SCSI disk), partitions
/// are subdirectories, and /dev nodes are empty files. Attributes are padded the way the kernel pads them.
/// </summary>
internal sealed class FakeSysfs : IDisposable
{
    private readonly TempDir? _owned;
    private int _minor;

    /// <param name="root">Where to lay the tree out (default: a fresh temp dir, removed at dispose).</param>
    /// <param name="mounts">The mount table to record mounts in (default: a fresh one).</param>
    public FakeSysfs(string? root = null, FakeMountTable? mounts = null)
    {
        if (root is null)
        {
            _owned = new TempDir();
            root = _owned.Path;
        }
        Root = root;
        Mounts = mounts ?? new FakeMountTable();
        Directory.CreateDirectory(Dev);
        Directory.CreateDirectory(Path.Combine(Sys, "block"));
        Directory.CreateDirectory(Path.Combine(Sys, "class", "block"));
        Options = new DeviceOptions { DevRoot = Dev, SysRoot = Sys, Timeout = TimeSpan.FromMilliseconds(400), PollInterval = TimeSpan.FromMilliseconds(50) };
    }

    public string Dev => Path.Combine(Root, "dev");

    public string Sys => Path.Combine(Root, "sys");

    public string Root { get; }

    public DeviceOptions Options { get; }

    public FakeMountTable Mounts { get; }

    public FakeNvmeAdmin NvmeAdmin { get; } = new();

    public BlockDevices View() => new(Microsoft.Extensions.Options.Options.Create(Options), Mounts, NvmeAdmin);

    public string Node(string name) => Path.Combine(Dev, name);

    /// <summary>A virtio-blk disk with a serial (<c>/sys/block/vdX/serial</c>).</summary>
    public FakeSysfs VirtioBlk(string name, string serial)
    {
        var device = $"devices/pci0000:00/0000:00:{Interlocked.Increment(ref _minor):x2}.0/virtio{_minor}";
        var block = Disk(name, device, Path.Combine(device, "block", name));
        Write(Path.Combine(block, "serial"), serial + "\n");
        return this;
    }

    /// <summary>An NVMe namespace; its controller (shared by namespaces of the same <paramref name="controller"/>) carries serial and model, padded to 20 and 40 characters.</summary>
    public FakeSysfs Nvme(string name, string serial, string model = "QEMU NVMe Ctrl", string? controller = null, uint? nsid = null)
    {
        var device = $"devices/pci0000:00/0000:00:1f.0/nvme/{controller ?? name[..name.LastIndexOf('n')]}";
        var block = Disk(name, device, Path.Combine(device, name));
        Write(Path.Combine(Sys, device, "serial"), serial.PadRight(20) + "\n");
        Write(Path.Combine(Sys, device, "model"), model.PadRight(40) + "\n");
        if (nsid is { } id)
        {
            Write(Path.Combine(block, "nsid"), id + "\n");
        }
        return this;
    }

    /// <summary>
    /// A SCSI disk at <paramref name="hctl"/>. With <paramref name="vmbusId"/> it sits under a Hyper-V VMBus
    /// controller whose <c>device_id</c> is that id; otherwise under a virtio-scsi PCI device.
    /// </summary>
    public FakeSysfs Scsi(string name, string hctl, string vendor = "QEMU", string model = "QEMU HARDDISK", string? serial = null, string? vmbusId = null)
    {
        var host = hctl.Split(':')[0];
        var parent = vmbusId is null
            ? $"devices/pci0000:00/0000:00:0{host}.0/virtio{host}/host{host}"
            : $"devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/VMBUS:00/{vmbusId.Trim('{', '}')}/host{host}";
        if (vmbusId is not null)
        {
            Write(Path.Combine(Sys, Path.GetDirectoryName(parent)!, "device_id"), vmbusId + "\n");
        }
        var device = $"{parent}/target{string.Join(':', hctl.Split(':')[..3])}/{hctl}";
        Disk(name, device, Path.Combine(device, "block", name));
        Write(Path.Combine(Sys, device, "vendor"), vendor.PadRight(8) + "\n");
        Write(Path.Combine(Sys, device, "model"), model.PadRight(16) + "\n");
        if (serial is not null)
        {
            File.WriteAllBytes(Path.Combine(Sys, device, "vpd_pg80"), VpdPage80(serial));
        }
        return this;
    }

    /// <summary>VPD page 0x80 as sysfs serves it: peripheral byte, page code, big-endian length, serial.</summary>
    public static byte[] VpdPage80(string serial)
    {
        var text = Encoding.ASCII.GetBytes(serial);
        return [0x00, 0x80, (byte)(text.Length >> 8), (byte)text.Length, .. text];
    }

    /// <summary>A partition <paramref name="part"/> of <paramref name="disk"/>, with its node.</summary>
    public FakeSysfs Partition(string disk, string part)
    {
        var directory = Path.Combine(BlockDirectory(disk), part);
        Write(Path.Combine(directory, "partition"), "1\n");
        Write(Path.Combine(directory, "dev"), NextNumber() + "\n");
        RelativeLink(Path.Combine(Sys, "class", "block", part), directory);
        File.WriteAllText(Node(part), "");
        return this;
    }

    /// <summary>A device-mapper device over <paramref name="slaves"/> (no <c>device</c> link: the host did not attach it).</summary>
    public FakeSysfs Mapper(string name, params string[] slaves)
    {
        var directory = Path.Combine(Sys, "devices", "virtual", "block", name);
        Write(Path.Combine(directory, "dev"), NextNumber() + "\n");
        Directory.CreateDirectory(Path.Combine(directory, "slaves"));
        foreach (var slave in slaves)
        {
            RelativeLink(Path.Combine(directory, "slaves", slave), BlockPhysical(slave));
        }
        RelativeLink(Path.Combine(Sys, "block", name), directory);
        RelativeLink(Path.Combine(Sys, "class", "block", name), directory);
        File.WriteAllText(Node(name), "");
        return this;
    }

    /// <summary>A link under /dev/disk, as udev would make it (<paramref name="target"/> relative to the link, or absolute).</summary>
    public FakeSysfs Link(string underDevDisk, string target)
    {
        var link = Path.Combine(Dev, "disk", underDevDisk);
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        File.CreateSymbolicLink(link, target);
        return this;
    }

    public string LinkPath(string underDevDisk) => Path.Combine(Dev, "disk", underDevDisk);

    /// <summary>Mounts <paramref name="block"/> (by its device number, as mountinfo records it) at <paramref name="mountPoint"/>.</summary>
    public FakeSysfs Mount(string mountPoint, string block)
    {
        var number = CvmControl.OS.DeviceNumber.Parse(File.ReadAllText(Path.Combine(BlockPhysical(block), "dev")));
        Mounts.Mount(mountPoint, "/dev/" + block, number);
        return this;
    }

    /// <summary>Lays out a disk: its directory in /sys/devices, the /sys/block and /sys/class/block links, its device link and node.</summary>
    private string Disk(string name, string devicePath, string blockPath)
    {
        var device = Path.Combine(Sys, devicePath);
        var block = Path.Combine(Sys, blockPath);
        Directory.CreateDirectory(device);
        Write(Path.Combine(block, "dev"), NextNumber() + "\n");
        RelativeLink(Path.Combine(block, "device"), device);
        RelativeLink(Path.Combine(Sys, "block", name), block);
        RelativeLink(Path.Combine(Sys, "class", "block", name), block);
        File.WriteAllText(Node(name), "");
        return block;
    }

    private string BlockDirectory(string disk) => BlockDevices.RealPath(Path.Combine(Sys, "block", disk))!;

    private string BlockPhysical(string name) => BlockDevices.RealPath(Path.Combine(Sys, "class", "block", name))!;

    /// <summary>A relative symlink, as sysfs has them.</summary>
    private static void RelativeLink(string link, string target) =>
        File.CreateSymbolicLink(link, Path.GetRelativePath(Path.GetDirectoryName(link)!, target));

    private string NextNumber() => $"259:{Interlocked.Increment(ref _minor)}";

    private static void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    public void Dispose() => _owned?.Dispose();
}
