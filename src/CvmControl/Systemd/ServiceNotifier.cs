using System.Net.Sockets;
using CvmControl.Operations;

namespace CvmControl.Systemd;

/// <summary>
/// Tells the service manager how the daemon is doing, over sd_notify(3), whenever <c>NOTIFY_SOCKET</c>
/// is set: <c>READY=1</c> once the host has started (listeners bound, state recovered) and a probe has
/// been answered through the request pipeline; <c>STATUS=</c> with the daemon's state as it changes;
/// <c>STOPPING=1</c> when it stops; and, with <c>WatchdogSec=</c>, <c>WATCHDOG=1</c> every half
/// interval, but only after a fresh probe was answered. A pipeline that hangs (a stuck lock, a starved
/// thread pool, a dead listener) therefore stops the keep-alives, and systemd restarts the daemon.
/// </summary>
/// <remarks>
/// Modelled on Microsoft.Extensions.Hosting.Systemd's SystemdLifetime, which sends READY and STOPPING
/// from the application's lifetime events, with what it lacks: readiness proven by a request, the
/// watchdog, status text, and switching on from the environment alone (see <see cref="SystemdEnvironment"/>).
/// systemd enforces the watchdog only while the unit is running, so the keep-alives stop with STOPPING=1
/// and a shutdown that waits for a volume step is not killed by it.
/// </remarks>
internal sealed partial class ServiceNotifier(
    SystemdEnvironment environment,
    OperationTracker tracker,
    IPipelineProbe probe,
    StartupWork startup,
    TimeProvider time,
    ILogger<ServiceNotifier> logger) : IHostedLifecycleService, IDisposable
{
    /// <summary>How long one readiness probe may take before it is tried again.</summary>
    public static readonly TimeSpan ReadinessProbeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The pause between readiness probes that were not answered.</summary>
    public static readonly TimeSpan ReadinessRetry = TimeSpan.FromMilliseconds(100);

    private readonly SdNotify? _notify = environment.NotifySocket is { } socket ? new SdNotify(socket) : null;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _sendGate = new();
    private Task _loop = Task.CompletedTask;
    private bool _ready;
    private bool _stopped;
    private bool _sendFailed;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        foreach (var problem in environment.Problems)
        {
            LogEnvironmentProblem(logger, problem);
        }
        if (_notify is not null)
        {
            LogNotifying(logger, _notify.Socket, environment.Watchdog?.ToString() ?? "off");
            tracker.Changed += OnStateChanged;
        }
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Every hosted service has started and Kestrel is bound: prove it answers, then say so.</summary>
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (_notify is not null)
        {
            _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        }
        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        if (_notify is null)
        {
            return;
        }
        lock (_sendGate)
        {
            _stopped = true;
        }
        await _stopping.CancelAsync();
        Send("STOPPING=1\nSTATUS=Stopping: finishing the step in progress, if any");
        try
        {
            await _loop.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        tracker.Changed -= OnStateChanged;
        _stopping.Dispose();
    }

    /// <summary>The STATUS= text for the daemon's state: what `systemctl status` shows.</summary>
    internal static string Describe(DaemonPhase phase, OperationKind? running) => (phase, running) switch
    {
        (DaemonPhase.Shutdown, _) => "Shutting down the VM",
        (DaemonPhase.Ready, OperationKind.Passphrase) => "Ready; rotating volume passphrases",
        (DaemonPhase.Ready, _) => "Ready",
        (_, OperationKind.Bootstrap) => "Bootstrapping",
        _ => "Waiting for a bootstrap",
    };

    private string DescribeNow()
    {
        var (phase, running) = tracker.State;
        return Describe(phase, running);
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            await Task.WhenAll(startup.Pending).WaitAsync(stopping);
            while (!await probe.AnswersAsync(ReadinessProbeTimeout, stopping))
            {
                LogNotAnsweringYet(logger);
                await Task.Delay(ReadinessRetry, time, stopping);
            }
            lock (_sendGate)
            {
                _ready = true;
            }
            Send($"READY=1\nSTATUS={DescribeNow()}");
            LogReady(logger);
            if (environment.Watchdog is { } interval)
            {
                await KeepAliveAsync(interval, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A start that failed (say, the TLS context could not be built) stops the host elsewhere;
            // here it only means no READY=1, and systemd's start timeout reports it.
            LogNotReady(logger, ex.Message);
        }
    }

    private async Task KeepAliveAsync(TimeSpan interval, CancellationToken stopping)
    {
        // sd_watchdog_enabled(3) advises a keep-alive every half interval. A probe gets the rest of that
        // half: one that takes longer misses its beat, and two missed beats end in a restart.
        var beat = interval / 2;
        var failing = false;
        while (true)
        {
            var started = time.GetTimestamp();
            var answered = await probe.AnswersAsync(beat, stopping);
            if (answered)
            {
                Send("WATCHDOG=1");
                if (failing)
                {
                    LogWatchdogRecovered(logger);
                }
            }
            else if (!failing)
            {
                LogWatchdogProbeFailed(logger, beat.TotalMilliseconds);
            }
            failing = !answered;
            var rest = beat - time.GetElapsedTime(started);
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest, time, stopping);
            }
        }
    }

    private void OnStateChanged()
    {
        bool send;
        lock (_sendGate)
        {
            send = _ready && !_stopped;
        }
        if (send)
        {
            Send($"STATUS={DescribeNow()}");
        }
    }

    private void Send(string assignments)
    {
        try
        {
            _notify!.Send(assignments);
        }
        catch (SocketException ex)
        {
            lock (_sendGate)
            {
                if (_sendFailed)
                {
                    return;
                }
                _sendFailed = true;
            }
            LogSendFailed(logger, _notify!.Socket, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "systemd environment: {Problem}")]
    private static partial void LogEnvironmentProblem(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Notifying the service manager at {Socket} (watchdog {Watchdog})")]
    private static partial void LogNotifying(ILogger logger, string socket, string watchdog);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The readiness probe was not answered yet; trying again")]
    private static partial void LogNotAnsweringYet(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Told the service manager READY=1: the API answers")]
    private static partial void LogReady(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Not ready: {Reason}")]
    private static partial void LogNotReady(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Watchdog probe not answered within {TimeoutMs} ms: no keep-alive sent until the request pipeline answers again")]
    private static partial void LogWatchdogProbeFailed(ILogger logger, double timeoutMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Watchdog probe answered again; keep-alives resumed")]
    private static partial void LogWatchdogRecovered(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot notify the service manager at {Socket}: {Reason} (logged once)")]
    private static partial void LogSendFailed(ILogger logger, string socket, string reason);
}
