using System.Diagnostics;
using System.Runtime.InteropServices;
using CliWrap;
using Microsoft.Extensions.Options;

namespace CvmControl.OS;

/// <summary>
/// Runs every child through CliWrap: argv list, stdin bytes, stdout and stderr drained concurrently,
/// and the child killed on timeout or cancellation. What CliWrap leaves to its caller is here, kept
/// thin: the capture cap (<see cref="CappedCapture"/>), secret scrubbing of everything handed back
/// (CliWrap's own exception texts included), the idle CPU priority of a background child before its
/// key is written, a timeout told apart from cancellation, and a bound on the wait for a killed child.
/// </summary>
internal sealed partial class ProcessRunner(IOptions<ProcessRunnerOptions> options, TimeProvider time, ILogger<ProcessRunner> logger) : IProcessRunner
{
    private readonly ProcessRunnerOptions _options = options.Value;

    public async Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var tool = Path.GetFileName(spec.Executable);
        var path = ResolveExecutable(spec.Executable, _options.SearchPath)
            ?? throw new ProcessException(tool, spec.Arguments, null, "", $"{tool}: executable not found on PATH");

        var stdout = new CappedCapture(_options.MaxCapturedBytes);
        var stderr = new CappedCapture(_options.MaxCapturedBytes);
        var command = CliWrap.Cli.Wrap(path)
            // Stable, untranslated tool messages: callers match on upstream wording.
            .WithEnvironmentVariables(env => env.Set("LC_ALL", "C").Set("PATH", _options.SearchPath))
            // Empty means PipeSource.Null: stdin is closed at once.
            .WithStandardInputPipe(spec.StandardInput.IsEmpty ? PipeSource.Null : PipeSource.FromBytes(spec.StandardInput))
            .WithStandardOutputPipe(stdout)
            .WithStandardErrorPipe(stderr)
            // Every exit code is a result here; the tool wrappers decide what a failure is.
            .WithValidation(CommandResultValidation.None);

        using var timeout = new CancellationTokenSource(spec.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        ITimer? promotion = null;
        var started = time.GetTimestamp();
        CommandTask<CommandResult> task;
        try
        {
            task = command.ExecuteAsync(
                // The argv list exactly as given: no joined command line to be split again.
                startInfo =>
                {
                    startInfo.Arguments = "";
                    foreach (var argument in spec.Arguments)
                    {
                        startInfo.ArgumentList.Add(argument);
                    }
                },
                // Runs right after the start and before CliWrap begins to write stdin, so a background
                // child is already at idle priority when its key arrives.
                process => promotion = spec.Background ? Deprioritise(process, tool) : null,
                linked.Token,
                CancellationToken.None);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new ProcessException(tool, spec.Arguments, null, "", $"{tool}: failed to start: {Scrub(ex.Message, spec)}", ex);
        }
        LogStarted(logger, tool, spec.Arguments.Count > 0 ? spec.Arguments[0] : "", task.ProcessId);

        using (promotion)
        {
            try
            {
                var result = await WaitBoundedAsync(task, linked.Token).ConfigureAwait(false);
                var duration = time.GetElapsedTime(started);
                LogExited(logger, tool, result.ExitCode, duration.TotalMilliseconds);
                return new ProcessResult(result.ExitCode, Scrub(stdout.Text, spec), Scrub(stderr.Text, spec), duration);
            }
            catch (OperationCanceledException) when (linked.IsCancellationRequested)
            {
                cancellationToken.ThrowIfCancellationRequested();
                throw new ProcessException(tool, spec.Arguments, null, Scrub(stderr.Text, spec),
                    $"{tool} timed out after {spec.Timeout.TotalSeconds:0.#} s and was killed");
            }
            catch (TimeoutException ex)
            {
                // CliWrap's own bound: the kill was sent but the child did not exit.
                LogAbandoned(logger, task.ProcessId, 3);
                cancellationToken.ThrowIfCancellationRequested();
                throw new ProcessException(tool, spec.Arguments, null, Scrub(stderr.Text, spec), $"{tool}: {Scrub(ex.Message, spec)}", ex);
            }
        }
    }

