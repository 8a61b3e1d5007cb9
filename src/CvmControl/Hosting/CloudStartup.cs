using CvmControl.Volumes.Devices;

namespace CvmControl.Hosting;

/// <summary>
/// Logs, once at start, what DMI said and which cloud's disk naming the daemon follows. Taking
/// <see cref="CloudSelection"/> here runs its factory (the DMI read) as the host starts.
/// </summary>
internal sealed partial class CloudStartup(CloudSelection cloud, ILogger<CloudStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var dmi = cloud.Detection.Dmi;
        var read = dmi is null
            ? "none"
            : string.Join(", ", DmiInfo.Files.Zip(dmi.Values, (file, text) => $"{file}={(text is null ? "unreadable" : $"\"{text}\"")}"));
        LogCloud(logger, cloud.Cloud.Name(), cloud.How, read);
        if (dmi is null || !dmi.AnyReadable)
        {
            LogDmiUnreadable(logger, cloud.Detection.Reason, cloud.Cloud.Name());
        }
        else if (cloud.OverridesDetection)
        {
            LogOverride(logger, cloud.Cloud.Name(), cloud.Detection.Cloud.Name(), cloud.Detection.Reason);
        }
        else if (cloud.Detection.Conflicting && !cloud.Configured)
        {
            LogConflict(logger, cloud.Detection.Reason);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Cloud: {Cloud} ({How}); DMI read: {Dmi}")]
    private static partial void LogCloud(ILogger logger, string cloud, string how, string dmi);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Reason}; the cloud is {Cloud}")]
    private static partial void LogDmiUnreadable(ILogger logger, string reason, string cloud);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Reason}; the cloud is generic")]
    private static partial void LogConflict(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "--cloud {Cloud} overrides DMI, which says {Detected} ({Reason})")]
    private static partial void LogOverride(ILogger logger, string cloud, string detected, string reason);
}
