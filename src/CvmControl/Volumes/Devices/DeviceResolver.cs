using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace CvmControl.Volumes.Devices;

/// <summary>What one look at the machine found for a volume id: every match, from every source.</summary>
internal sealed class DeviceSearch
{
    private readonly List<(string Name, string Evidence)> _matches = [];
    private readonly List<string> _tried = [];

    public IReadOnlyList<(string Name, string Evidence)> Matches => _matches;

    public IReadOnlyList<string> Tried => _tried;

    /// <summary>The first reason a source gave to stop at once (a planted link), or null.</summary>
    public string? Refusal { get; private set; }

    public void Match(string name, string evidence) => _matches.Add((name, evidence));

    public void Try(string what) => _tried.Add(what);

    public void Refuse(string why) => Refusal ??= why;

    /// <summary>Looks through a <c>/dev/disk</c> link: a device is a match, a planted link a refusal.</summary>
    public void Link(BlockDevices disks, string link)
    {
        Try(link);
        var target = disks.Follow(link);
        switch (target.Kind)
        {
            case LinkKind.Device:
                Match(target.Name!, link);
                break;
            case LinkKind.Refused:
                Refuse(target.Why!);
                break;
        }
    }
}

/// <summary>
/// The part every cloud shares: look (sysfs and /dev/disk links together, so that two devices claiming
/// one identity are seen even when udev linked only one of them), wait with Polly for an attachment still
/// in flight, and vet the one device found. Two different devices, a partition, a mounted device, the
/// root disk or a planted link end the wait at once with a per-volume error; the daemon never guesses.
/// </summary>
internal abstract partial class DeviceResolver(BlockDevices disks, IOptions<DeviceOptions> options, TimeProvider time, ILogger logger) : IDeviceResolver
{
    public const string NotFound = "device not found";
    public const string Ambiguous = "more than one device matches";
    public const string Refused = "device refused";

    private readonly DeviceOptions _options = options.Value;

    protected BlockDevices Disks { get; } = disks;

    protected ILogger Logger { get; } = logger;


    /// <summary>One look for <paramref name="volumeId"/>, already validated for this cloud.</summary>
    protected abstract DeviceSearch Search(string volumeId);

    public async Task<string> ResolveAsync(string volumeId, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> tried = [];
        var pipeline = new ResiliencePipelineBuilder<DeviceLook> { TimeProvider = time }
            .AddTimeout(_options.Timeout)
            .AddRetry(new RetryStrategyOptions<DeviceLook>
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is { Device: null, Error: null }),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Constant,
                Delay = _options.PollInterval,
                OnRetry = args =>
                {
                    if (args.AttemptNumber == 0)
                    {
                        LogWaiting(Logger, volumeId, _options.Timeout.TotalSeconds);
                    }
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

        DeviceLook? look = null;
        try
        {
            look = await pipeline.ExecuteAsync(_ =>
            {
                var result = Look(volumeId);
                tried = result.Tried;
                return ValueTask.FromResult(result);
            }, cancellationToken);
        }
        catch (TimeoutRejectedException)
        {
        }

        if (look?.Error is { } error)
        {
            LogRefused(Logger, volumeId, error, look.Detail!);
            throw new VolumeOperationException(error, look.Detail);
        }
        if (look?.Device is not { } device)
        {
            throw new VolumeOperationException(NotFound,
                $"volume {volumeId} did not appear within {_options.Timeout.TotalSeconds:0.#} s; tried {string.Join(", ", tried)}");
        }
        LogResolved(Logger, volumeId, device, look.Detail!);
        return device;
    }

    /// <summary>One look, vetted, no waiting.</summary>
    internal DeviceLook Look(string volumeId)
    {
        var search = Search(volumeId);
        if (search.Refusal is { } refusal)
        {
            return DeviceLook.Fail(Refused, refusal, search.Tried);
        }
        var devices = search.Matches
            .GroupBy(m => m.Name, StringComparer.Ordinal)
            .Select(g => (Name: g.Key, Evidence: string.Join("; ", g.Select(m => m.Evidence))))
            .OrderBy(d => d.Name, StringComparer.Ordinal)
            .ToList();
        switch (devices.Count)
        {
            case 0:
                return new DeviceLook(null, null, null, search.Tried);
            case 1:
                var (name, evidence) = devices[0];
                return Disks.Refusal(name) is { } why
                    ? DeviceLook.Fail(Refused, $"volume {volumeId} is {Disks.NodeOf(name)} ({evidence}), but {why}", search.Tried)
                    : new DeviceLook(Disks.NodeOf(name), null, evidence, search.Tried);
            default:
                var each = string.Join(" and ", devices.Select(d => $"{Disks.NodeOf(d.Name)} ({d.Evidence})"));
                return DeviceLook.Fail(Ambiguous,
                    $"volume {volumeId} matches {each}; the host presents one identity on more than one disk, so none is used", search.Tried);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Waiting up to {TimeoutSeconds} s for volume {VolumeId} to attach")]
    private static partial void LogWaiting(ILogger logger, string volumeId, double timeoutSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {VolumeId} is {Device} ({Evidence})")]
    private static partial void LogResolved(ILogger logger, string volumeId, string device, string evidence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Volume {VolumeId}: {Error}: {Detail}")]
    private static partial void LogRefused(ILogger logger, string volumeId, string error, string detail);
}

/// <summary>
/// The result of one look: a device (with the evidence in <see cref="Detail"/>), an error that ends the
/// wait, or neither (not attached yet).
/// </summary>
internal sealed record DeviceLook(string? Device, string? Error, string? Detail, IReadOnlyList<string> Tried)
{
    public static DeviceLook Fail(string error, string detail, IReadOnlyList<string> tried) => new(null, error, detail, tried);
}
