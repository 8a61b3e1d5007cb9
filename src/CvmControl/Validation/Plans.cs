using CvmControl.OS;
using CvmControl.Volumes;

namespace CvmControl.Validation;

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
    /// <summary>
    /// The secrets that can reach a tool, for scrubbing its output: the passphrases. Secret env values
    /// are only ever written to files, so no tool sees them.
    /// </summary>
    public IEnumerable<string> Passphrases => Volumes.Select(v => v.Passphrase.Value);

    public IReadOnlyList<VolumeTarget> Targets => [.. Volumes.Select(v => v.Target)];
}

/// <summary>A validated passphrase change of one volume.</summary>
internal sealed record PassphraseChangePlan(string DmName, Passphrase Old, Passphrase New, bool RevokeOld = false);

/// <summary>A validated passphrase request, sorted by dm name.</summary>
internal sealed record PassphrasePlan(IReadOnlyList<PassphraseChangePlan> Volumes);
