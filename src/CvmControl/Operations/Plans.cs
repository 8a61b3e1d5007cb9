using CvmControl.Volumes;

namespace CvmControl.Operations;

/// <summary>One env or secret file: name and variables in a stable (ordinal) order.</summary>
internal sealed record EnvFile(string Name, IReadOnlyList<KeyValuePair<string, string>> Variables);

/// <summary>A validated volume of a bootstrap request.</summary>
internal sealed record VolumePlan(VolumeTarget Target, Passphrase Passphrase);

/// <summary>A validated, normalised bootstrap request. Collections are sorted by name.</summary>
internal sealed record BootstrapPlan(
    string UserId,
    IReadOnlyList<EnvFile> EnvFiles,
    IReadOnlyList<EnvFile> SecretFiles,
    IReadOnlyList<VolumePlan> Volumes)
{
    /// <summary>Every secret string, for scrubbing.</summary>
    public IEnumerable<string> Secrets =>
        Volumes.Select(v => v.Passphrase.Value)
            .Concat(SecretFiles.SelectMany(f => f.Variables).Select(kv => kv.Value).Where(v => v.Length >= 4));

    public IReadOnlyList<VolumeTarget> Targets => [.. Volumes.Select(v => v.Target)];
}

/// <summary>A validated passphrase change of one volume.</summary>
internal sealed record PassphraseChangePlan(string DmName, Passphrase Old, Passphrase New);

/// <summary>A validated passphrase request, sorted by dm name.</summary>
internal sealed record PassphrasePlan(IReadOnlyList<PassphraseChangePlan> Volumes);
