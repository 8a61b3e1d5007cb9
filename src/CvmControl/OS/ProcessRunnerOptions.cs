namespace CvmControl.OS;

internal sealed class ProcessRunnerOptions
{
    /// <summary>Directories searched for executables given by bare name. Defaults to the daemon's PATH.</summary>
    public string SearchPath { get; set; } = Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>Upper bound on each captured stream; the rest is drained and dropped.</summary>
    public int MaxCapturedBytes { get; set; } = 256 * 1024;

    /// <summary>
    /// How long a background child (<see cref="ProcessSpec.Background"/>) may run under SCHED_IDLE
    /// before it is moved back to the normal policy at nice 10. An argon2 KDF alone takes seconds.
    /// </summary>
    public TimeSpan IdleGrace { get; set; } = TimeSpan.FromSeconds(15);
}
