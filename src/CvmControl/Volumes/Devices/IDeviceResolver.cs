namespace CvmControl.Volumes.Devices;

/// <summary>Finds the block device of a cloud volume id. One implementation per cloud.</summary>
internal interface IDeviceResolver
{
    /// <summary>Waits (bounded) for the device to appear; throws <see cref="VolumeOperationException"/> naming every path tried.</summary>
    Task<string> ResolveAsync(string volumeId, CancellationToken cancellationToken);
}

internal sealed class DeviceOptions
{
    /// <summary>Root of device nodes; tests point it at a fake tree.</summary>
    public string DevRoot { get; set; } = "/dev";

    /// <summary>Root of sysfs; tests point it at a fake tree.</summary>
    public string SysRoot { get; set; } = "/sys";

    /// <summary>How long to wait for an attachment that is still in flight.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);
}
