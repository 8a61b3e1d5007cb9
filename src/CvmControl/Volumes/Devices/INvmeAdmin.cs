namespace CvmControl.Volumes.Devices;

/// <summary>
/// The NVMe admin commands the resolvers need. A seam: the real one talks to the kernel, tests hand
/// back identify data captured from real clouds.
/// </summary>
internal interface INvmeAdmin
{
    /// <summary>
    /// The 4096-byte Identify Namespace data structure (CNS 0) of namespace <paramref name="nsid"/>,
    /// asked through <paramref name="device"/> (a namespace block device such as <c>/dev/nvme0n2</c>).
    /// Throws <see cref="IOException"/> when the command cannot be sent or fails.
    /// </summary>
    byte[] IdentifyNamespace(string device, uint nsid);
}
