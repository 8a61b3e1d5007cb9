using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using CvmControl.OS;

namespace CvmControl.Tests.Fakes;

/// <summary>
/// A process runner that simulates cryptsetup, blkid, e2fsprogs and mount over disks that are files, with
/// the behaviour of cryptsetup 2.6.1 as its man pages and a real run show it (exit codes, "Key slot N unlocked.",
/// unauthenticated luksKillSlot on empty stdin, keyslot try order). A LUKS disk's header area lives in
/// its file as a <see cref="FakeLuksImage"/>, so header copies, edits on copies and the daemon's own
/// write-back are real bytes: what the daemon writes to a device is decoded the way cryptsetup would
/// read it. It records every call, so tests can assert on argv and stdin. Unit-test stand-in only: the
/// real tools are proven in the VM scenarios.
/// </summary>
internal sealed partial class FakeDiskWorld : IProcessRunner
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, byte[]> _lastImage = [];
    private readonly Dictionary<string, byte[]> _lastState = [];
    private int _concurrentKdf;
    private long _kdfMemoryInUse;
    private uint _nextDisk;

    public FakeDiskWorld(string devRoot, FakeMountTable mounts, FakeBlockDevices blocks)
    {
        DevRoot = devRoot;
        Mounts = mounts;
        Blocks = blocks;
        Directory.CreateDirectory(Path.Combine(devRoot, "mapper"));
    }

    public sealed class Disk(string path, DeviceNumber number)
    {
        public string Path { get; } = path;

        public DeviceNumber Number { get; } = number;

        /// <summary>
        /// Setting it on a disk whose header area is still zeros writes the header there at once, as a
        /// disk that already held LUKS would read: the daemon's in-process blank read sees it too.
        /// </summary>
        public bool IsLuks
        {
            get;
            set
            {
                field = value;
                if (value)
                {
                    LuksSet?.Invoke(this);
                }
            }
        }

        internal Action<Disk>? LuksSet { get; set; }

        /// <summary>What blkid -p prints for a non-LUKS signature (a foreign filesystem), or null for blank.</summary>
        public string? Signature { get; set; }

        public FakeLuksImage.State Header { get; } = new();

        public SortedDictionary<int, string> Slots => Header.Slots;

        public int? Preferred
        {
            get => Header.Preferred;
            set => Header.Preferred = value;
        }

        /// <summary>What a hostile host may have written into the segment (default: the honest cipher).</summary>
        public string SegmentCipher
        {
            get => Header.SegmentCipher;
            set => Header.SegmentCipher = value;
        }

        public bool Marker
        {
            get => Header.Marker;
            set => Header.Marker = value;
        }

        public string Uuid => Header.Uuid;

        /// <summary>
        /// The header's segment offset: 0 says the data lives on another device, as on a volume formatted
        /// with integrity (see <see cref="FakeLuksImage.State.DataOffset"/>).
        /// </summary>
        public long DataOffset
        {
            get => Header.DataOffset;
            set => Header.DataOffset = value;
        }

        /// <summary>The argon2 memory of the header's keyslots, in KiB.</summary>
        public int KdfMemoryKiB
        {
            get => Header.KdfMemoryKiB;
            set => Header.KdfMemoryKiB = value;
        }

        public string? FileSystem { get; set; }

        public int FsckExit { get; set; }
    }

    /// <summary>Header copies made by luksHeaderBackup: file → the disk it came from.</summary>
    public ConcurrentDictionary<string, string> HeaderCopies { get; } = new();

    public string DevRoot { get; }

    public FakeMountTable Mounts { get; }

    public FakeBlockDevices Blocks { get; }

    public ConcurrentDictionary<string, Disk> Disks { get; } = new();

    public ConcurrentQueue<(ProcessSpec Spec, string Stdin)> Calls { get; } = new();

    /// <summary>Number of simulated KDF evaluations, the cost that memory-hard argon2id puts on each slot tried.</summary>
    public int KdfRuns { get; private set; }

    public int MaxConcurrentKdf { get; private set; }

    /// <summary>The most argon2 memory the KDF runs running together needed at any moment, in bytes.</summary>
    public long MaxKdfMemoryInUse { get; private set; }

    /// <summary>Times a device's header area changed by a write the fake did not make: the daemon's own write-back.</summary>
    public int DeviceWrites { get; private set; }

    public Func<ProcessSpec, ProcessResult?>? Override { get; set; }

    public TimeSpan KdfDelay { get; set; } = TimeSpan.Zero;

    public Disk AddDisk(string device)
    {
        lock (_gate)
        {
            var disk = Disks[device] = new Disk(device, new DeviceNumber(259, _nextDisk++));
            disk.LuksSet = d =>
            {
                lock (_gate)
                {
                    if (!ReadArea(d.Path).AsSpan().ContainsAnyExcept((byte)0))
                    {
                        Store(d);
                    }
                }
            };
            Blocks.Nodes[device] = disk.Number;
            _lastImage[device] = ReadArea(device);
            return disk;
        }
    }

    /// <summary>
    /// An NVMe disk as <paramref name="sysfs"/> shows it (serial and model on its controller); its device
    /// node is a sparse file that reads as zeros, like a new volume. <paramref name="sysfs"/> must lay out
    /// the same /dev as <see cref="DevRoot"/>.
    /// </summary>
    public Disk AttachNvme(FakeSysfs sysfs, string node, string serial, string model = "QEMU NVMe Ctrl")
    {
        sysfs.Nvme(node, serial, model);
        var device = sysfs.Node(node);
        using (var stream = File.Open(device, FileMode.Open))
        {
            stream.SetLength(64L * 1024 * 1024);
        }
        return AddDisk(device);
    }

    /// <summary>An attached EBS volume (see <see cref="AttachNvme"/>) and the by-id link udev would make.</summary>
    public Disk Attach(FakeSysfs sysfs, string volumeId, string node)
    {
        var serial = CvmControl.Volumes.Devices.AwsNvmeDeviceResolver.SerialOf(volumeId);
        var disk = AttachNvme(sysfs, node, serial, "Amazon Elastic Block Store");
        sysfs.Link("by-id/nvme-Amazon_Elastic_Block_Store_" + serial, "../../" + node);
        return disk;
    }

    /// <summary>An open mapping of <paramref name="disk"/> named <paramref name="name"/>, as cryptsetup open leaves it.</summary>
    public string Map(string name, Disk disk, string? uuid = null) =>
        MapOver(name, disk.Path, uuid ?? CvmControl.Volumes.Luks.MappingProof.DmUuidOf(disk.Uuid, name), disk.Number);

    /// <summary>
    /// A dm device named <paramref name="name"/> over <paramref name="slave"/>, and its node. The node file
    /// names the disk at the bottom of the stack, which is where the fake keeps a filesystem's state.
    /// </summary>
    private string MapOver(string name, string diskPath, string uuid, DeviceNumber slave)
    {
        var mapper = Path.Combine(DevRoot, "mapper", name);
        File.WriteAllText(mapper, diskPath);
        Blocks.AddMapping(mapper, name, uuid, slave);
        return mapper;
    }

    /// <summary>The host rewrites bytes of a disk's header area, under the daemon.</summary>
    public void HostWrites(Disk disk, long offset, ReadOnlySpan<byte> bytes)
    {
        lock (_gate)
        {
            Sync(disk);
            using (var stream = new FileStream(disk.Path, FileMode.Open, FileAccess.Write))
            {
                stream.Position = offset;
                stream.Write(bytes);
            }
            Load(disk, ReadArea(disk.Path));
        }
    }

    public IEnumerable<string[]> Argvs(string tool) =>
        Calls.Where(c => c.Spec.Executable == tool).Select(c => c.Spec.Arguments.ToArray());

    public async Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken cancellationToken = default)
    {
        // A real child runs apart from its caller, which goes on until it awaits the exit.
        await Task.Yield();
        var stdin = Encoding.UTF8.GetString(spec.StandardInput.Span);
        Calls.Enqueue((spec, stdin));
        if (Override?.Invoke(spec) is { } overridden)
        {
            return overridden;
        }
        var isKdf = spec.Executable == "cryptsetup" && (spec.Arguments[0] is "luksFormat" or "luksKillSlot" or "luksAddKey"
            || (spec.Arguments[0] == "open" && !spec.Arguments.Contains("--volume-key-file"))
            || (spec.Arguments[0] == "luksDump" && spec.Arguments.Contains("--dump-volume-key")));
        var kdfMemory = isKdf ? KdfMemoryOf(spec) : 0;
        if (isKdf)
        {
            lock (_gate)
            {
                _concurrentKdf++;
                MaxConcurrentKdf = Math.Max(MaxConcurrentKdf, _concurrentKdf);
                _kdfMemoryInUse += kdfMemory;
                MaxKdfMemoryInUse = Math.Max(MaxKdfMemoryInUse, _kdfMemoryInUse);
            }
            await Task.Delay(KdfDelay, CancellationToken.None);
        }
        try
        {
            lock (_gate)
            {
                return Simulate(spec, stdin);
            }
        }
        finally
        {
            if (isKdf)
            {
                lock (_gate)
                {
                    _concurrentKdf--;
                    _kdfMemoryInUse -= kdfMemory;
                }
            }
        }
    }

    /// <summary>
    /// What one KDF step needs, as real cryptsetup would: unlocking needs the header's argon2 memory, and a
    /// new keyslot needs <c>--pbkdf-memory</c>, or 1 GiB when it is not given.
    /// </summary>
    private static long KdfMemoryOf(ProcessSpec spec)
    {
        var a = spec.Arguments;
        long unlock = 0;
        foreach (var path in a.Where(p => p.StartsWith('/') && File.Exists(p)))
        {
            if (FakeLuksImage.Decode(ReadArea(path)) is { } header)
            {
                unlock = header.KdfMemoryKiB * 1024L;
                break;
            }
        }
        if (a[0] is not ("luksFormat" or "luksAddKey"))
        {
            return unlock;
        }
        return Math.Max(unlock, NewSlotMemoryKiB(a) * 1024L);
    }

    /// <summary>A new keyslot's argon2 memory: <c>--pbkdf-memory</c>, or without it 1 GiB, the most cryptsetup's benchmark may pick.</summary>
    private static int NewSlotMemoryKiB(IReadOnlyList<string> a)
    {
        var memory = a.ToList().IndexOf("--pbkdf-memory");
        return memory < 0 ? 1024 * 1024 : int.Parse(a[memory + 1], CultureInfo.InvariantCulture);
    }

    private static ProcessResult Result(int exit, string stdout = "", string stderr = "") => new(exit, stdout, stderr, TimeSpan.Zero);

    private ProcessResult Simulate(ProcessSpec spec, string stdin)
    {
        foreach (var disk in Disks.Values)
        {
            Sync(disk);
        }
        var a = spec.Arguments;
        switch (spec.Executable)
        {
            case "blkid" when a.Count == 2 && a[0] == "-p":
                {
                    var disk = Disks.GetValueOrDefault(a[1]);
                    return disk switch
                    {
                        null => Result(2),
                        { IsLuks: true } => Result(0, $"{a[1]}: TYPE=\"crypto_LUKS\"\n"),
                        { Signature: { } sig } => Result(0, $"{a[1]}: {sig}\n"),
                        _ => Result(2),
                    };
                }
            case "blkid" when a[0] == "-p" && a.Contains("TYPE"):
                {
                    var target = a[^1];
                    var mapped = MappedDisk(target);
                    if (mapped is not null)
                    {
                        return mapped.FileSystem is { } fs ? Result(0, fs + "\n") : Result(2);
                    }
                    var disk = Disks.GetValueOrDefault(target);
                    return disk is { IsLuks: true } ? Result(0, "crypto_LUKS\n") : Result(2);
                }
            case "cryptsetup":
                return Cryptsetup(a, stdin);
            case "dmsetup":
                return Dmsetup(a);
            case "integritysetup":
                return Integritysetup(a);
            case "dmesg" when a.SequenceEqual(["--kernel", "--notime"]):
                return Result(0, KernelLog);
            case "mkfs.ext4":
                MappedDisk(a[^1])!.FileSystem = "ext4";
                return Result(0);
            case "e2fsck":
                {
                    var disk = MappedDisk(a[^1])!;
                    return Result(disk.FsckExit, "", disk.FsckExit > 1 ? "e2fsck: Filesystem has unsupported features\n" : "");
                }
            case "resize2fs":
                return Result(0, "", "resize2fs 1.47.0\nThe filesystem is already 65536 (4k) blocks long.  Nothing to do!\n");
            case "mount":
                Mounts.Mount(a[^1], a[^2], Blocks.NumberOf(a[^2]));
                return Result(0);
            default:
                return Result(127, "", $"{spec.Executable}: not simulated");
        }
    }

    private ProcessResult Cryptsetup(IReadOnlyList<string> a, string stdin)
    {
        switch (a[0])
        {
            case "isLuks":
                return Disks.TryGetValue(a[1], out var d) ? Result(d.IsLuks ? 0 : 1) : Result(4);
            case "luksFormat" when a.Contains("--header"):
                return FormatDetached(a, stdin);
            case "luksFormat":
                {
                    var disk = Disks[a[^1]];
                    disk.IsLuks = true;
                    disk.Signature = null;
                    disk.FileSystem = null;
                    disk.Header.CopyFrom(new FakeLuksImage.State { Slots = { [0] = stdin }, KdfMemoryKiB = NewSlotMemoryKiB(a) });
                    KdfRuns++;
                    Store(disk);
                    return Result(0);
                }
            case "luksHeaderBackup":
                {
                    var file = a[2];
                    var disk = Disks[a[^1]];
                    if (!disk.IsLuks)
                    {
                        return Result(1, "", $"Device {a[^1]} is not a valid LUKS device.\n");
                    }
                    if (File.Exists(file))
                    {
                        return Result(1, "", $"Requested header backup file {file} already exists.\n");
                    }
                    using (var stream = new FileStream(file, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead }))
                    {
                        stream.Write(ReadArea(disk.Path));
                    }
                    HeaderCopies[file] = a[^1];
                    return Result(0);
                }
            case "luksDump" when a.Contains("--dump-volume-key"):
                return DumpVolumeKey(a, stdin);
            case "luksDump":
                return Edit(a[^1], MetadataOf);
            case "token":
                return Edit(a[^1], header =>
                {
                    header.Marker = stdin.Contains("\"cvm-control\"", StringComparison.Ordinal);
                    return Result(0);
                });
            case "open" when a.Contains("--test-passphrase") && a.Contains("--key-slot"):
                return Edit(a[^1], header =>
                {
                    // With --key-slot only that slot is tried: one KDF run, exit 2 when it does not open it.
                    var only = int.Parse(a[a.ToList().IndexOf("--key-slot") + 1], CultureInfo.InvariantCulture);
                    KdfRuns++;
                    return header.Slots.TryGetValue(only, out var held) && stdin.Length > 0 && held == stdin
                        ? Result(0, "Command successful.\n")
                        : Result(2, "", "No key available with this passphrase.\n");
                });
            case "open" when a.Contains("--test-passphrase"):
                return Edit(a[^1], header => TryUnlock(header, stdin, exclude: null) is int slot
                    ? Result(0, $"Key slot {slot} unlocked.\nCommand successful.\n")
                    : Result(2, "", "No key available with this passphrase.\n"));
            case "open" when a.Contains("--volume-key-file"):
                return OpenWithVolumeKey(a);
            case "open":
                {
                    var device = a[^2];
                    var name = a[^1];
                    var headerPath = a.Contains("--header") ? a[a.ToList().IndexOf("--header") + 1] : device;
                    return Edit(headerPath, header =>
                    {
                        if (TryUnlock(header, stdin, exclude: null) is not int slot)
                        {
                            return Result(2, "", "No key available with this passphrase.\n");
                        }
                        Map(name, Disks[device], CvmControl.Volumes.Luks.MappingProof.DmUuidOf(header.Uuid, name));
                        return Result(0, $"Key slot {slot} unlocked.\nCommand successful.\n");
                    });
                }
            case "config":
                return Edit(a[^1], header =>
                {
                    header.Preferred = int.Parse(a[a.ToList().IndexOf("--key-slot") + 1], CultureInfo.InvariantCulture);
                    return Result(0);
                });
            case "luksKillSlot":
                return Edit(a[^2], header =>
                {
                    var victim = int.Parse(a[^1], CultureInfo.InvariantCulture);
                    // The documented pitfall: an empty stdin skips authentication entirely.
                    if (stdin.Length > 0 && TryUnlock(header, stdin, exclude: victim, honourPriority: false) is null)
                    {
                        return Result(2, "", "No key available with this passphrase.\n");
                    }
                    header.Slots.Remove(victim);
                    return Result(0);
                });
            case "luksAddKey":
                return Edit(a[^2], header =>
                {
                    if (TryUnlock(header, stdin, exclude: null) is null)
                    {
                        return Result(2, "", "No key available with this passphrase.\n");
                    }
                    var next = Enumerable.Range(0, FakeLuksImage.Slots).First(i => !header.Slots.ContainsKey(i));
                    header.Slots[next] = File.ReadAllText(a[^1]);
                    KdfRuns++;
                    return Result(0);
                });
            default:
                return Result(1, "", $"cryptsetup {a[0]}: not simulated");
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> on the header of a device or of a header copy, and saves what it
    /// changed, with a new sequence number, where that header lives.
    /// </summary>
    private ProcessResult Edit(string path, Func<FakeLuksImage.State, ProcessResult> action)
    {
        if (Disks.TryGetValue(path, out var disk))
        {
            if (!disk.IsLuks)
            {
                return Result(1, "", $"Device {path} is not a valid LUKS device.\n");
            }
            var before = FakeLuksImage.Encode(disk.Header);
            var result = action(disk.Header);
            if (!FakeLuksImage.Encode(disk.Header).SequenceEqual(before))
            {
                disk.Header.Sequence++;
            }
            Store(disk);
            return result;
        }
        if (!File.Exists(path) || FakeLuksImage.Decode(File.ReadAllBytes(path)) is not { } header)
        {
            return Result(1, "", $"Device {path} is not a valid LUKS device.\n");
        }
        var original = FakeLuksImage.Encode(header);
        var outcome = action(header);
        var changed = FakeLuksImage.Encode(header);
        if (!changed.SequenceEqual(original))
        {
            header.Sequence++;
            // In place, as cryptsetup writes a header file: a detached header keeps its full length.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
            stream.Write(FakeLuksImage.Encode(header));
        }
        return outcome;
    }

    /// <summary>
    /// Brings a disk's object and its file into agreement before a command: bytes someone else wrote
    /// (the daemon's write-back) are decoded into the object; otherwise the object (which tests set up and
    /// change directly) is written to the file.
    /// </summary>
    private void Sync(Disk disk)
    {
        var current = ReadArea(disk.Path);
        if (!current.AsSpan().SequenceEqual(_lastImage[disk.Path]))
        {
            DeviceWrites++;
            Load(disk, current);
        }
        Store(disk);
    }

    private void Load(Disk disk, byte[] image)
    {
        if (FakeLuksImage.Decode(image) is { } header)
        {
            disk.IsLuks = true;
            disk.Header.CopyFrom(header);
            _lastState[disk.Path] = FakeLuksImage.Encode(disk.Header);
        }
        else
        {
            disk.IsLuks = false;
        }
        _lastImage[disk.Path] = image;
    }

    /// <summary>Writes the disk object to its file when the object changed since it was last written or read.</summary>
    private void Store(Disk disk)
    {
        if (disk.IsLuks)
        {
            var state = FakeLuksImage.Encode(disk.Header);
            if (!_lastState.TryGetValue(disk.Path, out var last) || !state.AsSpan().SequenceEqual(last))
            {
                using (var stream = new FileStream(disk.Path, FileMode.Open, FileAccess.Write))
                {
                    stream.Write(state);
                }
                _lastState[disk.Path] = state;
            }
        }
        _lastImage[disk.Path] = ReadArea(disk.Path);
    }

    private static byte[] ReadArea(string path)
    {
        var area = new byte[FakeLuksImage.AreaSize];
        using var stream = File.OpenRead(path);
        stream.ReadAtLeast(area, area.Length, throwOnEndOfStream: false);
        return area;
    }

    /// <summary>LUKS2 JSON metadata shaped like cryptsetup 2.6.1's, for a header's state, in the fake area's layout.</summary>
    public static ProcessResult MetadataOf(FakeLuksImage.State header)
    {
        var slots = string.Join(',', header.Slots.Keys.Select(k =>
            $"\"{k}\":{{\"type\":\"luks2\",\"key_size\":64,\"af\":{{\"type\":\"luks1\",\"stripes\":4000,\"hash\":\"sha256\"}}," +
            $"\"area\":{{\"type\":\"raw\",\"offset\":\"{FakeLuksImage.KeyslotsStart + (k * FakeLuksImage.SlotAreaSize)}\",\"size\":\"{FakeLuksImage.SlotAreaSize}\",\"encryption\":\"aes-xts-plain64\",\"key_size\":64}}," +
            $"\"kdf\":{{\"type\":\"argon2id\",\"time\":4,\"memory\":{header.KdfMemoryKiB},\"cpus\":2,\"salt\":\"c2FsdA==\"}}" +
            (header.Preferred == k ? ",\"priority\":2" : "") + "}"));
        var bound = string.Join(',', header.Slots.Keys.Select(k => $"\"{k}\""));
        var tokens = header.Marker ? "\"0\":{\"type\":\"cvm-control\",\"keyslots\":[],\"version\":1}" : "";
        return Result(0, "{\"keyslots\":{" + slots + "},\"tokens\":{" + tokens + "}," +
            "\"segments\":{\"0\":{\"type\":\"crypt\",\"offset\":\"" + header.DataOffset + "\",\"size\":\"dynamic\",\"iv_tweak\":\"0\",\"encryption\":\"" + header.SegmentCipher + "\",\"sector_size\":4096}}," +
            "\"digests\":{\"0\":{\"type\":\"pbkdf2\",\"keyslots\":[" + bound + "],\"segments\":[\"0\"],\"hash\":\"sha256\",\"iterations\":1000,\"salt\":\"c2FsdA==\",\"digest\":\"ZGlnZXN0\"}}," +
            "\"config\":{\"json_size\":\"" + (FakeLuksImage.HeaderSize - 4096) + "\",\"keyslots_size\":\"" + (FakeLuksImage.AreaSize - FakeLuksImage.KeyslotsStart) + "\"}}");
    }

    /// <summary>
    /// Each slot tried is one KDF run. open and luksAddKey try the preferred slot first, then the rest in
    /// order; luksKillSlot authenticates by trying the other slots in plain numeric order and ignores the
    /// priority (measured with cryptsetup 2.6.1 --debug on an image file).
    /// </summary>
    private int? TryUnlock(FakeLuksImage.State header, string passphrase, int? exclude, bool honourPriority = true)
    {
        var order = header.Slots.Keys.Where(k => k != exclude).OrderBy(k => honourPriority && k == header.Preferred ? 0 : 1).ThenBy(k => k);
        foreach (var slot in order)
        {
            KdfRuns++;
            if (passphrase.Length > 0 && header.Slots[slot] == passphrase)
            {
                return slot;
            }
        }
        return null;
    }

    private Disk? MappedDisk(string path)
    {
        if (!path.StartsWith(Path.Combine(DevRoot, "mapper") + "/", StringComparison.Ordinal) || !File.Exists(path))
        {
            return null;
        }
        return Disks.GetValueOrDefault(File.ReadAllText(path));
    }
}
