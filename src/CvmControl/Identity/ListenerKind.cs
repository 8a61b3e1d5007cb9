namespace CvmControl.Identity;

/// <summary>What a listener serves, and to whom.</summary>
internal enum ListenerKind
{
    /// <summary>HTTPS (client authentication when configured): the whole API, and /metrics.</summary>
    Https,

    /// <summary>
    /// Plain HTTP on a Unix socket for workloads inside the VM: status, platform and /metrics unless the
    /// full API is allowed. Access is the socket file's and its directory's mode and owner.
    /// </summary>
    Local,

    /// <summary>The daemon's own readiness and watchdog probe: status only, and only from this process.</summary>
    Probe,
}
