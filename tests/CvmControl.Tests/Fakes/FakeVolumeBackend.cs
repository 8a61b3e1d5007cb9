using System.Collections.Concurrent;
using CvmControl.OS;
using CvmControl.Volumes;

namespace CvmControl.Tests.Fakes;

/// <summary>
/// A scriptable volume layer. By default every volume succeeds at once. Tests can hold a volume
/// until released (to observe "in progress"), make it fail, and decide which passphrases open it.
/// </summary>
internal sealed class FakeVolumeBackend : IVolumePipeline, IPassphraseRotator
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _gates = new();
    private readonly ConcurrentDictionary<string, VolumeOutcome> _failures = new();
    // Per volume, its keyslots in order: the passphrase each one holds, null once it is removed.
    private readonly ConcurrentDictionary<string, List<string?>> _passphrases = new();

    public ConcurrentQueue<string> Calls { get; } = new();

    public ConcurrentDictionary<string, string> BootstrappedWith { get; } = new();

    /// <summary>Volumes whose bootstrap or rotation waits until <see cref="Release"/>.</summary>
    public void Hold(string dmName) => _gates[dmName] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release(string dmName)
    {
        if (_gates.TryRemove(dmName, out var gate))
        {
            gate.SetResult();
        }
    }

    public void Fail(string dmName, string error, string? detail = null) => _failures[dmName] = VolumeOutcome.Failure(error, detail);

    public void Succeed(string dmName) => _failures.TryRemove(dmName, out _);

    private readonly ConcurrentDictionary<string, string[]> _warnings = new();

    /// <summary>The volume's bootstrap succeeds, with these warnings.</summary>
    public void Warn(string dmName, params string[] warnings) => _warnings[dmName] = warnings;

    /// <summary>Adds a keyslot that <paramref name="passphrase"/> opens, in the first free slot (the bootstrap passphrase is added on bootstrap).</summary>
    public void Opens(string dmName, string passphrase)
    {
        var slots = _passphrases.GetOrAdd(dmName, _ => []);
        lock (slots)
        {
            var free = slots.IndexOf(null);
            if (free >= 0)
            {
                slots[free] = passphrase;
            }
            else
            {
                slots.Add(passphrase);
            }
        }
    }

    /// <summary>The step a held bootstrap reports while it waits (its rotation reports luksAddKey, its revocation luksKillSlot).</summary>
    public string HeldStep { get; set; } = VolumeStep.LuksFormat;

    /// <summary>The keyslots of the volume that hold a passphrase.</summary>
    public IReadOnlyList<int> Slots(string dmName)
    {
        var slots = _passphrases.GetOrAdd(dmName, _ => []);
        lock (slots)
        {
            return [.. slots.Select((p, i) => (p, i)).Where(x => x.p is not null).Select(x => x.i)];
        }
    }

    public Func<VolumeTarget, Exception?>? CheckThrows { get; set; }

    /// <summary>Whether any operation saw its stopping token fire (daemon shutdown).</summary>
    public bool StoppingSeen { get; private set; }

    private TaskCompletionSource? _checkGate;
    private readonly TaskCompletionSource _checkEntered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Old-passphrase checks wait until <see cref="ReleaseChecks"/>.</summary>
    public void HoldChecks() => _checkGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseChecks() => _checkGate?.TrySetResult();

    public Task WaitForCheck() => _checkEntered.Task.WaitAsync(TimeSpan.FromSeconds(10));

    public async Task<VolumeOutcome> BootstrapAsync(VolumeTarget volume, Passphrase passphrase, CancellationToken stopping, Action<string>? step = null)
    {
        // The step first: a test that waits for the call then sees the step.
        step?.Invoke(HeldStep);
        Calls.Enqueue($"bootstrap {volume.DmName} {volume.VolumeId} {volume.MountPoint}");
        await WaitGate(volume.DmName);
        StoppingSeen |= stopping.IsCancellationRequested;
        if (_failures.TryGetValue(volume.DmName, out var failure))
        {
            return failure;
        }
        BootstrappedWith[volume.DmName] = passphrase.Value;
        Opens(volume.DmName, passphrase.Value);
        return _warnings.TryGetValue(volume.DmName, out var warnings) ? VolumeOutcome.Success with { Warnings = warnings } : VolumeOutcome.Success;
    }

    public async Task<PassphraseCheck> CheckAsync(VolumeTarget volume, Passphrase passphrase, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"check {volume.DmName}");
        _checkEntered.TrySetResult();
        if (_checkGate is { } gate)
        {
            await gate.Task;
        }
        if (CheckThrows?.Invoke(volume) is { } ex)
        {
            throw ex;
        }
        return Unlocks(volume.DmName, passphrase.Value) ? PassphraseCheck.Opens : PassphraseCheck.DoesNotOpen;
    }

    /// <summary>The real rotator's order: the new passphrase is tested first (a retry skips the add), then add, then revoke.</summary>
    public async Task<VolumeOutcome> RotateAsync(VolumeTarget volume, Passphrase oldPassphrase, Passphrase newPassphrase, bool revokeOld, CancellationToken stopping, Action<string>? step = null)
    {
        step?.Invoke(VolumeStep.TestPassphrase);
        if (await CheckAsync(volume, newPassphrase, stopping) != PassphraseCheck.Opens)
        {
            stopping.ThrowIfCancellationRequested();
            var added = await AddPassphraseAsync(volume, oldPassphrase, newPassphrase, stopping, step);
            if (!added.Ok)
            {
                return added;
            }
        }
        if (!revokeOld)
        {
            return VolumeOutcome.Success;
        }
        stopping.ThrowIfCancellationRequested();
        return await RevokeAsync(volume, oldPassphrase, newPassphrase, stopping, step);
    }

    public async Task<VolumeOutcome> AddPassphraseAsync(VolumeTarget volume, Passphrase oldPassphrase, Passphrase newPassphrase, CancellationToken stopping, Action<string>? step = null)
    {
        step?.Invoke(VolumeStep.LuksAddKey);
        Calls.Enqueue($"add {volume.DmName}");
        await WaitGate(volume.DmName);
        if (_failures.TryGetValue(volume.DmName, out var failure))
        {
            return failure;
        }
        Opens(volume.DmName, newPassphrase.Value);
        return VolumeOutcome.Success;
    }

    /// <summary>Volumes whose revocation waits until <see cref="ReleaseRevoke"/>, after their add finished.</summary>
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _revokeGates = new();

    public void HoldRevoke(string dmName) => _revokeGates[dmName] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseRevoke(string dmName)
    {
        if (_revokeGates.TryRemove(dmName, out var gate))
        {
            gate.SetResult();
        }
    }

    public async Task<VolumeOutcome> RevokeAsync(VolumeTarget volume, Passphrase oldPassphrase, Passphrase newPassphrase, CancellationToken stopping, Action<string>? step = null)
    {
        step?.Invoke(VolumeStep.LuksKillSlot);
        Calls.Enqueue($"revoke {volume.DmName}");
        if (_revokeGates.TryGetValue(volume.DmName, out var gate))
        {
            await gate.Task;
        }
        var slots = _passphrases.GetOrAdd(volume.DmName, _ => []);
        lock (slots)
        {
            if (!slots.Contains(newPassphrase.Value))
            {
                return VolumeOutcome.Failure("new passphrase does not open the volume");
            }
            var revoked = slots.Select((p, i) => (p, i)).Where(x => x.p == oldPassphrase.Value && x.p != newPassphrase.Value).Select(x => x.i).ToList();
            foreach (var slot in revoked)
            {
                slots[slot] = null;
            }
            return VolumeOutcome.Success with { RevokedSlots = revoked };
        }
    }

    public bool Unlocks(string dmName, string passphrase)
    {
        if (!_passphrases.TryGetValue(dmName, out var slots))
        {
            return false;
        }
        lock (slots)
        {
            return slots.Contains(passphrase);
        }
    }

    private Task WaitGate(string dmName) => _gates.TryGetValue(dmName, out var gate) ? gate.Task : Task.CompletedTask;
}
