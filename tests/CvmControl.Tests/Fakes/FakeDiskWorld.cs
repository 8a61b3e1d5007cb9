using System.Collections.Concurrent;
using System.Text;
using CvmControl.OS;

namespace CvmControl.Tests.Fakes;

/// <summary>
/// A process runner that simulates cryptsetup, blkid, e2fsprogs and mount over in-memory disks, with the
/// behaviour documented in shared/notes/cryptsetup-facts.md (exit codes, "Key slot N unlocked.",
/// unauthenticated luksKillSlot on empty stdin, keyslot try order). It records every call, so tests can
/// assert on argv and stdin. Unit-test stand-in only: the real tools are proven in the VM scenarios.
/// </summary>
internal sealed class FakeDiskWorld : IProcessRunner
{
    private readonly Lock _gate = new();

    public FakeDiskWorld(string devRoot, FakeMountTable mounts)
    {
        DevRoot = devRoot;
        Mounts = mounts;
        Directory.CreateDirectory(Path.Combine(devRoot, "mapper"));
    }

    public sealed class Disk
    {
        public bool IsLuks { get; set; }

        /// <summary>What blkid -p prints for a non-LUKS signature (a foreign filesystem), or null for blank.</summary>
        public string? Signature { get; set; }

        public SortedDictionary<int, string> Slots { get; } = [];

        public int? Preferred { get; set; }

        public string? FileSystem { get; set; }

        public int FsckExit { get; set; }

        /// <summary>What a hostile host may have written into the segment (default: the honest cipher).</summary>
        public string SegmentCipher { get; set; } = "aes-xts-plain64";

        public bool Marker { get; set; }
    }

    /// <summary>Header copies made by luksHeaderBackup: file → the disk it came from.</summary>
    public ConcurrentDictionary<string, string> HeaderCopies { get; } = new();

    /// <summary>LUKS2 JSON metadata shaped like cryptsetup 2.6.1's, for the disk's current state.</summary>
    public static string MetadataOf(Disk disk)
    {
        var slots = string.Join(',', disk.Slots.Keys.Select(k =>
            $"\"{k}\":{{\"type\":\"luks2\",\"key_size\":64,\"af\":{{\"type\":\"luks1\",\"stripes\":4000,\"hash\":\"sha256\"}}," +
            $"\"area\":{{\"type\":\"raw\",\"offset\":\"{32768 + (k * 258048)}\",\"size\":\"258048\",\"encryption\":\"aes-xts-plain64\",\"key_size\":64}}," +
            $"\"kdf\":{{\"type\":\"argon2id\",\"time\":4,\"memory\":32768,\"cpus\":2,\"salt\":\"c2FsdA==\"}}" +
            (disk.Preferred == k ? ",\"priority\":2" : "") + "}"));
        var bound = string.Join(',', disk.Slots.Keys.Select(k => $"\"{k}\""));
        var tokens = disk.Marker ? "\"0\":{\"type\":\"cvm-control\",\"keyslots\":[],\"version\":1}" : "";
        return "{\"keyslots\":{" + slots + "},\"tokens\":{" + tokens + "}," +
            "\"segments\":{\"0\":{\"type\":\"crypt\",\"offset\":\"16777216\",\"size\":\"dynamic\",\"iv_tweak\":\"0\",\"encryption\":\"" + disk.SegmentCipher + "\",\"sector_size\":4096}}," +
            "\"digests\":{\"0\":{\"type\":\"pbkdf2\",\"keyslots\":[" + bound + "],\"segments\":[\"0\"],\"hash\":\"sha256\",\"iterations\":1000,\"salt\":\"c2FsdA==\",\"digest\":\"ZGlnZXN0\"}}," +
            "\"config\":{\"json_size\":\"12288\",\"keyslots_size\":\"16744448\"}}";
    }

    /// <summary>A device path or a header copy → its disk.</summary>
    private Disk DiskOf(string path) => Disks.GetValueOrDefault(path) ?? Disks[HeaderCopies[path]];

    public string DevRoot { get; }

    public FakeMountTable Mounts { get; }

    public ConcurrentDictionary<string, Disk> Disks { get; } = new();

    public ConcurrentQueue<(ProcessSpec Spec, string Stdin)> Calls { get; } = new();

    /// <summary>Number of simulated KDF evaluations, the cost that memory-hard argon2id puts on each slot tried.</summary>
    public int KdfRuns { get; private set; }

    public int MaxConcurrentKdf { get; private set; }

    private int _concurrentKdf;

    public Func<ProcessSpec, ProcessResult?>? Override { get; set; }

    public TimeSpan KdfDelay { get; set; } = TimeSpan.Zero;

    public Disk AddDisk(string device) => Disks[device] = new Disk();

    public IEnumerable<string[]> Argvs(string tool) =>
        Calls.Where(c => c.Spec.Executable == tool).Select(c => c.Spec.Arguments.ToArray());

