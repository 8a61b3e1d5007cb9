using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using CvmControl.Attestation.Evidence;
using CvmControl.Tests.Attestation;

namespace CvmControl.Tests.Fakes;

/// <summary>
/// An in-memory configfs-tsm report directory that behaves like the kernel's: a new entry has its
/// attributes at once, <c>inblob</c> takes exactly 64 bytes and bumps <c>generation</c>, and
/// <c>outblob</c> is produced from the last inblob by <see cref="Outblob"/> (by default the real SNP
/// vector, unchanged). Faults can be switched on; everything done to it is recorded.
/// </summary>
internal sealed class FakeTsm : ITsmFileSystem
{
    public const int SnpReportDataOffset = 0x50;
    public const int TdxReportDataOffset = 568;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private int _maxLive;

    private sealed class Entry
    {
        public ulong Generation { get; set; }

        public byte[]? Inblob { get; set; }
    }

    public string Directory { get; init; } = "/sys/kernel/config/tsm/report";

    /// <summary>False: the report directory does not exist (no configfs-tsm on this kernel).</summary>
    public bool Present { get; set; } = true;

    /// <summary>What <c>provider</c> reads; null: no TEE driver registered, and reading fails as with ENXIO.</summary>
    public string? Provider { get; set; } = "sev_guest";

    /// <summary>The kernel's report generation: 64-byte inblob in, evidence out.</summary>
    public Func<byte[], byte[]> Outblob { get; set; } = _ => TestVectors.Read("attestation.bin");

    /// <summary>Null: the entry has no <c>auxblob</c> attribute (TDX on recent kernels).</summary>
    public Func<byte[], byte[]>? Auxblob { get; set; }

    /// <summary>How long generating outblob takes, as the PSP or the quoting enclave would.</summary>
    public TimeSpan OutblobLatency { get; set; }

    /// <summary>Another writer hits the entry while outblob is read: generation moves on.</summary>
    public bool BumpGenerationDuringRead { get; set; }

    /// <summary>An attribute name, or <c>mkdir</c> / <c>rmdir</c>: that operation fails with an I/O error.</summary>
    public string? FailOn { get; set; }

    public ConcurrentQueue<string> Created { get; } = new();

    public ConcurrentQueue<string> Removed { get; } = new();

    /// <summary>Every blob written to any inblob, as written.</summary>
    public ConcurrentQueue<byte[]> Inblobs { get; } = new();

    public IReadOnlyCollection<string> Live
    {
        get { lock (_lock) { return [.. _entries.Keys]; } }
    }

    /// <summary>The most entries that ever existed at once.</summary>
    public int MaxLive
    {
        get { lock (_lock) { return _maxLive; } }
    }

    public static FakeTsm Snp() => new() { Provider = "sev_guest", Outblob = EmbedInSnpReport };

    public static FakeTsm Tdx() => new() { Provider = "tdx_guest", Outblob = EmbedInTdxQuote };

    public static FakeTsm Absent() => new() { Present = false };

    /// <summary>The real SNP report with the inblob as its REPORT_DATA, as the PSP would sign it.</summary>
    public static byte[] EmbedInSnpReport(byte[] inblob) => Embed("attestation.bin", SnpReportDataOffset, inblob);

    /// <summary>The real TDX quote with the inblob as its REPORTDATA.</summary>
    public static byte[] EmbedInTdxQuote(byte[] inblob) => Embed("tdx_quote_4.dat", TdxReportDataOffset, inblob);

    public static byte[] ReportDataOfSnp(byte[] report) => report[SnpReportDataOffset..(SnpReportDataOffset + 64)];

    private static byte[] Embed(string vector, int offset, byte[] inblob)
    {
        var evidence = TestVectors.Read(vector);
        inblob.CopyTo(evidence, offset);
        return evidence;
    }

    public bool Exists() => Present;

    public void CreateEntry(string name)
    {
        lock (_lock)
        {
            if (!Present)
            {
                throw new DirectoryNotFoundException($"Could not find a part of the path '{Directory}/{name}'.");
            }
            Fault("mkdir");
            if (!_entries.TryAdd(name, new Entry()))
            {
                throw new IOException("File exists");
            }
            _maxLive = Math.Max(_maxLive, _entries.Count);
            Created.Enqueue(name);
        }
    }

    public void WriteInblob(string name, ReadOnlySpan<byte> reportData)
    {
        var copy = reportData.ToArray();
        lock (_lock)
        {
            var entry = Find(name);
            Inblobs.Enqueue(copy);
            Fault(TsmAttribute.Inblob);
            if (copy.Length != 64)
            {
                throw new IOException("Invalid argument");
            }
            entry.Inblob = copy;
            entry.Generation++;
        }
    }

    public byte[] Read(string name, string attribute)
    {
        byte[]? inblob;
        lock (_lock)
        {
            var entry = Find(name);
            Fault(attribute);
            switch (attribute)
            {
                case TsmAttribute.Provider:
                    return Provider is null ? throw new IOException("No such device or address") : Encoding.ASCII.GetBytes(Provider + "\n");
                case TsmAttribute.Generation:
                    return Encoding.ASCII.GetBytes(entry.Generation.ToString(CultureInfo.InvariantCulture) + "\n");
                case TsmAttribute.Inblob:
                    throw new UnauthorizedAccessException("inblob is write-only");
                case TsmAttribute.Auxblob when Auxblob is null:
                    throw new FileNotFoundException("no auxblob", name + "/" + attribute);
                case TsmAttribute.Outblob or TsmAttribute.Auxblob:
                    inblob = entry.Inblob ?? throw new IOException("Invalid argument");
                    break;
                default:
                    throw new FileNotFoundException("no such attribute", name + "/" + attribute);
            }
        }

        if (attribute == TsmAttribute.Auxblob)
        {
            return Auxblob!(inblob);
        }
        if (OutblobLatency > TimeSpan.Zero)
        {
            Thread.Sleep(OutblobLatency);
        }
        var outblob = Outblob(inblob);
        if (BumpGenerationDuringRead)
        {
            lock (_lock)
            {
                Find(name).Generation++;
            }
        }
        return outblob;
    }

    public void RemoveEntry(string name)
    {
        lock (_lock)
        {
            Find(name);
            Fault("rmdir");
            _entries.Remove(name);
            Removed.Enqueue(name);
        }
    }

    private Entry Find(string name) =>
        _entries.TryGetValue(name, out var entry) ? entry : throw new DirectoryNotFoundException($"no entry {name}");

    private void Fault(string operation)
    {
        if (FailOn == operation)
        {
            throw new IOException("Input/output error");
        }
    }
}
