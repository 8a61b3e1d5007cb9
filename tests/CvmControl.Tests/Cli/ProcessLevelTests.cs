using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CvmControl.Tests.Cli;

/// <summary>
/// The daemon as a real process: exit codes, stderr and signal handling. With <c>CVM_BIN</c> set (as
/// scripts/test.sh sets it), that published NativeAOT binary is what runs; otherwise the build
/// output, on the JIT.
/// </summary>
public sealed class ProcessLevelTests : IDisposable
{
    private readonly TempDir _run = new();

    internal static ProcessStartInfo Daemon(params string[] args) => Daemon(new Dictionary<string, string>(), args);

    internal static ProcessStartInfo Daemon(Dictionary<string, string> env, params string[] args)
    {
        ProcessStartInfo start;
        if (Environment.GetEnvironmentVariable("CVM_BIN") is { Length: > 0 } published)
        {
            File.Exists(published).Should().BeTrue($"CVM_BIN names the published daemon ({published})");
            start = new ProcessStartInfo(published);
        }
        else
        {
            start = new ProcessStartInfo("dotnet");
            start.ArgumentList.Add("exec");
            start.ArgumentList.Add("--runtimeconfig");
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "cvm-control.runtimeconfig.json"));
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "cvm-control.dll"));
        }
        start.RedirectStandardError = true;
        start.RedirectStandardOutput = true;
        start.UseShellExecute = false;
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment.Remove("CVM_CONTROL_PORT");
        foreach (var (name, value) in env)
        {
            start.Environment[name] = value;
        }
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
        await WaitUntil(() => { lock (stdout) { return stdout.ToString().Contains("Listening on https://127.0.0.1", StringComparison.Ordinal); } }, "the daemon listens");

        Posix.Kill(process.Id, Posix.Sigterm);
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        process.ExitCode.Should().Be(0);
        lock (stdout)
        {
            stdout.ToString().Should().Contain("Application is shutting down")
                .And.Contain("(certificate self-signed: 'CN=cvm-control'")
                .And.Contain("client authentication off)")
                .And.NotContain("without client authentication", "on loopback nothing outside the VM can connect");
        }
    }

    [Fact]
    public async Task Sigterm_during_a_request_lets_it_finish_even_past_two_seconds()
    {
        // A systemctl that takes 4 s: longer than System.CommandLine's default 2 s termination grace.
        using var bin = new TempDir();
        var systemctl = bin.Combine("systemctl");
        File.WriteAllText(systemctl, "#!/bin/sh\ntouch \"$(dirname \"$0\")/started\"\nsleep 4\necho \"$*\" > \"$(dirname \"$0\")/called\"\n");
        File.SetUnixFileMode(systemctl, (UnixFileMode)0b111_101_101);
        var port = FreePort();
        var env = new Dictionary<string, string> { ["PATH"] = bin.Path + ":" + Environment.GetEnvironmentVariable("PATH") };
        using var process = Process.Start(Daemon(env, "--address", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--run-dir", _run.Path))!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var client = Https(port);
        await WaitUntilAnswering(client);

        var shutdown = client.PostAsync(new Uri("/api/v1/shutdown", UriKind.Relative), new StringContent(""));
        await WaitUntil(() => File.Exists(bin.Combine("started")), "the shutdown request reaches systemctl");
        var watch = Stopwatch.StartNew();
        Posix.Kill(process.Id, Posix.Sigterm);

        var response = await shutdown.WaitAsync(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("{\"status\":\"ok\"}");
        File.ReadAllText(bin.Combine("called")).Should().Be("poweroff\n");
        process.ExitCode.Should().Be(0);
        watch.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(2), "the in-flight request outlived the 2 s grace");
    }

    [Fact]
    public async Task Tls_files_unusable_at_start_exit_1_with_the_reason_logged()
    {
        using var files = new TempDir();
        using var key = Identity.TestPki.SelfSignedClient();
        File.WriteAllText(files.Combine("svid.pem"), "-----BEGIN CERTIFICATE-----\nMIIB");
        File.WriteAllText(files.Combine("svid_key.pem"), Identity.TestPki.Pkcs8Pem(key));
        using var process = Process.Start(Daemon("--address", "127.0.0.1", "--port", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture), "--run-dir", _run.Path,
            "--log-format", "text", "--tls-cert", files.Combine("svid.pem"), "--tls-key", files.Combine("svid_key.pem")))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        process.ExitCode.Should().Be(1, "systemd may try again later; 2 would stop it for good");
        stderr.Should().BeEmpty();
        (await stdout).Should().Contain($"FATL CvmControl: Cannot start: {files.Combine("svid.pem")} has an incomplete or malformed PEM block after 0 complete ones");
    }

    [Fact]
    public async Task Environment_variables_cannot_add_a_plain_http_endpoint()
    {
        var port = FreePort();
        var plainPort = FreePort();
        var env = new Dictionary<string, string>
        {
            ["Kestrel__Endpoints__Plain__Url"] = $"http://127.0.0.1:{plainPort}",
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{plainPort}",
        };
        using var process = Process.Start(Daemon(env, "--address", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--run-dir", _run.Path))!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var client = Https(port);
        await WaitUntilAnswering(client);

        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var act = () => plain.GetAsync(new Uri($"http://127.0.0.1:{plainPort}/api/v1/status"));

        await act.Should().ThrowAsync<HttpRequestException>();
        process.Kill();
        await process.WaitForExitAsync();
    }

    private static HttpClient Https(int port) => new(new SocketsHttpHandler
    {
        SslOptions = new System.Net.Security.SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    })
    {
        BaseAddress = new Uri($"https://127.0.0.1:{port}"),
        Timeout = TimeSpan.FromSeconds(60),
    };

    private static async Task WaitUntilAnswering(HttpClient client)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var response = await client.GetAsync(new Uri("/api/v1/status", UriKind.Relative));
                return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "{0} within a minute", what);
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
