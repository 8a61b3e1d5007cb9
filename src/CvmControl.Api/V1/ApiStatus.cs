namespace CvmControl.Api.V1;

/// <summary>String values that appear in <c>status</c> fields of API v1.</summary>
public static class ApiStatus
{
    /// <summary>Daemon is waiting for a bootstrap.</summary>
    public const string Bootstrap = "bootstrap";

    /// <summary>Daemon finished bootstrapping; also the body of an idempotent bootstrap retry.</summary>
    public const string Ready = "ready";

    /// <summary>A shutdown or reboot was started.</summary>
    public const string Shutdown = "shutdown";

    /// <summary>No operation of that kind has run since start.</summary>
    public const string Idle = "idle";

    /// <summary>The operation was accepted and is running.</summary>
    public const string InProgress = "in_progress";

    /// <summary>The operation finished and every volume succeeded.</summary>
    public const string Completed = "completed";

    /// <summary>The operation finished and at least one part failed.</summary>
    public const string Failed = "failed";

    /// <summary>A volume (or a shutdown request) succeeded.</summary>
    public const string Ok = "ok";

    /// <summary>A volume failed; see its <c>error</c> and <c>detail</c>.</summary>
    public const string Error = "error";
}
