using System.Diagnostics;
using System.Net;
using CvmControl.Api.V1;
using CvmControl.Identity;
using CvmControl.Operations;
using CvmControl.Systemd;
using CvmControl.Tests.Http;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace CvmControl.Tests.Systemd;

/// <summary>The real host with a stand-in service manager at NOTIFY_SOCKET.</summary>
public sealed class ServiceNotifierTests : IDisposable
{
    private readonly NotifyReceiver _manager = new();
    private readonly PipelineBlocker _blocker = new();

    private Task<LoopbackDaemon> StartAsync(TimeSpan? watchdog = null) => LoopbackDaemon.StartAsync(
        systemd: new SystemdEnvironment { NotifySocket = _manager.Path, Watchdog = watchdog },
        services: s => s.AddSingleton<IStartupFilter>(_blocker));

    private static HttpClient Https(Uri url) => new(new SocketsHttpHandler
    {
        SslOptions = new System.Net.Security.SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    })
    {
        BaseAddress = url,
    };

    [Fact]
    public async Task Ready_is_sent_only_once_the_pipeline_answers_and_then_the_https_listener_answers_at_once()
    {
        _blocker.Fail();
        await using var daemon = await StartAsync();

        // The host has started and its listeners are bound, but status fails: no READY=1, however often it is asked.
        await _blocker.WaitForStoppedAsync(3);
        _manager.Count("READY=1").Should().Be(0);

        _blocker.Release();
        var ready = await _manager.WaitForAsync("READY=1");
        using var client = Https(daemon.Url);
        (await client.DaemonStatus()).Should().Be(ApiStatus.Bootstrap);
        ready.Split('\n').Should().Contain("STATUS=Waiting for a bootstrap");
    }

    [Fact]
    public async Task Ready_waits_for_the_startup_work_beside_the_host()
    {
        var certificateContext = new TaskCompletionSource();
        await using var daemon = await LoopbackDaemon.StartAsync(
            systemd: new SystemdEnvironment { NotifySocket = _manager.Path },
            services: s => s.AddSingleton(new StartupWork([certificateContext.Task])));
        using var client = Https(daemon.Url);
        (await client.DaemonStatus()).Should().Be(ApiStatus.Bootstrap);
        _manager.Count("READY=1").Should().Be(0);

        certificateContext.SetResult();

        await _manager.WaitForAsync("READY=1");
    }

    [Fact]
    public async Task Watchdog_keepalives_stop_while_the_pipeline_hangs_and_resume_once_it_answers()
    {
        await using var daemon = await StartAsync(watchdog: TimeSpan.FromMilliseconds(600));
        await _manager.WaitForAsync("WATCHDOG=1", occurrences: 2);

        _blocker.Hang();
        await _blocker.WaitForStoppedAsync(2);
        var atSecond = _manager.Count("WATCHDOG=1");
        await _blocker.WaitForStoppedAsync(4);

        // Two more probes went unanswered (each given its half interval), and not one keep-alive went out.
        _manager.Count("WATCHDOG=1").Should().Be(atSecond);
        _blocker.Release();
        await _manager.WaitForAsync("WATCHDOG=1", occurrences: atSecond + 1);
    }

    [Fact]
    public async Task The_probes_stay_out_of_the_request_metrics()
    {
        await using var daemon = await StartAsync(watchdog: TimeSpan.FromMilliseconds(300));
        await _manager.WaitForAsync("WATCHDOG=1", occurrences: 3);
        using var client = Https(daemon.Url);

        await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        var text = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        // Request metrics work (the first scrape is counted), but the probe's requests for status are not.
        text.Should().Contain("http_route=\"/metrics\"").And.NotContain("http_route=\"/api/v1/status\"");
    }

    [Fact]
    public async Task Status_follows_the_daemon_state_and_stopping_is_sent_when_the_daemon_stops()
    {
        var daemon = await StartAsync();
        await _manager.WaitForAsync("READY=1");
        using var client = Https(daemon.Url);
        daemon.Volumes.Hold("data");

        await (await client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        await _manager.WaitForAsync("STATUS=Bootstrapping");
        daemon.Volumes.Release("data");
        await _manager.WaitForAsync("STATUS=Ready");
        await daemon.App.StopAsync();
        await daemon.DisposeAsync();

        var stopping = await _manager.WaitForAsync("STOPPING=1");
        stopping.Should().StartWith("STOPPING=1\nSTATUS=Stopping");
        _manager.Messages.Should().NotContain(m => m.Contains("WATCHDOG=1", StringComparison.Ordinal), "no WatchdogSec= was given");
    }

    [Fact]
    public async Task Without_notify_socket_nothing_is_sent_and_no_probe_listener_is_bound()
    {
        await using var daemon = await LoopbackDaemon.StartAsync();

        daemon.Addresses.Should().ContainSingle().Which.Should().StartWith("https://");
        _manager.Messages.Should().BeEmpty();
    }

    [Fact]
    public async Task The_probe_listener_closes_connections_from_any_other_process()
    {
        await using var daemon = await StartAsync();
        await _manager.WaitForAsync("READY=1");
        // Abstract: the name starts with a NUL byte (which .NET may show as '@').
        var name = daemon.App.Services.GetRequiredService<SelfProbe>().EndPoint.ToString()![1..];
        name.Should().StartWith("cvm-control-probe-");

        // Another process that guessed the abstract name: it connects, but gets no answer.
        var start = new ProcessStartInfo(Metrics.ReferenceParser.Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("""
            import socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(20)
            s.connect(b"\0" + sys.argv[1].encode())
            try:
                s.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                answer = s.recv(4096)
            except (BrokenPipeError, ConnectionResetError):
                answer = b""
            print(len(answer))
            """);
        start.ArgumentList.Add(name);
        using var other = Process.Start(start)!;
        var output = await other.StandardOutput.ReadToEndAsync();
        await other.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        other.ExitCode.Should().Be(0, await other.StandardError.ReadToEndAsync());
        output.Trim().Should().Be("0", "the daemon closed the connection without a byte");
        (await daemon.App.Services.GetRequiredService<IPipelineProbe>().AnswersAsync(TimeSpan.FromSeconds(10), CancellationToken.None))
            .Should().BeTrue("this process itself is let in");
    }

    [Theory]
    [InlineData("Bootstrap", "Bootstrap", "Bootstrapping")]
    [InlineData(null, "Bootstrap", "Waiting for a bootstrap")]
    [InlineData(null, "Ready", "Ready")]
    [InlineData("Passphrase", "Ready", "Ready; rotating volume passphrases")]
    [InlineData("Passphrase", "Shutdown", "Shutting down the VM")]
    public void Status_text_names_the_state(string? running, string phase, string expected) =>
        ServiceNotifier.Describe(Enum.Parse<DaemonPhase>(phase), running is null ? null : Enum.Parse<OperationKind>(running)).Should().Be(expected);

    public void Dispose() => _manager.Dispose();
}