    /// <summary>
    /// Awaits the child. Once a kill was asked for (timeout or cancellation), waits at most
    /// <see cref="ProcessRunnerOptions.KillGrace"/> more: a child that does not die, or a pipe that a
    /// surviving grandchild keeps open, must not hold up a daemon that is stopping.
    /// </summary>
    private async Task<CommandResult> WaitBoundedAsync(CommandTask<CommandResult> task, CancellationToken kill)
    {
        using var giveUp = new CancellationTokenSource();
        using var arm = kill.Register(static state =>
        {
            var (cts, grace) = ((CancellationTokenSource, TimeSpan))state!;
            try
            {
                cts.CancelAfter(grace);
            }
            catch (ObjectDisposedException)
            {
                // The run is over.
            }
        }, (giveUp, _options.KillGrace));
        try
        {
            return await task.Task.WaitAsync(giveUp.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (giveUp.IsCancellationRequested)
        {
            LogAbandoned(logger, task.ProcessId, _options.KillGrace.TotalSeconds);
            throw new OperationCanceledException(kill);
        }
    }

    /// <summary>
    /// Sets nice 10 and then <c>SCHED_IDLE</c> on the child's main thread. Linux applies both per
    /// thread, but threads inherit them, and this runs before stdin is fed: a tool that reads its key
    /// from stdin (cryptsetup with --key-file=-) cannot start its KDF threads before then.
    /// If the child is still running after <see cref="ProcessRunnerOptions.IdleGrace"/>, something
    /// else wants the CPU all the time; it is moved back to the normal policy at nice 10, so that it
    /// still finishes. The returned timer does that; dispose it when the child has exited.
    /// </summary>
    private ITimer? Deprioritise(Process process, string tool)
    {
        try
        {
            process.PriorityClass = ProcessPriorityClass.BelowNormal;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            // Best effort: the child may already have exited, or the priority may be locked down.
            LogCannotDeprioritise(logger, tool, ex.Message);
            return null;
        }
        var pid = process.Id;
        if (CpuPriority.TrySetIdle(pid) is not 0 and var errno)
        {
            LogCannotDeprioritise(logger, tool, Marshal.GetPInvokeErrorMessage(errno));
            return null;
        }
        return time.CreateTimer(_ =>
        {
            try
            {
                if (process.HasExited)
                {
                    return;
                }
            }
            catch (InvalidOperationException)
            {
                return; // Disposed: the run is over.
            }
            if (CpuPriority.TrySetNormal(pid) is not 0 and var error)
            {
                LogCannotPromote(logger, tool, Marshal.GetPInvokeErrorMessage(error));
            }
            else
            {
                LogPromoted(logger, tool, _options.IdleGrace.TotalSeconds);
            }
        }, null, _options.IdleGrace, Timeout.InfiniteTimeSpan);
    }

    internal static string? ResolveExecutable(string executable, string searchPath)
    {
        if (executable.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(executable) ? executable : null;
        }
        foreach (var dir in searchPath.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, executable);
            if (File.Exists(candidate) && (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
            {
                return candidate;
            }
        }
        return null;
    }

    private static string Scrub(string text, ProcessSpec spec) =>
        spec.Secrets.Count == 0 ? text : SecretScrubber.Scrub(text, spec.Secrets);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Started {Tool} {Verb} as pid {Pid}")]
    private static partial void LogStarted(ILogger logger, string tool, string verb, int pid);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Tool} exited with {ExitCode} after {ElapsedMs:0} ms")]
    private static partial void LogExited(ILogger logger, string tool, int exitCode, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Tool} still running after {GraceSeconds:0} s at idle CPU priority: moved to nice 10")]
    private static partial void LogPromoted(ILogger logger, string tool, double graceSeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot move {Tool} from idle CPU priority to nice 10 (needs CAP_SYS_NICE or LimitNICE=+10): {Reason}")]
    private static partial void LogCannotPromote(ILogger logger, string tool, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Cannot lower the CPU priority of {Tool}: {Reason}")]
    private static partial void LogCannotDeprioritise(ILogger logger, string tool, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Child pid {Pid} was killed but its run did not end within {GraceSeconds:0.#} s; no longer waiting for it")]
    private static partial void LogAbandoned(ILogger logger, int pid, double graceSeconds);
}
