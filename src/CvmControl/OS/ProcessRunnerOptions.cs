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

    /// <summary>
    /// After a kill (timeout or cancellation), how long to wait for the run to end before giving up
    /// on it: a child the kill cannot end, or a pipe a surviving grandchild keeps open, must not hold
    /// the daemon. CliWrap itself stops waiting for the child 3 s after the kill.
    /// </summary>
    public TimeSpan KillGrace { get; set; } = TimeSpan.FromSeconds(5);
}
