using System.Globalization;

namespace CvmControl.Systemd;

/// <summary>
/// What the service manager told this process through its environment (systemd.exec(5)): where to
/// send notifications, and how often it expects a watchdog keep-alive.
/// </summary>
/// <remarks>
/// Notifications are switched on by <c>NOTIFY_SOCKET</c> alone, as sd_notify(3) does. The hosting
/// library Microsoft.Extensions.Hosting.Systemd switches on only when it concludes that systemd started
/// the process, and its oldest test reads the parent's name from /proc, which ProtectProc= hides and
/// which no test harness passes.
/// </remarks>
internal sealed record SystemdEnvironment
{
    public const string NotifySocketVariable = "NOTIFY_SOCKET";
    public const string WatchdogUsecVariable = "WATCHDOG_USEC";
    public const string WatchdogPidVariable = "WATCHDOG_PID";

    public static readonly SystemdEnvironment None = new();

    /// <summary>The notification socket: a path, or an abstract name starting with <c>@</c>; null when unset.</summary>
    public string? NotifySocket { get; init; }

    /// <summary>WatchdogSec= as the manager passed it; null when no watchdog applies to this process.</summary>
    public TimeSpan? Watchdog { get; init; }

    /// <summary>Why a variable that was set could not be used; logged at start.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    public static SystemdEnvironment From(Func<string, string?> getEnv, int processId)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        var problems = new List<string>();
        var notify = getEnv(NotifySocketVariable) is { Length: > 0 } socket ? socket : null;
        if (notify is not null && notify[0] is not ('/' or '@'))
        {
            // systemd 254 and later may also name an AF_VSOCK address; this daemon speaks only AF_UNIX.
            problems.Add($"{NotifySocketVariable}={notify} is neither an absolute path nor an abstract socket name; not notifying");
            notify = null;
        }

        TimeSpan? watchdog = null;
        if (getEnv(WatchdogUsecVariable) is { Length: > 0 } usec)
        {
            // sd_watchdog_enabled(3): WATCHDOG_PID, when set, names the process the watchdog is for.
            var pid = getEnv(WatchdogPidVariable);
            if (!ulong.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out var micros) || micros == 0)
            {
                problems.Add($"{WatchdogUsecVariable}={usec} is not a positive whole number; no watchdog keep-alive");
            }
            else if (pid is { Length: > 0 } && pid != processId.ToString(CultureInfo.InvariantCulture))
            {
                // Meant for another process (an inherited environment): not ours to answer.
            }
            else if (notify is null)
            {
                problems.Add($"{WatchdogUsecVariable} is set but {NotifySocketVariable} is not; no watchdog keep-alive");
            }
            else
            {
                watchdog = TimeSpan.FromTicks((long)Math.Min(micros, (ulong)(TimeSpan.MaxValue.Ticks / 10)) * 10);
            }
        }
        return new SystemdEnvironment { NotifySocket = notify, Watchdog = watchdog, Problems = problems };
    }

    public static SystemdEnvironment FromProcess() => From(Environment.GetEnvironmentVariable, Environment.ProcessId);
}
