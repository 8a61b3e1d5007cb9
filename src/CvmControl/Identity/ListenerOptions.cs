using System.Net;

namespace CvmControl.Identity;

/// <summary>Where the daemon listens when systemd passes no sockets, and what its Unix sockets serve.</summary>
internal sealed record ListenerOptions
{
    public IPAddress Address { get; init; } = IPAddress.Any;

    public int Port { get; init; } = 9443;

    /// <summary>A Unix socket serving plain HTTP to workloads inside the VM; null for none.</summary>
    public string? UnixSocket { get; init; }

    /// <summary>Whether local Unix sockets serve the whole API rather than status, platform and metrics.</summary>
    public bool UnixSocketFullApi { get; init; }
}
