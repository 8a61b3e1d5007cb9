using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using CvmControl.OS;

namespace CvmControl.Tests.Fakes;

/// <summary>
/// The tools of a volume with integrity: dmsetup's linear windows, integritysetup, the detached-header
/// forms of cryptsetup (luksFormat --header, luksDump --dump-volume-key, open --volume-key-file) and
/// dmesg. Keys handed over in files are read when the tool runs and recorded, with the file they came
/// from, so tests can check both what a tool got and that the file is gone afterwards.
/// </summary>
internal sealed partial class FakeDiskWorld
{
    /// <summary>A dm-integrity superblock starts with this magic (8 bytes with its NUL), at the start of the device it is on.</summary>
    public static readonly byte[] IntegrityMagic = "integrt\0"u8.ToArray();

    /// <summary>Where the fake keeps the SHA-256 of the tag key and of the journal key in its superblock (a stand-in for the journal MACs).</summary>
    private const int SuperblockKeysOffset = 16;

    private const int SectorBytes = 512;

    /// <summary>The size of a detached header cryptsetup makes with 16 KiB metadata and a 16352 KiB keyslot area.</summary>
    public const int DetachedHeaderBytes = 16 * 1024 * 1024;

    /// <summary>A linear window dmsetup mapped: <see cref="LengthSectors"/> sectors of <see cref="Device"/> from <see cref="StartSector"/>.</summary>
    public sealed record Window(string Device, long StartSector, long LengthSectors);

    /// <summary>What an integritysetup call read from its two key files, and the files' paths.</summary>
    public sealed record IntegrityKeyUse(string Verb, string Target, byte[] Tags, byte[] Journal, string TagsFile, string JournalFile);

    /// <summary>A volume key that went through a file: read by luksFormat or open, or written by luksDump.</summary>
    public sealed record VolumeKeyUse(string Verb, byte[] Key, string File);

    /// <summary>Linear windows by dm name.</summary>
    public ConcurrentDictionary<string, Window> Windows { get; } = new();

    public ConcurrentQueue<IntegrityKeyUse> IntegrityKeyUses { get; } = new();

    public ConcurrentQueue<VolumeKeyUse> VolumeKeyUses { get; } = new();

    /// <summary>What <c>dmesg --kernel --notime</c> prints.</summary>
    public string KernelLog { get; set; } = "";

    /// <summary>A reboot: every mount and every device-mapper device is gone; disks keep their bytes.</summary>
    public void Reboot()
    {
        lock (_gate)
        {
            Mounts.Mounted.Clear();
            foreach (var number in Blocks.Mappings.Keys)
            {
                Blocks.Mappings.TryRemove(number, out _);
            }
            foreach (var node in Blocks.Nodes.Where(n => n.Value.Major == 253).Select(n => n.Key).ToList())
            {
                Blocks.Nodes.TryRemove(node, out _);
                File.Delete(node);
            }
            Windows.Clear();
        }
    }

    /// <summary>Writes every disk object that changed to its file, as the next command would: for tests that compare a disk's bytes.</summary>
    public void Settle()
    {
        lock (_gate)
        {
            foreach (var disk in Disks.Values)
            {
                Sync(disk);
            }
        }
    }

