namespace CvmControl.Volumes;

/// <summary>
/// Registered until the real LUKS2 pipeline lands (issue 3): every volume fails with a clear error
/// instead of pretending to succeed. Nothing on disk is touched.
/// </summary>
internal sealed class MissingDiskBackend : IVolumePipeline, IPassphraseRotator
{
    private const string Error = "volume support is not available in this build";
    private const string Detail = "this build has no disk backend; no device was touched";

    public Task<VolumeOutcome> BootstrapAsync(VolumeTarget volume, Passphrase passphrase, CancellationToken stopping) =>
        Task.FromResult(VolumeOutcome.Failure(Error, Detail));

    public Task<PassphraseCheck> CheckAsync(VolumeTarget volume, Passphrase passphrase, CancellationToken cancellationToken) =>
        throw new VolumeOperationException(Error, Detail);

    public Task<VolumeOutcome> AddPassphraseAsync(VolumeTarget volume, Passphrase oldPassphrase, Passphrase newPassphrase, CancellationToken stopping) =>
        Task.FromResult(VolumeOutcome.Failure(Error, Detail));
}
