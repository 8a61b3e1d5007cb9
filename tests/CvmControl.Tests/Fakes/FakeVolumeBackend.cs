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
    private readonly ConcurrentDictionary<string, ConcurrentBag<string>> _passphrases = new();

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

    /// <summary>Passphrases that open the volume (the bootstrap passphrase is added on bootstrap).</summary>
    public void Opens(string dmName, string passphrase) => _passphrases.GetOrAdd(dmName, _ => []).Add(passphrase);

    public Func<VolumeTarget, Exception?>? CheckThrows { get; set; }

    /// <summary>Whether any operation saw its stopping token fire (daemon shutdown).</summary>
    public bool StoppingSeen { get; private set; }

    private TaskCompletionSource? _checkGate;
    private readonly TaskCompletionSource _checkEntered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Old-passphrase checks wait until <see cref="ReleaseChecks"/>.</summary>
    public void HoldChecks() => _checkGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseChecks() => _checkGate?.TrySetResult();

    public Task WaitForCheck() => _checkEntered.Task.WaitAsync(TimeSpan.FromSeconds(10));

    public async Task<VolumeOutcome> BootstrapAsync(VolumeTarget volume, Passphrase passphrase, CancellationToken stopping)
    {
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
        return _passphrases.TryGetValue(volume.DmName, out var known) && known.Contains(passphrase.Value)
            ? PassphraseCheck.Opens
            : PassphraseCheck.DoesNotOpen;
    }

    public async Task<VolumeOutcome> AddPassphraseAsync(VolumeTarget volume, Passphrase oldPassphrase, Passphrase newPassphrase, CancellationToken stopping)
    {
        Calls.Enqueue($"add {volume.DmName}");
        await WaitGate(volume.DmName);
        if (_failures.TryGetValue(volume.DmName, out var failure))
        {
            return failure;
        }
        Opens(volume.DmName, newPassphrase.Value);
        return VolumeOutcome.Success;
    }

    public bool Unlocks(string dmName, string passphrase) => _passphrases.TryGetValue(dmName, out var known) && known.Contains(passphrase);

    private Task WaitGate(string dmName) => _gates.TryGetValue(dmName, out var gate) ? gate.Task : Task.CompletedTask;
}
