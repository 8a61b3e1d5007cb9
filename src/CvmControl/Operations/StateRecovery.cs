using CvmControl.OS;
using CvmControl.State;
using CvmControl.Volumes.Devices;
using Microsoft.Extensions.Options;

namespace CvmControl.Operations;

/// <summary>
/// Runs once before the server starts: comes up <c>ready</c> when bootstrap.json exists and every
/// volume it lists is still mounted, otherwise stays in <c>bootstrap</c> and says why.
/// </summary>
internal sealed partial class StateRecovery(
    IBootstrapRecordStore records,
    IMountTable mounts,
    OperationTracker tracker,
    IOptions<DeviceOptions> devices,
    ILogger<StateRecovery> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        Recover();
        return Task.CompletedTask;
    }

    internal void Recover()
    {
        var record = records.Load();
        if (record is null)
        {
            LogNoRecord(logger);
            return;
        }

        List<string> missing;
        try
        {
            // Mounted from its own mapping: anything else at that path (a tmpfs, another disk) is not the volume.
            missing = [.. record.Targets
                .Where(t => mounts.Find(t.MountPoint) is not { } mount || !DeviceMapper.IsSource(mount, DeviceMapper.PathOf(devices.Value.DevRoot, t.DmName)))
                .Select(t => $"{t.DmName} ({t.MountPoint})")];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogCannotReadMounts(logger, ex.Message);
            return;
        }

        if (missing.Count > 0)
        {
            LogNotMounted(logger, string.Join(", ", missing));
            return;
        }
        tracker.Recover(record);
        LogRecovered(logger, record.Volumes.Count);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "No usable bootstrap record; waiting for a bootstrap")]
    private static partial void LogNoRecord(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bootstrap record found, but not every volume is mounted from its mapping: {Missing}; staying in bootstrap")]
    private static partial void LogNotMounted(ILogger logger, string missing);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot read the mount table ({Reason}); staying in bootstrap")]
    private static partial void LogCannotReadMounts(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recovered from bootstrap record: {Volumes} volume(s) mounted; ready")]
    private static partial void LogRecovered(ILogger logger, int volumes);
}
