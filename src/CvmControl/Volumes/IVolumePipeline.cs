using CvmControl.OS;

namespace CvmControl.Volumes;

/// <summary>
/// The per-volume disk work: resolve the device, set up LUKS2, make or check the filesystem, mount.
/// One call handles one volume; the caller runs volumes in parallel.
/// </summary>
internal interface IVolumePipeline
{
    /// <summary>
    /// Brings one volume to "mounted". Failures are returned, not thrown.
    /// <paramref name="stopping"/> asks the pipeline to stop between steps (daemon shutdown);
    /// a step already running is allowed to finish. <paramref name="step"/> hears each <see cref="VolumeStep"/> as it begins.
    /// </summary>
    Task<VolumeOutcome> BootstrapAsync(VolumeTarget volume, Passphrase passphrase, CancellationToken stopping, Action<string>? step = null);
}

/// <summary>Passphrase rotation of bootstrapped volumes.</summary>
internal interface IPassphraseRotator
{
    /// <summary>Tests whether <paramref name="passphrase"/> opens the volume (a wrong one must be reported, not thrown).</summary>
    /// <exception cref="VolumeOperationException">The check itself could not be done.</exception>
    Task<PassphraseCheck> CheckAsync(VolumeTarget volume, Passphrase passphrase, CancellationToken cancellationToken);

    /// <summary>
    /// Rotates one volume: unless <paramref name="newPassphrase"/> already opens it (a retry), adds it,
    /// authenticated by <paramref name="oldPassphrase"/>, proves that it opens, and writes it back; then,
    /// when <paramref name="revokeOld"/>, removes exactly the keyslots the old passphrase opens in a second
    /// write-back, never the new passphrase's, never the last. The outcome lists the removed slots in
    /// <see cref="VolumeOutcome.RevokedSlots"/> when revoking. Failures are returned, not thrown.
    /// </summary>
    Task<VolumeOutcome> RotateAsync(VolumeTarget volume, Passphrase oldPassphrase, Passphrase newPassphrase, bool revokeOld, CancellationToken stopping, Action<string>? step = null);
}

/// <summary>A volume step failed; <see cref="Exception.Message"/> is the short error, <see cref="Detail"/> the scrubbed tool output.</summary>
internal sealed class VolumeOperationException(string error, string? detail = null) : Exception(error)
{
    public string? Detail { get; } = detail;
}
