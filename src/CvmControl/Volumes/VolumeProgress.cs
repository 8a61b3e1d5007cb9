namespace CvmControl.Volumes;

/// <summary>One volume's place in the running operation: in progress on a step, or finished.</summary>
internal sealed record VolumeProgressEntry(bool Finished, bool Ok, string? Step, string? Error);

/// <summary>
/// Where each volume of the running bootstrap or rotation is. The volume layer reports steps through
/// the callback <see cref="For"/> hands out; the tracker resets it when an operation starts and reads it
/// for status answers. Only one operation runs at a time, so one board serves both.
/// </summary>
internal sealed class VolumeProgress
{
    private readonly Lock _gate = new();
    private Dictionary<string, VolumeProgressEntry> _volumes = new(StringComparer.Ordinal);

    /// <summary>A new operation on these volumes; every one starts <see cref="VolumeStep.Pending"/>.</summary>
    public void Reset(IEnumerable<string> dmNames)
    {
        var fresh = dmNames.ToDictionary(n => n, _ => new VolumeProgressEntry(false, false, VolumeStep.Pending, null), StringComparer.Ordinal);
        lock (_gate)
        {
            _volumes = fresh;
        }
    }

    /// <summary>The step reporter for one volume: a step after the volume finished is ignored.</summary>
    public Action<string> For(string dmName) => step =>
    {
        lock (_gate)
        {
            if (_volumes.TryGetValue(dmName, out var entry) && !entry.Finished)
            {
                _volumes[dmName] = entry with { Step = step };
            }
        }
    };

    /// <summary>The volume is done; <paramref name="error"/> is the daemon's own short error, never tool output.</summary>
    public void Finish(string dmName, bool ok, string? error)
    {
        lock (_gate)
        {
            if (_volumes.ContainsKey(dmName))
            {
                _volumes[dmName] = new VolumeProgressEntry(true, ok, null, ok ? null : error);
            }
        }
    }

    public IReadOnlyDictionary<string, VolumeProgressEntry> Snapshot()
    {
        lock (_gate)
        {
            return new Dictionary<string, VolumeProgressEntry>(_volumes, StringComparer.Ordinal);
        }
    }
}
