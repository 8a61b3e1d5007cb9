using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CvmControl.Tests.Cli;

/// <summary>The built daemon as a real process: exit codes, stderr and signal handling.</summary>
public sealed class ProcessLevelTests : IDisposable
{
    private readonly TempDir _run = new();

    private static ProcessStartInfo Daemon(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "cvm-control.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add("--runtimeconfig");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "cvm-control.runtimeconfig.json"));
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment.Remove("CVM_CONTROL_PORT");
        return start;
    }

    [Fact]
    public async Task Invalid_port_exits_2_with_a_single_stderr_line()
    {
        using var process = Process.Start(Daemon("--port", "0", "--run-dir", _run.Path))!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        process.ExitCode.Should().Be(2);
        stderr.Should().Be("cvm-control: invalid --port \"0\": must be a whole number from 1 to 65535\n");
    }

    [Fact]
    public async Task Sigterm_stops_the_daemon_gracefully_with_exit_code_0()
    {
        var port = FreePort();
        using var process = Process.Start(Daemon("--address", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--run-dir", _run.Path, "--log-format", "text"))!;
        var stdout = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (stdout) { stdout.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        await WaitUntil(() => { lock (stdout) { return stdout.ToString().Contains("Listening on https://127.0.0.1", StringComparison.Ordinal); } });

        Posix.Kill(process.Id, Posix.Sigterm);
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        process.ExitCode.Should().Be(0);
        lock (stdout)
        {
            stdout.ToString().Should().Contain("Application is shutting down");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the daemon should start within a minute");
            await Task.Delay(50);
        }
    }

    public void Dispose() => _run.Dispose();
}

internal static partial class Posix
{
    public const int Sigterm = 15;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);
}
