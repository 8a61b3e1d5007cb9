using System.Diagnostics;
using System.Net;
using CvmControl.Api.V1;
using CvmControl.Tests.Http;
using CvmControl.Tests.Identity;
using CvmControl.Tests.Systemd;

namespace CvmControl.Tests.Cli;

/// <summary>
/// The built daemon started by systemd-socket-activate (Debian's systemd package), which binds a TCP
/// and a Unix socket, waits for the first connection, then starts the daemon with LISTEN_FDS, as a
/// socket unit does. A stand-in service manager listens at NOTIFY_SOCKET.
/// </summary>
public sealed class SocketActivationTests : IDisposable
{
    public const string SocketActivate = "/usr/bin/systemd-socket-activate";

    private readonly TempDir _dir = new();
    private readonly NotifyReceiver _manager = new();

    /// <summary>systemd-socket-activate around the daemon (as ProcessLevelTests runs it), passing the environment given.</summary>
    private ProcessStartInfo Activated(int port, string unixSocket, IReadOnlyDictionary<string, string> env, params string[] daemonArgs)
    {
        var daemon = ProcessLevelTests.Daemon(daemonArgs);
        var start = new ProcessStartInfo(SocketActivate) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "--listen", $"127.0.0.1:{port}", "--listen", unixSocket, "--fdname", "https:local" })
        {
            start.ArgumentList.Add(arg);
        }
        // It passes on only a few variables of its own environment; the rest go with -E.
        foreach (var (name, value) in env)
        {
            start.ArgumentList.Add("-E");
            start.ArgumentList.Add($"{name}={value}");
        }
        start.ArgumentList.Add(daemon.FileName);
        foreach (var arg in daemon.ArgumentList)
        {
            start.ArgumentList.Add(arg);
        }
        return start;
    }

    [Fact]
    public async Task A_socket_activated_daemon_serves_https_on_the_tcp_socket_and_the_local_api_on_the_unix_socket()
    {
        File.Exists(SocketActivate).Should().BeTrue("scripts/test.sh installs Debian's systemd package, which ships it");
        var port = ProcessLevelTests.FreePort();
        var unix = _dir.Combine("api.sock");
        // A systemctl stand-in that records which descriptors a child of the daemon holds.
        var bin = _dir.Combine("bin");
        Directory.CreateDirectory(bin);
        var fds = _dir.Combine("child-fds");
        File.WriteAllText(Path.Combine(bin, "systemctl"), $"#!/bin/sh\nls -l /proc/$$/fd > {fds}.tmp && mv {fds}.tmp {fds}\n");
        File.SetUnixFileMode(Path.Combine(bin, "systemctl"), (UnixFileMode)0b111_101_101);
        var env = new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = _manager.Path,
            ["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH"),
            ["DOTNET_ROOT"] = Environment.GetEnvironmentVariable("DOTNET_ROOT") ?? "/usr/share/dotnet",
        };

        using var activator = Process.Start(Activated(port, unix, env, "--run-dir", _dir.Combine("run"), "--log-format", "text", "--port", "1"))!;
        var output = new System.Text.StringBuilder();
        activator.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        activator.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        activator.BeginOutputReadLine();
        activator.BeginErrorReadLine();
        try
        {
            Directory.CreateDirectory(_dir.Combine("run"));
            await WaitForFileAsync(unix);
            using var https = SocketClients.Https(new Uri($"https://127.0.0.1:{port}"));

            // The first connection starts the daemon, and waits in the socket's queue until it answers.
            (await https.DaemonStatus()).Should().Be(ApiStatus.Bootstrap);
            var ready = await _manager.WaitForAsync("READY=1", TimeSpan.FromSeconds(60));
            ready.Should().Contain("STATUS=Waiting for a bootstrap");
            using (var portOne = new System.Net.Sockets.TcpClient())
            {
                var connect = () => portOne.ConnectAsync(IPAddress.Loopback, 1);
                await connect.Should().ThrowAsync<System.Net.Sockets.SocketException>("--port 1 gave way to the passed socket");
            }

            using var local = SocketClients.Unix(unix);
            (await local.DaemonStatus()).Should().Be(ApiStatus.Bootstrap);
            (await local.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Should().Contain("cvm_control_state{state=\"bootstrap\"} 1");
            await (await local.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Forbidden);

            // systemctl, a child of the daemon, holds neither of the passed sockets.
            await (await https.PostJson("/api/v1/shutdown", "{}")).ShouldBe(HttpStatusCode.OK);
            await WaitForFileAsync(fds);
            var childFds = await File.ReadAllTextAsync(fds);
            childFds.Should().NotContain("socket:", "passed sockets are close-on-exec: {0}", childFds);

            // systemd-socket-activate execs the daemon in its own process (without --accept).
            // Its argv[0] is then the daemon's (the published binary under CVM_BIN, else dotnet).
            File.ReadAllText($"/proc/{activator.Id}/cmdline").Split('\0')[0].Should().Be(ProcessLevelTests.Daemon().FileName);
            Posix.Kill(activator.Id, Posix.Sigterm);
            await activator.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            await _manager.WaitForAsync("STOPPING=1");
            lock (output)
            {
                output.ToString().Should().Contain($"Listening on https://127.0.0.1:{port} (passed socket fd 3 (https))")
                    .And.Contain($"Listening on http+unix:{unix} (passed socket fd 4 (local); status, platform and metrics)");
            }
        }
        finally
        {
            if (!activator.HasExited)
            {
                activator.Kill(entireProcessTree: true);
            }
        }
    }

    private static async Task WaitForFileAsync(string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!Path.Exists(path))
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "{0} should appear", path);
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        _manager.Dispose();
        _dir.Dispose();
    }
}
