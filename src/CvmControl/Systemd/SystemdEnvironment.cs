using System.Globalization;

namespace CvmControl.Systemd;

/// <summary>
/// What the service manager told this process through its environment (systemd.exec(5)): where to
/// send notifications, how often it expects a watchdog keep-alive, and which sockets it passed
/// (socket activation, sd_listen_fds(3)).
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
    public const string ListenPidVariable = "LISTEN_PID";
    public const string ListenFdsVariable = "LISTEN_FDS";
    public const string ListenFdNamesVariable = "LISTEN_FDNAMES";

    /// <summary>SD_LISTEN_FDS_START: passed sockets are numbered from here on.</summary>
    public const int FirstPassedFd = 3;

    public static readonly SystemdEnvironment None = new();

    /// <summary>The notification socket: a path, or an abstract name starting with <c>@</c>; null when unset.</summary>
    public string? NotifySocket { get; init; }

    /// <summary>WatchdogSec= as the manager passed it; null when no watchdog applies to this process.</summary>
    public TimeSpan? Watchdog { get; init; }

    /// <summary>Sockets passed by the service manager, in order; empty without socket activation.</summary>
    public IReadOnlyList<PassedSocket> Passed { get; init; } = [];

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
        return new SystemdEnvironment { NotifySocket = notify, Watchdog = watchdog, Passed = PassedSockets(getEnv, processId, problems), Problems = problems };
    }

    /// <summary>
    /// Reads the process's own environment, then removes LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES from it,
    /// as sd_listen_fds(3) does when asked to: the tools the daemon runs must not take the sockets for theirs.
    /// </summary>
    public static SystemdEnvironment FromProcess()
    {
        var environment = From(Environment.GetEnvironmentVariable, Environment.ProcessId);
        Environment.SetEnvironmentVariable(ListenPidVariable, null);
        Environment.SetEnvironmentVariable(ListenFdsVariable, null);
        Environment.SetEnvironmentVariable(ListenFdNamesVariable, null);
        return environment;
    }

    private static List<PassedSocket> PassedSockets(Func<string, string?> getEnv, int processId, List<string> problems)
    {
        // sd_listen_fds(3): the sockets are ours only when LISTEN_PID names this process.
        if (getEnv(ListenPidVariable) is not { Length: > 0 } listenPid || getEnv(ListenFdsVariable) is not { Length: > 0 } listenFds)
        {
            return [];
        }
        if (listenPid != processId.ToString(CultureInfo.InvariantCulture))
        {
            return [];
        }
        if (!int.TryParse(listenFds, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count is < 1 or > 64)
        {
            problems.Add($"{ListenFdsVariable}={listenFds} is not a number of sockets from 1 to 64; ignoring the passed sockets");
            return [];
        }
        var names = getEnv(ListenFdNamesVariable)?.Split(':');
        if (names is not null && names.Length != count)
        {
            problems.Add($"{ListenFdNamesVariable} names {names.Length} sockets but {ListenFdsVariable} is {count}; the names are ignored");
            names = null;
        }
        return [.. Enumerable.Range(0, count).Select(i => new PassedSocket(FirstPassedFd + i, names?[i] is { Length: > 0 } name ? name : null))];
    }
}
