using System.Net;
using CvmControl.Cli;
using CvmControl.Hosting;
using CvmControl.Systemd;
using CvmControl.Tests.Fakes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace CvmControl.Tests.Http;

/// <summary>
/// The real daemon host (Kestrel, HTTPS, the generated certificate) on 127.0.0.1 and an ephemeral
/// port, with fakes behind the volume, power, mount, configfs-tsm and machine-root seams.
/// </summary>
internal sealed class LoopbackDaemon : IAsyncDisposable
{
    private readonly TempDir _run = new();
    private readonly FakeRoot _root = new();
    private readonly StringWriter _log = new();
    private readonly TextWriter _sync;

    private LoopbackDaemon(FakeVolumeBackend volumes, FakeTsm tsm)
    {
        _sync = TextWriter.Synchronized(_log);
        Volumes = volumes;
        Tsm = tsm;
    }

    public FakeVolumeBackend Volumes { get; }

    public FakeTsm Tsm { get; }

    public FakePowerControl Power { get; } = new();

    /// <summary>The fake machine root; <see cref="FakeRoot.Ccel"/> on it gives the daemon a TDX event log.</summary>
    public FakeRoot Root => _root;

    public WebApplication App { get; private set; } = null!;

    public Uri Url { get; private set; } = null!;

    /// <summary>Every address Kestrel listens on (the probe listener's too, when there is one).</summary>
    public IReadOnlyCollection<string> Addresses => App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();

    /// <summary>Everything the daemon logged, as text lines.</summary>
    public string Log
    {
        // The synchronized writer locks itself for each write ([MethodImpl(Synchronized)]).
        get { lock (_sync) { return _log.ToString(); } }
    }

    /// <param name="configure">Changes to the settings, e.g. TLS files and client authentication.</param>
    /// <param name="services">Replacements in the container, after the fakes.</param>
    /// <param name="systemd">What systemd passed: a notification socket, a watchdog, sockets.</param>
    public static async Task<LoopbackDaemon> StartAsync(FakeTsm? tsm = null, Func<DaemonSettings, DaemonSettings>? configure = null, Action<IServiceCollection>? services = null, SystemdEnvironment? systemd = null)
    {
        var daemon = new LoopbackDaemon(new FakeVolumeBackend(), tsm ?? FakeTsm.Snp());
        var settings = new DaemonSettings { Address = IPAddress.Loopback, Port = 0, TlsCommonName = "cvm.test", RunDir = daemon._run.Path, CcelPath = daemon._root.CcelPath, LogFormat = LogFormat.Text };
        settings = configure?.Invoke(settings) ?? settings;
        daemon.App = DaemonHost.Build(settings, DaemonLogging.Create(settings, daemon._sync), b =>
        {
            FakeSeams.Replace(b.Services, daemon.Volumes, daemon.Power, new FakeMountTable(), daemon.Tsm, daemon._root.Path);
            services?.Invoke(b.Services);
        }, systemd: systemd);
        await daemon.App.StartAsync();
        // Null when the daemon serves only sockets passed to it.
        daemon.Url = daemon.Addresses.Where(a => a.StartsWith("https://127.", StringComparison.Ordinal)).Select(a => new Uri(a)).SingleOrDefault()!;
        return daemon;
    }

    /// <summary>Waits (bounded) until the log holds <paramref name="text"/>; the server logs on its own threads.</summary>
    public async Task<string> WaitForLog(string text, int occurrences = 1)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (CountOf(text) < occurrences && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        CountOf(text).Should().BeGreaterThanOrEqualTo(occurrences, "the daemon should have logged \"{0}\"; it logged:\n{1}", text, Log);
        return Log;
    }

    public int CountOf(string text)
    {
        var log = Log;
        var count = 0;
        for (var at = log.IndexOf(text, StringComparison.Ordinal); at >= 0; at = log.IndexOf(text, at + text.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        _root.Dispose();
        _run.Dispose();
    }
}
