using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace CvmControl.Volumes.Devices;

/// <summary>
/// EBS volumes appear as NVMe namespaces whose controller serial is the volume id without its dash
/// (<c>vol-0abc</c> → <c>vol0abc</c>). udev links them as
/// <c>/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0abc</c> (also with <c>_1</c> from systemd v254
/// and <c>-ns-1</c> from amazon-ec2-utils). Without the links, <c>/sys/block/nvme*/device/serial</c> is
/// scanned. Attachment is asynchronous, so both are retried until the device timeout.
/// </summary>
internal sealed partial class AwsNvmeDeviceResolver(IOptions<DeviceOptions> options, TimeProvider time, ILogger<AwsNvmeDeviceResolver> logger) : IDeviceResolver
{
    private readonly DeviceOptions _options = options.Value;

    public static string SerialOf(string volumeId) => volumeId.Replace("-", "", StringComparison.Ordinal);

    public IReadOnlyList<string> LinkCandidates(string volumeId)
    {
        var link = Path.Combine(_options.DevRoot, "disk", "by-id", "nvme-Amazon_Elastic_Block_Store_" + SerialOf(volumeId));
        return [link, link + "_1", link + "-ns-1"];
    }

    public async Task<string> ResolveAsync(string volumeId, CancellationToken cancellationToken)
    {
        var pipeline = new ResiliencePipelineBuilder<string?> { TimeProvider = time }
            .AddTimeout(_options.Timeout)
            .AddRetry(new RetryStrategyOptions<string?>
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is null && args.Outcome.Exception is null),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Constant,
                Delay = _options.PollInterval,
                OnRetry = args =>
                {
                    if (args.AttemptNumber == 0)
                    {
                        LogWaiting(logger, volumeId, _options.Timeout.TotalSeconds);
                    }
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

        string? device = null;
        try
        {
            device = await pipeline.ExecuteAsync(_ => ValueTask.FromResult(TryResolve(volumeId)), cancellationToken);
        }
        catch (TimeoutRejectedException)
        {
        }

        if (device is null)
        {
            var tried = string.Join(", ", [.. LinkCandidates(volumeId), Path.Combine(_options.SysRoot, "block", "nvme*", "device", "serial") + " = " + SerialOf(volumeId)]);
            throw new VolumeOperationException("device not found",
                $"volume {volumeId} did not appear within {_options.Timeout.TotalSeconds:0.#} s; tried {tried}");
        }
        LogResolved(logger, volumeId, device);
        return device;
    }

    /// <summary>One look, no waiting.</summary>
    internal string? TryResolve(string volumeId)
    {
        foreach (var link in LinkCandidates(volumeId))
        {
            if (File.Exists(link))
            {
                var target = File.ResolveLinkTarget(link, returnFinalTarget: true);
                return target?.FullName ?? link;
            }
        }
        return ScanSysfs(SerialOf(volumeId));
    }

    private string? ScanSysfs(string serial)
    {
        var blocks = Path.Combine(_options.SysRoot, "block");
        if (!Directory.Exists(blocks))
        {
            return null;
        }
        // Namespace 1 first: EBS exposes one namespace per controller.
        var candidates = Directory.EnumerateFileSystemEntries(blocks, "nvme*")
            .Select(Path.GetFileName)
            .OfType<string>()
            .OrderBy(name => name.EndsWith("n1", StringComparison.Ordinal) ? 0 : 1)
            .ThenBy(name => name, StringComparer.Ordinal);
        foreach (var name in candidates)
        {
            var serialFile = Path.Combine(blocks, name, "device", "serial");
            try
            {
                if (File.Exists(serialFile) && File.ReadAllText(serialFile).Trim() == serial)
                {
                    return Path.Combine(_options.DevRoot, name);
                }
            }
            catch (IOException)
            {
                // A device going away mid-scan; the next attempt sees the settled state.
            }
        }
        return null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Waiting up to {TimeoutSeconds} s for volume {VolumeId} to attach")]
    private static partial void LogWaiting(ILogger logger, string volumeId, double timeoutSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {VolumeId} is {Device}")]
    private static partial void LogResolved(ILogger logger, string volumeId, string device);
}
