namespace CvmControl.Attestation.Platform;

/// <summary>Detects the platform once, before the server starts, and logs what it found.</summary>
/// <remarks>Hosted services are built as the host starts, so taking <see cref="PlatformInfo"/> here runs its factory then.</remarks>
internal sealed partial class PlatformStartup(PlatformInfo platform, ILogger<PlatformStartup> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        LogPlatform(
            logger,
            platform.TeeName,
            platform.TeeSource,
            platform.TsmProvider ?? "unavailable",
            platform.Tpm ? "present" : "absent",
            platform.KernelRelease ?? "unknown",
            platform.CpuVendor ?? "unknown");
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Platform: TEE {Tee} ({TeeSource}), configfs-tsm {TsmProvider}, TPM {Tpm}, kernel {KernelRelease}, CPU {CpuVendor}")]
    private static partial void LogPlatform(ILogger logger, string tee, string teeSource, string tsmProvider, string tpm, string kernelRelease, string cpuVendor);
}
