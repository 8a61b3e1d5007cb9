using System.Globalization;
using CvmControl.Metrics;
using CvmControl.Tools;

namespace CvmControl.Volumes;

/// <summary>
/// Admits memory-hard KDF steps (argon2id format, open, add key, kill slot) by what each really costs, so
/// that the ones running together never need more than a budget taken from the memory available at start.
/// A step that unlocks an existing header costs the largest argon2 memory among its keyslots (read from
/// the checked header); a step that makes a new keyslot costs the configured <c>--luks-pbkdf-memory</c>,
/// or 1 GiB, the most cryptsetup's benchmark picks, when none is configured. So two 64 MiB opens run
/// together in a 2 GiB guest, while eight at cryptsetup's default run one at a time. Steps are admitted in
/// arrival order, so a costly one is never starved by cheap ones behind it; a step costlier than the whole
/// budget runs alone. Cheaper steps (mkfs, mount) run without the gate.
/// </summary>
internal sealed class KdfGate
{
    /// <summary>The most LUKS2 allows by default for one argon2 evaluation.</summary>
    public const long DefaultCostBytes = 1024L * 1024 * 1024;

    /// <summary>At most this many KDF steps run at once, however cheap.</summary>
    public const int MaxRunning = 8;

    private readonly Lock _lock = new();
    private readonly Queue<(long Cost, TaskCompletionSource Admitted)> _queue = new();
    private readonly CvmMetrics _metrics;
    private long _inUse;
    private int _running;

    /// <param name="budgetBytes">Memory the KDF steps running together may take (see <see cref="BudgetFor"/>).</param>
    /// <param name="newSlotCostBytes">What one new keyslot's KDF takes (the configured PBKDF memory).</param>
    public KdfGate(long budgetBytes, long newSlotCostBytes = DefaultCostBytes, CvmMetrics? metrics = null)
    {
        BudgetBytes = Math.Max(1, budgetBytes);
        NewSlotCostBytes = Math.Max(0, newSlotCostBytes);
        _metrics = metrics ?? CvmMetrics.None;
        _metrics.KdfSlots(SlotsFor(BudgetBytes, NewSlotCostBytes));
    }

    /// <summary>The memory budget of the steps running together.</summary>
    public long BudgetBytes { get; }

    /// <summary>The cost of a step that makes a new keyslot.</summary>
    public long NewSlotCostBytes { get; }

    /// <summary>What a new keyslot of <paramref name="cost"/> takes: its PBKDF memory, or <see cref="DefaultCostBytes"/> when cryptsetup picks it.</summary>
    public static long NewSlotCostOf(LuksCost cost) => cost.PbkdfMemoryKiB is int kib ? kib * 1024L : DefaultCostBytes;

    /// <summary>Three quarters of <paramref name="availableBytes"/>: the rest is left to the kernel, mkfs and the daemon.</summary>
    public static long BudgetFor(long availableBytes) => Math.Max(availableBytes, 0) * 3 / 4;

    /// <summary>How many steps of <paramref name="costBytes"/> fit in <paramref name="budgetBytes"/> (at least one, at most <see cref="MaxRunning"/>).</summary>
    public static int SlotsFor(long budgetBytes, long costBytes) =>
        (int)Math.Clamp(budgetBytes / Math.Max(costBytes, 1), 1, MaxRunning);

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

    /// <summary>Runs <paramref name="step"/>, which takes up to <paramref name="costBytes"/>, once the budget has room for it.</summary>
    public async Task<T> RunAsync<T>(long costBytes, Func<Task<T>> step)
    {
        // Not cancellable on purpose: a step that has begun runs to its end (the child has its own timeout).
        var cost = Math.Clamp(costBytes, 0, BudgetBytes);
        var waiting = _metrics.KdfWaiting();
        await Admit(cost);
        _metrics.KdfAcquired(waiting);
        try
        {
            return await step();
        }
        finally
        {
            Release(cost);
            _metrics.KdfReleased();
        }
    }

    public Task RunAsync(long costBytes, Func<Task> step) => RunAsync(costBytes, async () =>
    {
        await step();
        return true;
    });

    /// <summary>Memory held by the steps running now, in bytes.</summary>
    public long InUseBytes
    {
        get
        {
            lock (_lock)
            {
                return _inUse;
            }
        }
    }

    private Task Admit(long cost)
    {
        lock (_lock)
        {
            if (_queue.Count == 0 && Fits(cost))
            {
                Take(cost);
                return Task.CompletedTask;
            }
            var admitted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _queue.Enqueue((cost, admitted));
            return admitted.Task;
        }
    }

    private void Release(long cost)
    {
        lock (_lock)
        {
            _inUse -= cost;
            _running--;
            while (_queue.TryPeek(out var next) && Fits(next.Cost))
            {
                _queue.Dequeue();
                Take(next.Cost);
                next.Admitted.SetResult();
            }
        }
    }

    // Costs are clamped to the budget, so a step alone always fits.
    private bool Fits(long cost) => _running == 0 || (_running < MaxRunning && _inUse + cost <= BudgetBytes);

    private void Take(long cost)
    {
        _inUse += cost;
        _running++;
    }
}
