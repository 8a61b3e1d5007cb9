using System.Net;
using CvmControl.Attestation.Evidence;
using CvmControl.Attestation.Platform;
using CvmControl.Cli;
using CvmControl.Hosting;
using CvmControl.OS;
using CvmControl.Tests.Fakes;
using CvmControl.Volumes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

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

    public WebApplication App { get; private set; } = null!;

    public Uri Url { get; private set; } = null!;

    public static async Task<LoopbackDaemon> StartAsync(FakeTsm? tsm = null)
    {
        var daemon = new LoopbackDaemon(new FakeVolumeBackend(), tsm ?? FakeTsm.Snp());
        var settings = new DaemonSettings { Address = IPAddress.Loopback, Port = 0, TlsCommonName = "cvm.test", RunDir = daemon._run.Path };
        daemon.App = DaemonHost.Build(settings, DaemonLogging.Create(settings, TextWriter.Null), b =>
        {
            b.Services.RemoveAll<IVolumePipeline>();
            b.Services.AddSingleton<IVolumePipeline>(daemon.Volumes);
            b.Services.RemoveAll<IPowerControl>();
            b.Services.AddSingleton<IPowerControl>(new FakePowerControl());
            b.Services.RemoveAll<IMountTable>();
            b.Services.AddSingleton<IMountTable>(new FakeMountTable());
            b.Services.RemoveAll<ITsmFileSystem>();
            b.Services.AddSingleton<ITsmFileSystem>(daemon.Tsm);
            b.Services.RemoveAll<PlatformDetector>();
            b.Services.AddSingleton(sp => new PlatformDetector(daemon._root.Path, sp.GetRequiredService<ITsmFileSystem>()));
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
