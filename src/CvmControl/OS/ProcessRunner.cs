using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Options;

namespace CvmControl.OS;

/// <summary>
/// Runs children the way CliWrap does: argv list, stdin bytes, stdout and stderr drained
/// concurrently with a cap, and the child killed on timeout or cancellation.
/// </summary>
internal sealed partial class ProcessRunner(IOptions<ProcessRunnerOptions> options, TimeProvider time, ILogger<ProcessRunner> logger) : IProcessRunner
{
    private readonly ProcessRunnerOptions _options = options.Value;

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

    public async Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var tool = Path.GetFileName(spec.Executable);
        var path = ResolveExecutable(spec.Executable, _options.SearchPath)
            ?? throw new ProcessException(tool, spec.Arguments, null, "", $"{tool}: executable not found on PATH");

        var startInfo = new ProcessStartInfo(path)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in spec.Arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        // Stable, untranslated tool messages: callers match on upstream wording.
        startInfo.Environment["LC_ALL"] = "C";
        startInfo.Environment["PATH"] = _options.SearchPath;

        using var process = new Process { StartInfo = startInfo };
        var started = time.GetTimestamp();
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new ProcessException(tool, spec.Arguments, null, "", $"{tool}: failed to start: {ex.Message}", ex);
        }
        LogStarted(logger, tool, spec.Arguments.Count > 0 ? spec.Arguments[0] : "", process.Id);
        using var promotion = spec.Background ? Deprioritise(process, tool) : null;

        using var timeout = new CancellationTokenSource(spec.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);

        var stdout = CaptureAsync(process.StandardOutput.BaseStream, _options.MaxCapturedBytes);
        var stderr = CaptureAsync(process.StandardError.BaseStream, _options.MaxCapturedBytes);
        var stdin = FeedAsync(process.StandardInput.BaseStream, spec.StandardInput);

        try
        {
            await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            var partialErr = Scrub(await stderr.ConfigureAwait(false), spec);
            await Task.WhenAll(stdout, stdin).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            throw new ProcessException(tool, spec.Arguments, null, partialErr,
                $"{tool} timed out after {spec.Timeout.TotalSeconds:0.#} s and was killed");
        }

        var output = await stdout.ConfigureAwait(false);
        var error = await stderr.ConfigureAwait(false);
        await stdin.ConfigureAwait(false);
        var duration = time.GetElapsedTime(started);
        LogExited(logger, tool, process.ExitCode, duration.TotalMilliseconds);
        return new ProcessResult(process.ExitCode, Scrub(output, spec), Scrub(error, spec), duration);
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

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    private static async Task FeedAsync(Stream stdin, ReadOnlyMemory<byte> bytes)
    {
        try
        {
            if (!bytes.IsEmpty)
            {
                await stdin.WriteAsync(bytes).ConfigureAwait(false);
                await stdin.FlushAsync().ConfigureAwait(false);
            }
        }
        catch (IOException)
        {
            // The child exited without reading everything; its exit code tells the story.
        }
        finally
        {
            try
            {
                await stdin.DisposeAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<string> CaptureAsync(Stream stream, int cap)
    {
        var kept = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            var room = cap - (int)kept.Length;
            if (room > 0)
            {
                kept.Write(buffer, 0, Math.Min(room, read));
            }
        }
        return Encoding.UTF8.GetString(kept.GetBuffer(), 0, (int)kept.Length);
    }

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
}
