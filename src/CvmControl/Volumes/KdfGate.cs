using System.Globalization;
using CvmControl.Metrics;

namespace CvmControl.Volumes;

/// <summary>
/// Bounds how many memory-hard KDF steps (argon2id format, open, add key, kill slot) run at once, from
/// the memory available at start: each may take up to its PBKDF memory cost (1 GiB by default), so
/// eight volumes in parallel must not OOM a 2 GiB guest. Cheaper steps run without the gate.
/// </summary>
internal sealed class KdfGate : IDisposable
{
    /// <summary>The most LUKS2 allows by default for one argon2 evaluation.</summary>
    public const long DefaultCostBytes = 1024L * 1024 * 1024;

    private readonly SemaphoreSlim _slots;
    private readonly CvmMetrics _metrics;

    public KdfGate(int slots, CvmMetrics? metrics = null)
    {
        Slots = Math.Max(1, slots);
        _slots = new SemaphoreSlim(Slots, Slots);
        _metrics = metrics ?? CvmMetrics.None;
        _metrics.KdfSlots(Slots);
    }

    public int Slots { get; }

    /// <summary>How many KDF runs of <paramref name="costBytes"/> fit in three quarters of <paramref name="availableBytes"/> (at least one, at most eight).</summary>
    public static int SlotsFor(long availableBytes, long costBytes) =>
        (int)Math.Clamp(availableBytes * 3 / 4 / Math.Max(costBytes, 1), 1, 8);

    /// <summary>MemAvailable from a meminfo file, in bytes; null when unreadable.</summary>
    public static long? ReadAvailableBytes(string meminfoPath = "/proc/meminfo")
    {
        try
        {
            foreach (var line in File.ReadLines(meminfoPath))
            {
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                {
                    var kib = line["MemAvailable:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kib, NumberStyles.None, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return null;
    }

    public async Task<T> RunAsync<T>(Func<Task<T>> step)
    {
        // Not cancellable on purpose: a step that has begun runs to its end (the child has its own timeout).
        var waiting = _metrics.KdfWaiting();
        await _slots.WaitAsync();
        _metrics.KdfAcquired(waiting);
        try
        {
            return await step();
        }
        finally
        {
            _slots.Release();
            _metrics.KdfReleased();
        }
    }

    public Task RunAsync(Func<Task> step) => RunAsync(async () =>
    {
        await step();
        return true;
    });

    public void Dispose() => _slots.Dispose();
}