    public async Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken cancellationToken = default)
    {
        var stdin = Encoding.UTF8.GetString(spec.StandardInput.Span);
        Calls.Enqueue((spec, stdin));
        if (Override?.Invoke(spec) is { } overridden)
        {
            return overridden;
        }
        var isKdf = spec.Executable == "cryptsetup" && spec.Arguments[0] is "luksFormat" or "open" or "luksKillSlot" or "luksAddKey";
        if (isKdf)
        {
            lock (_gate)
            {
                _concurrentKdf++;
                MaxConcurrentKdf = Math.Max(MaxConcurrentKdf, _concurrentKdf);
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
                }
            }
        }
    }

    private static ProcessResult Result(int exit, string stdout = "", string stderr = "") => new(exit, stdout, stderr, TimeSpan.Zero);

    private ProcessResult Simulate(ProcessSpec spec, string stdin)
    {
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
                Mounts.Mount(a[^1], a[^2]);
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
            case "luksFormat":
                {
                    var disk = Disks[a[^1]];
                    disk.IsLuks = true;
                    disk.Signature = null;
                    disk.FileSystem = null;
                    disk.Slots.Clear();
                    disk.Slots[0] = stdin;
                    disk.Marker = false;
                    KdfRuns++;
                    return Result(0);
                }
            case "luksHeaderBackup":
                {
                    var file = a[2];
                    if (File.Exists(file))
                    {
                        return Result(1, "", $"Requested header backup file {file} already exists.\n");
                    }
                    File.WriteAllBytes(file, [(byte)'L', (byte)'U', (byte)'K', (byte)'S', 0xBA, 0xBE, 0x00, 0x02]);
                    HeaderCopies[file] = a[^1];
                    return Result(0);
                }
            case "token":
                Disks[a[^1]].Marker = stdin.Contains("\"cvm-control\"", StringComparison.Ordinal);
                return Result(0);
            case "open" when a.Contains("--test-passphrase"):
                {
                    var disk = DiskOf(a[^1]);
                    return TryUnlock(disk, stdin, exclude: null) is int slot ? Result(0, $"Key slot {slot} unlocked.\nCommand successful.\n") : Result(2, "", "No key available with this passphrase.\n");
                }
            case "open":
                {
                    var disk = Disks[a[^2]];
                    if (TryUnlock(disk, stdin, exclude: null) is not int slot)
                    {
                        return Result(2, "", "No key available with this passphrase.\n");
                    }
                    File.WriteAllText(Path.Combine(DevRoot, "mapper", a[^1]), a[^2]);
                    return Result(0, $"Key slot {slot} unlocked.\nCommand successful.\n");
                }
            case "luksDump":
                return Result(0, MetadataOf(DiskOf(a[^1])));
            case "config":
                Disks[a[^1]].Preferred = int.Parse(a[a.ToList().IndexOf("--key-slot") + 1], System.Globalization.CultureInfo.InvariantCulture);
                return Result(0);
            case "luksKillSlot":
                {
                    var disk = Disks[a[^2]];
                    var victim = int.Parse(a[^1], System.Globalization.CultureInfo.InvariantCulture);
                    // The documented pitfall: an empty stdin skips authentication entirely.
                    if (stdin.Length > 0 && TryUnlock(disk, stdin, exclude: victim, honourPriority: false) is null)
                    {
                        return Result(2, "", "No key available with this passphrase.\n");
                    }
                    disk.Slots.Remove(victim);
                    return Result(0);
                }
            case "luksAddKey":
                {
                    var disk = Disks[a[^2]];
                    if (TryUnlock(disk, stdin, exclude: null) is null)
                    {
                        return Result(2, "", "No key available with this passphrase.\n");
                    }
                    var next = Enumerable.Range(0, 32).First(i => !disk.Slots.ContainsKey(i));
                    disk.Slots[next] = File.ReadAllText(a[^1]);
                    KdfRuns++;
                    return Result(0);
                }
            default:
                return Result(1, "", $"cryptsetup {a[0]}: not simulated");
        }
    }

    /// <summary>
    /// Each slot tried is one KDF run. open and luksAddKey try the preferred slot first, then the rest in
    /// order; luksKillSlot authenticates by trying the other slots in plain numeric order and ignores the
    /// priority (measured with cryptsetup 2.6.1 --debug on an image file).
    /// </summary>
    private int? TryUnlock(Disk disk, string passphrase, int? exclude, bool honourPriority = true)
    {
        var order = disk.Slots.Keys.Where(k => k != exclude).OrderBy(k => honourPriority && k == disk.Preferred ? 0 : 1).ThenBy(k => k);
        foreach (var slot in order)
        {
            KdfRuns++;
            if (disk.Slots[slot] == passphrase)
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
