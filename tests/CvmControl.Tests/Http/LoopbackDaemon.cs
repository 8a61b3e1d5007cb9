using System.Net;
using CvmControl.Cli;
using CvmControl.Hosting;
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

    private LoopbackDaemon(FakeVolumeBackend volumes, FakeTsm tsm)
    {
        Volumes = volumes;
        Tsm = tsm;
    }

    public FakeVolumeBackend Volumes { get; }

    public FakeTsm Tsm { get; }

    /// <summary>The fake machine root; <see cref="FakeRoot.Ccel"/> on it gives the daemon a TDX event log.</summary>
    public FakeRoot Root => _root;

    public WebApplication App { get; private set; } = null!;

    public Uri Url { get; private set; } = null!;

    public static async Task<LoopbackDaemon> StartAsync(FakeTsm? tsm = null)
    {
        var daemon = new LoopbackDaemon(new FakeVolumeBackend(), tsm ?? FakeTsm.Snp());
        var settings = new DaemonSettings { Address = IPAddress.Loopback, Port = 0, TlsCommonName = "cvm.test", RunDir = daemon._run.Path, CcelPath = daemon._root.CcelPath };
        daemon.App = DaemonHost.Build(settings, DaemonLogging.Create(settings, TextWriter.Null), b =>
        {
            FakeSeams.Replace(b.Services, daemon.Volumes, new FakePowerControl(), new FakeMountTable(), daemon.Tsm, daemon._root.Path);
        });
        await daemon.App.StartAsync();
        daemon.Url = new Uri(daemon.App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return daemon;
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        _root.Dispose();
        _run.Dispose();
    }
}
