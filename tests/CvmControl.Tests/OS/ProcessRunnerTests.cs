using System.Diagnostics;
using System.Text;
using CvmControl.OS;
using CvmControl.Tests.Cli;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CvmControl.Tests.OS;

public sealed class ProcessRunnerTests : IDisposable
{
    private readonly TempDir _bin = new();

    private ProcessRunner Runner(int cap = 256 * 1024, TimeSpan? idleGrace = null) =>
        new(Options.Create(new ProcessRunnerOptions
        {
            SearchPath = _bin.Path + ":/usr/bin:/bin",
            MaxCapturedBytes = cap,
            IdleGrace = idleGrace ?? TimeSpan.FromSeconds(15),
        }), TimeProvider.System, NullLogger<ProcessRunner>.Instance);

    // Fields 19 and 41 of /proc/<pid>/stat: the nice value and the scheduling policy (0 normal, 5 idle).
    private static (int Nice, int Policy) NiceAndPolicy(string statFields)
    {
        var fields = statFields.Trim().Split(' ');
        return (int.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    private void Script(string name, string body)
    {
        var path = _bin.Combine(name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
    }

    [Fact]
    public async Task Passes_arguments_as_a_list_without_a_shell()
    {
        Script("show-args", "for a in \"$@\"; do printf '[%s]' \"$a\"; done");

        var result = await Runner().RunAsync(new ProcessSpec("show-args", ["a b", "$HOME", "; rm -rf /", "*"]));

        result.ExitCode.Should().Be(0);
        result.StandardOutput.Should().Be("[a b][$HOME][; rm -rf /][*]");
    }

    [Fact]
    public async Task A_background_child_runs_at_idle_priority_and_nice_10_before_it_reads_its_stdin()
    {
        // The child reports its scheduling once stdin arrives, as cryptsetup would start its KDF only
        // after reading the key.
        Script("show-sched", "read key; cut -d' ' -f19,41 /proc/$$/stat");
        var self = File.ReadAllText("/proc/self/stat").Split(' ');
        var own = NiceAndPolicy($"{self[18]} {self[40]}");

        var background = await Runner().RunAsync(new ProcessSpec("show-sched", []) { StandardInput = "k\n"u8.ToArray(), Background = true });
        var foreground = await Runner().RunAsync(new ProcessSpec("show-sched", []) { StandardInput = "k\n"u8.ToArray() });

        NiceAndPolicy(background.StandardOutput).Should().Be((10, 5));
        NiceAndPolicy(foreground.StandardOutput).Should().Be(own);
    }

    [Fact]
    public async Task A_background_child_still_running_after_the_grace_moves_to_the_normal_policy_at_nice_10()
    {
        Script("show-sched-later", "read key; sleep 1.5; cut -d' ' -f19,41 /proc/$$/stat");

        var promoted = await Runner(idleGrace: TimeSpan.FromMilliseconds(100)).RunAsync(
            new ProcessSpec("show-sched-later", []) { StandardInput = "k\n"u8.ToArray(), Background = true });
        var quick = await Runner(idleGrace: TimeSpan.FromSeconds(30)).RunAsync(
            new ProcessSpec("show-sched-later", []) { StandardInput = "k\n"u8.ToArray(), Background = true });

        NiceAndPolicy(promoted.StandardOutput).Should().Be((10, 0));
        NiceAndPolicy(quick.StandardOutput).Should().Be((10, 5));
    }

    [Fact]
    public async Task Writes_stdin_bytes_exactly_without_a_trailing_newline()
    {
        Script("hex-stdin", "od -An -tx1 | tr -d ' \\n'");

        var result = await Runner().RunAsync(new ProcessSpec("hex-stdin", []) { StandardInput = Encoding.UTF8.GetBytes("pw\nline2") });

        result.StandardOutput.Should().Be("70770a6c696e6532");
    }

    [Fact]
    public async Task Captures_stdout_and_stderr_separately_and_returns_a_nonzero_exit_code()
    {
        Script("both", "echo out; echo err >&2; exit 3");

        var result = await Runner().RunAsync(new ProcessSpec("both", []));

        result.ExitCode.Should().Be(3);
        result.StandardOutput.Should().Be("out\n");
        result.StandardError.Should().Be("err\n");
    }

    [Fact]
    public async Task Caps_captured_output_but_drains_the_rest_so_the_child_never_blocks()
    {
        Script("chatty", "head -c 5000000 /dev/zero | tr '\\0' 'x'; echo done >&2");

        var result = await Runner(cap: 1000).RunAsync(new ProcessSpec("chatty", []));

        result.ExitCode.Should().Be(0);
        result.StandardOutput.Length.Should().Be(1000);
        result.StandardError.Should().Be("done\n");
    }

    [Fact]
    public async Task Kills_the_child_when_the_timeout_elapses()
    {
        Script("sleeper", $"echo $$ > {_bin.Combine("sleeper.pid")}; echo started >&2; exec sleep 30");
        var watch = Stopwatch.StartNew();

        var act = () => Runner().RunAsync(new ProcessSpec("sleeper", []) { Timeout = TimeSpan.FromMilliseconds(500) });

        var error = (await act.Should().ThrowAsync<ProcessException>()).Which;
        error.Message.Should().Be("sleeper timed out after 0.5 s and was killed");
        error.ExitCode.Should().BeNull();
        error.Tool.Should().Be("sleeper");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(20), "the child must not run to its end");
        IsAlive(await ChildPid("sleeper.pid")).Should().BeFalse("the timeout kills the child, not only the wait for it");
    }

    [Fact]
    public async Task Kills_the_child_on_cancellation()
    {
        Script("sleeper", $"echo $$ > {_bin.Combine("sleeper.pid")}; exec sleep 30");
        using var cts = new CancellationTokenSource();

        var run = Runner().RunAsync(new ProcessSpec("sleeper", []), cts.Token);
        var pid = await ChildPid("sleeper.pid");
        IsAlive(pid).Should().BeTrue("the child runs until it is cancelled");
        await cts.CancelAsync();

        await ((Func<Task>)(() => run)).Should().ThrowAsync<OperationCanceledException>();
        IsAlive(pid).Should().BeFalse("cancellation kills the child");
    }

    [Fact]
    public async Task A_grandchild_that_keeps_stdout_open_cannot_hold_up_a_cancelled_run()
    {
        // The child is killed, but a grandchild that left its process tree still holds the pipes: the
        // run must end anyway instead of waiting for that pipe to close.
        var orphan = _bin.Combine("orphan.pid");
        Script("leaves-orphan", $"(sleep 20 & echo $! > {orphan}); echo $$ > {_bin.Combine("parent.pid")}; exec sleep 30");
        using var cts = new CancellationTokenSource();

        var run = Runner().RunAsync(new ProcessSpec("leaves-orphan", []), cts.Token);
        var pid = await ChildPid("parent.pid");
        var grandchild = await ChildPid("orphan.pid");
        await cts.CancelAsync();

        try
        {
            await ((Func<Task>)(() => run.WaitAsync(TimeSpan.FromSeconds(15)))).Should().ThrowAsync<OperationCanceledException>();
            IsAlive(pid).Should().BeFalse();
            IsAlive(grandchild).Should().BeTrue("the grandchild escaped the kill, as the test intends");
        }
        finally
        {
            Posix.Kill(grandchild, 9);
        }
    }

    /// <summary>Waits (bounded) until a script has written its pid to <paramref name="file"/> in the bin dir.</summary>
    private async Task<int> ChildPid(string file)
    {
        var path = _bin.Combine(file);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), out var pid))
            {
                return pid;
            }
            DateTime.UtcNow.Should().BeBefore(deadline, $"the script should write {file}");
            await Task.Delay(20);
        }
    }

    /// <summary>A live process: /proc has it and it is not a zombie (a killed child that nobody reaped yet).</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state is not ('Z' or 'X');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    [Fact]
    public async Task Missing_executable_names_the_tool()
    {
        var act = () => Runner().RunAsync(new ProcessSpec("no-such-tool-xyz", []));

        (await act.Should().ThrowAsync<ProcessException>()).Which.Message.Should().Be("no-such-tool-xyz: executable not found on PATH");
    }

    [Fact]
    public async Task Finds_tools_on_the_configured_path_first()
    {
        Script("systemctl", "echo stand-in \"$@\"");

        var result = await Runner().RunAsync(new ProcessSpec("systemctl", ["poweroff"]));

        result.StandardOutput.Should().Be("stand-in poweroff\n");
    }

    [Fact]
    public async Task Scrubs_secrets_from_the_stderr_of_a_child_that_timed_out()
    {
        Script("leaky-sleeper", "echo \"bad key: hunter2\" >&2; exec sleep 30");

        var act = () => Runner().RunAsync(new ProcessSpec("leaky-sleeper", []) { Timeout = TimeSpan.FromSeconds(2), Secrets = ["hunter2"] });

        var error = (await act.Should().ThrowAsync<ProcessException>()).Which;
        error.StandardError.Should().Be("bad key: [REDACTED]\n");
        error.ToString().Should().NotContain("hunter2");
    }

    [Fact]
    public async Task Scrubs_secrets_from_captured_streams()
    {
        Script("leaky", "echo \"bad key: hunter2\" >&2; echo hunter2");

        var result = await Runner().RunAsync(new ProcessSpec("leaky", []) { Secrets = ["hunter2"] });

        result.StandardError.Should().Be("bad key: [REDACTED]\n");
        result.StandardOutput.Should().Be("[REDACTED]\n");
    }

    [Fact]
    public async Task Runs_tools_with_the_C_locale()
    {
        Script("locale-of", "echo \"$LC_ALL\"");

        (await Runner().RunAsync(new ProcessSpec("locale-of", []))).StandardOutput.Should().Be("C\n");
    }

    [Fact]
    public void Spec_ToString_never_shows_stdin()
    {
        new ProcessSpec("cryptsetup", ["open", "--key-file=-"]) { StandardInput = Encoding.UTF8.GetBytes("secret") }
            .ToString().Should().Be("cryptsetup open --key-file=-");
    }

    public void Dispose() => _bin.Dispose();
}