    /// <summary>Removes one device-mapper device (e.g. dm-crypt's, as cryptsetup close would), leaving what is below it.</summary>
    public void Unmap(string name)
    {
        lock (_gate)
        {
            // As cryptsetup close does it: the mapping and its node go.
            var result = RemoveDm(name, "cryptsetup");
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException(result.StandardError);
            }
        }
    }

    /// <summary>
    /// An open volume with integrity as a finished bootstrap leaves it: the dm-crypt mapping <paramref name="name"/>
    /// on <paramref name="integrityName"/> on the window <paramref name="dataName"/> of <paramref name="disk"/>.
    /// Returns the dm-crypt mapping's node.
    /// </summary>
    public string MapWithIntegrity(string name, Disk disk, string integrityName, string dataName)
    {
        lock (_gate)
        {
            var window = MapOver(dataName, disk.Path, "", disk.Number);
            var integrity = MapOver(integrityName, disk.Path, "", Blocks.NumberOf(window)!.Value);
            return MapOver(name, disk.Path, CvmControl.Volumes.Luks.MappingProof.DmUuidOf(disk.Uuid, name), Blocks.NumberOf(integrity)!.Value);
        }
    }

    /// <summary>Whether a dm-integrity superblock sits at the start of the window <paramref name="startSector"/> of <paramref name="disk"/>.</summary>
    public static bool HasIntegritySuperblock(Disk disk, long startSector) =>
        ReadAt(disk.Path, startSector * SectorBytes, IntegrityMagic.Length).AsSpan().SequenceEqual(IntegrityMagic);

    private static string ArgAfter(IReadOnlyList<string> a, string option)
    {
        var at = a.ToList().IndexOf(option);
        return at >= 0 && at + 1 < a.Count ? a[at + 1] : throw new ArgumentException($"{option} is missing from [{string.Join(' ', a)}]");
    }

    private DeviceNumber? DmByName(string name) =>
        Blocks.Mappings.Where(m => m.Value.Name == name).Select(m => (DeviceNumber?)m.Key).FirstOrDefault();

    /// <summary>The disk at the bottom of a node and the byte offset on it where the node starts.</summary>
    private (Disk Disk, long Offset)? Locate(string node)
    {
        if (Disks.TryGetValue(node, out var disk))
        {
            return (disk, 0);
        }
        if (Blocks.NumberOf(node) is not { } number || Blocks.MappingOf(number) is not { } dm || !File.Exists(node))
        {
            return null;
        }
        var diskPath = File.ReadAllText(node);
        if (!Disks.TryGetValue(diskPath, out disk))
        {
            return null;
        }
        // dm-integrity's data follows its superblock and journal; for the fake, a device keeps the window's start.
        var window = Windows.GetValueOrDefault(dm.Name) ?? (dm.Slaves is [var below] && Blocks.MappingOf(below) is { } lower ? Windows.GetValueOrDefault(lower.Name) : null);
        return (disk, (window?.StartSector ?? 0) * SectorBytes);
    }

    private ProcessResult Dmsetup(IReadOnlyList<string> a)
    {
        switch (a)
        {
            case ["create", var name, "--table", var table]:
                {
                    var fields = table.Split(' ');
                    if (fields is not ["0", var length, "linear", var device, var start]
                        || !long.TryParse(length, NumberStyles.None, CultureInfo.InvariantCulture, out var sectors)
                        || !long.TryParse(start, NumberStyles.None, CultureInfo.InvariantCulture, out var first) || sectors == 0)
                    {
                        return Result(1, "", $"device-mapper: reload ioctl on {name} failed: Invalid argument\nCommand failed.\n");
                    }
                    if (DmByName(name) is not null)
                    {
                        return Result(1, "", $"device-mapper: create ioctl on {name} failed: Device or resource busy\nCommand failed.\n");
                    }
                    if (!Disks.TryGetValue(device, out var disk) || Blocks.NumberOf(device) is not { } slave)
                    {
                        return Result(1, "", $"device-mapper: reload ioctl on {name} failed: No such device or address\nCommand failed.\n");
                    }
                    if ((first + sectors) * SectorBytes > new FileInfo(device).Length)
                    {
                        return Result(1, "", $"device-mapper: reload ioctl on {name} failed: Invalid argument\nCommand failed.\n");
                    }
                    // The dm device exists now; its /dev/mapper node is made by udev or by mknodes.
                    Blocks.AddMapping(Path.Combine(DevRoot, "mapper", name), name, "", slave);
                    Windows[name] = new Window(device, first, sectors);
                    return Result(0);
                }
            case ["mknodes", var name]:
                {
                    var node = Path.Combine(DevRoot, "mapper", name);
                    if (DmByName(name) is null)
                    {
                        // No such mapping: a leftover node is removed (what `dmsetup remove` leaves without udev).
                        if (Blocks.Nodes.TryRemove(node, out _) | File.Exists(node))
                        {
                            File.Delete(node);
                        }
                        return Result(0);
                    }
                    if (!File.Exists(node))
                    {
                        File.WriteAllText(node, Windows.TryGetValue(name, out var window) ? window.Device : "");
                    }
                    return Result(0);
                }
            case ["remove", var name]:
                return RemoveDm(name, "dmsetup");
            default:
                return Result(1, "", $"dmsetup {string.Join(' ', a)}: not simulated");
        }
    }

    /// <summary>Removes a dm device and its node, unless something is mapped on it.</summary>
    private ProcessResult RemoveDm(string name, string tool)
    {
        if (DmByName(name) is not { } number)
        {
            return tool == "dmsetup" ? Result(1, "", $"Device {name} not found\nCommand failed.\n") : Result(4, "", $"Device {name} is not active.\n");
        }
        if (Blocks.Mappings.Values.Any(m => m.Slaves.Contains(number)) || Mounts.Mounted.Values.Any(m => m.Device == number))
        {
            return tool == "dmsetup"
                ? Result(1, "", $"device-mapper: remove ioctl on {name} failed: Device or resource busy\nCommand failed.\n")
                : Result(5, "", $"Device {name} is still in use.\n");
        }
        Blocks.Mappings.TryRemove(number, out _);
        // integritysetup (like cryptsetup) removes its node; dmsetup without udev leaves it, stale.
        foreach (var node in tool == "dmsetup" ? [] : Blocks.Nodes.Where(n => n.Value == number).Select(n => n.Key).ToList())
        {
            Blocks.Nodes.TryRemove(node, out _);
            File.Delete(node);
        }
        Windows.TryRemove(name, out _);
        return Result(0);
    }

    private ProcessResult Integritysetup(IReadOnlyList<string> a)
    {
        if (a is ["close", var closing])
        {
            return RemoveDm(closing, "integritysetup");
        }
        var verb = a[0];
        if (verb is not ("format" or "open" or "resize"))
        {
            return Result(1, "", $"integritysetup {verb}: not simulated");
        }
        // integritysetup 2.6.1 takes the geometry only at format; later actions read it from the superblock.
        foreach (var formatOnly in new[] { "--tag-size", "--sector-size" })
        {
            if (verb != "format" && a.Contains(formatOnly))
            {
                return Result(1, "", $"integritysetup: Option {formatOnly} is not allowed with {verb} action.\n");
            }
        }
        var tagsFile = ArgAfter(a, "--integrity-key-file");
        var journalFile = ArgAfter(a, "--journal-integrity-key-file");
        if (!File.Exists(tagsFile) || !File.Exists(journalFile))
        {
            return Result(1, "", "Failed to read key from keyfile.\n");
        }
        var tags = File.ReadAllBytes(tagsFile);
        var journal = File.ReadAllBytes(journalFile);
        var target = verb == "open" ? a[^2] : a[^1];
        IntegrityKeyUses.Enqueue(new IntegrityKeyUse(verb, target, tags, journal, tagsFile, journalFile));
        switch (verb)
        {
            case "format":
                {
                    if (Locate(target) is not (Disk disk, long offset))
                    {
                        return Result(4, "", $"Device {target} does not exist or access denied.\n");
                    }
                    var superblock = new byte[4096];
                    IntegrityMagic.CopyTo(superblock, 0);
                    SHA256.HashData(tags).CopyTo(superblock, SuperblockKeysOffset);
                    SHA256.HashData(journal).CopyTo(superblock, SuperblockKeysOffset + 32);
                    WriteAt(disk.Path, offset, superblock);
                    // The wipe that makes every tag valid leaves nothing of what was there.
                    disk.FileSystem = null;
                    return Result(0, "Formatted with tag size 32, internal integrity hmac(sha256).\nWiping device to initialize integrity checksum.\n");
                }
            case "open":
                {
                    var name = a[^1];
                    if (DmByName(name) is not null)
                    {
                        return Result(5, "", $"Device {name} already exists.\n");
                    }
                    if (Locate(target) is not (Disk disk, long offset) || Blocks.NumberOf(target) is not { } slave)
                    {
                        return Result(4, "", $"Device {target} does not exist or access denied.\n");
                    }
                    var superblock = ReadAt(disk.Path, offset, SuperblockKeysOffset + 64);
                    if (!superblock.AsSpan(0, IntegrityMagic.Length).SequenceEqual(IntegrityMagic))
                    {
                        return Result(1, "", $"No integrity superblock detected on {target}.\n");
                    }
                    if (!superblock.AsSpan(SuperblockKeysOffset, 32).SequenceEqual(SHA256.HashData(tags))
                        || !superblock.AsSpan(SuperblockKeysOffset + 32, 32).SequenceEqual(SHA256.HashData(journal)))
                    {
                        return Result(1, "", $"device-mapper: reload ioctl on {name} failed: Invalid argument (journal mac mismatch)\n");
                    }
                    MapOver(name, disk.Path, "", slave);
                    return Result(0);
                }
            default:
                return DmByName(a[^1]) is null ? Result(4, "", $"Device {a[^1]} is not active.\n") : Result(0);
        }
    }

    /// <summary>
    /// luksFormat into a detached header file: the data device is not written. The header's data starts
    /// at <c>--offset</c> (in 512-byte sectors), else at the device's offset 0; the volume key comes from
    /// <c>--volume-key-file</c>, else it is drawn here.
    /// </summary>
    private ProcessResult FormatDetached(IReadOnlyList<string> a, string stdin)
    {
        var header = ArgAfter(a, "--header");
        if (Blocks.NumberOf(a[^1]) is null || !File.Exists(a[^1]))
        {
            return Result(4, "", $"Device {a[^1]} does not exist or access denied.\n");
        }
        byte[] key;
        if (a.Contains("--volume-key-file"))
        {
            var keyFile = ArgAfter(a, "--volume-key-file");
            key = File.ReadAllBytes(keyFile);
            VolumeKeyUses.Enqueue(new VolumeKeyUse("luksFormat", key, keyFile));
            if (key.Length != 64)
            {
                return Result(1, "", $"Cannot read 64 bytes from volume key file {keyFile}.\n");
            }
        }
        else
        {
            key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(64);
        }
        var offset = a.Contains("--offset") ? long.Parse(ArgAfter(a, "--offset"), CultureInfo.InvariantCulture) * 512 : 0;
        var state = new FakeLuksImage.State { Slots = { [0] = stdin }, KdfMemoryKiB = NewSlotMemoryKiB(a), DataOffset = offset, VolumeKey = key };
        KdfRuns++;
        using (var stream = new FileStream(header, FileMode.Create, FileAccess.Write))
        {
            stream.Write(FakeLuksImage.Encode(state));
            stream.SetLength(DetachedHeaderBytes);
        }
        return Result(0);
    }

    /// <summary>Unlocks a keyslot (one KDF run per slot tried) and writes the volume key into the named file.</summary>
    private ProcessResult DumpVolumeKey(IReadOnlyList<string> a, string stdin)
    {
        var keyFile = ArgAfter(a, "--volume-key-file");
        return Edit(a[^1], header =>
        {
            if (TryUnlock(header, stdin, exclude: null) is not int slot)
            {
                return Result(2, "", "No key available with this passphrase.\n");
            }
            File.WriteAllBytes(keyFile, header.VolumeKey);
            VolumeKeyUses.Enqueue(new VolumeKeyUse("luksDump", [.. header.VolumeKey], keyFile));
            var verbose = a.Contains("--verbose") ? $"Key slot {slot} unlocked.\n" : "";
            return Result(0, $"{verbose}LUKS header information for {a[^1]}\nKey stored to file {keyFile}.\nCommand successful.\n");
        });
    }

    /// <summary>Opens a data device with a detached header and a volume key the header's digest accepts: no KDF run.</summary>
    private ProcessResult OpenWithVolumeKey(IReadOnlyList<string> a)
    {
        var headerPath = ArgAfter(a, "--header");
        var keyFile = ArgAfter(a, "--volume-key-file");
        var (device, name) = (a[^2], a[^1]);
        var key = File.ReadAllBytes(keyFile);
        VolumeKeyUses.Enqueue(new VolumeKeyUse("open", key, keyFile));
        if (DmByName(name) is not null)
        {
            return Result(5, "", $"Device {name} already exists.\n");
        }
        if (Locate(device) is not (Disk disk, _) || Blocks.NumberOf(device) is not { } slave)
        {
            return Result(4, "", $"Device {device} does not exist or access denied.\n");
        }
        return Edit(headerPath, header =>
        {
            if (!header.VolumeKey.AsSpan().SequenceEqual(key))
            {
                return Result(1, "", "Volume key does not match the volume.\n");
            }
            MapOver(name, disk.Path, CvmControl.Volumes.Luks.MappingProof.DmUuidOf(header.Uuid, name), slave);
            return Result(0, "Command successful.\n");
        });
    }

    private static byte[] ReadAt(string path, long offset, int length)
    {
        var bytes = new byte[length];
        using var stream = File.OpenRead(path);
        stream.Position = offset;
        stream.ReadAtLeast(bytes, length, throwOnEndOfStream: false);
        return bytes;
    }

    private static void WriteAt(string path, long offset, ReadOnlySpan<byte> bytes)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
        stream.Position = offset;
        stream.Write(bytes);
    }

    /// <summary>A kernel log line as dm-integrity prints it for a block whose tag does not match.</summary>
    public static string ChecksumFailure(DeviceNumber device, long sector) =>
        string.Create(CultureInfo.InvariantCulture, $"device-mapper: integrity: dm-{device.Minor}: Checksum failed at sector 0x{sector:x}");
}
