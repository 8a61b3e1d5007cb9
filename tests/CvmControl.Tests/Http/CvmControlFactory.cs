using CvmControl.Attestation.Evidence;
using CvmControl.Cli;
using CvmControl.Hosting;
using CvmControl.OS;
using CvmControl.Provisioning;
using CvmControl.Tests.Fakes;
using CvmControl.Tools;
using CvmControl.Volumes;
using CvmControl.Volumes.Devices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace CvmControl.Tests.Http;

/// <summary>
/// The daemon in-process over TestServer, with fakes for disks, mounts, systemctl and configfs-tsm, a private
/// run dir, and a fake machine root for the platform detector.
/// The host is composed by <see cref="DaemonHost.Build"/>, exactly as <c>Main</c> composes it; only the
/// entry point's command-line parsing is bypassed (System.CommandLine rightly rejects the arguments that
/// WebApplicationFactory injects).
/// </summary>
internal sealed class CvmControlFactory : WebApplicationFactory<Program>
{
    private readonly StringWriter _log = new();

    public CvmControlFactory(Action<CvmControlFactory>? arrange = null)
    {
        arrange?.Invoke(this);
    }

    public TempDir RunDir { get; } = new();

    public FakeVolumeBackend Volumes { get; } = new();

    public FakePowerControl Power { get; } = new();

    public FakeMountTable Mounts { get; } = new();

    /// <summary>The configfs-tsm the daemon sees; by default an SNP guest serving the real report. Replace it in <c>arrange</c>.</summary>
    public FakeTsm Tsm { get; set; } = new();

    /// <summary>The root the platform detector reads /proc and /dev under; empty unless <c>arrange</c> fills it.</summary>
    public FakeRoot Root { get; } = new();

    /// <summary>
    /// When set in <c>arrange</c>, the real LUKS2 pipeline and rotator run over <see cref="Disks"/>, simulated
    /// disks for the volume ids of <see cref="ApiClient.TwoVolumes"/>, instead of <see cref="Volumes"/>.
    /// </summary>
    public bool RealVolumes { get; set; }

    /// <summary>With <see cref="RealVolumes"/>: the simulated disks and tools.</summary>
    public FakeDiskWorld? Disks { get; private set; }

    private readonly TempDir _machine = new();
    /// <summary>The <c>--cloud</c> setting; null is <c>auto</c> (detected from the fake root's DMI).</summary>
    public CvmControl.Volumes.Devices.CloudKind? Cloud { get; set; }

    /// <summary>When set in <c>arrange</c>, replaces the configfs-tsm provider altogether.</summary>
    public IAttestationProvider? Provider { get; set; }

    /// <summary>Everything the daemon logged, as JSON lines.</summary>
    public string Log
    {
        get { lock (_log) { return _log.ToString(); } }
    }

    protected override IHost CreateHost(IHostBuilder builder)
    {
        // The CCEL is read from the fake root, never from this machine's ACPI tables.
        var settings = new DaemonSettings { RunDir = RunDir.Path, LogLevel = Microsoft.Extensions.Logging.LogLevel.Debug, CcelPath = Root.CcelPath, Cloud = Cloud ?? (RealVolumes ? CvmControl.Volumes.Devices.CloudKind.Generic : null) };
        var serilog = DaemonLogging.Create(settings, TextWriter.Synchronized(_log));
        var app = DaemonHost.Build(settings, serilog, b =>
        {
            b.WebHost.UseTestServer();
            var services = b.Services;
            services.RemoveAll<RunDirectory>();
            services.AddSingleton(new RunDirectory(RunDir.Path));
            FakeSeams.Replace(services, RealVolumes ? null : Volumes, Power, Mounts, Tsm, Root.Path);
            if (RealVolumes)
            {
                var blocks = new FakeBlockDevices();
                Disks = new FakeDiskWorld(_machine.Combine("dev"), Mounts, blocks);
                // A plain KVM host (cloud generic, unless arrange names one): NVMe disks whose serials are
                // the volume ids of ApiClient.TwoVolumes.
                var sysfs = new FakeSysfs(_machine.Path, Mounts);
                Disks.AttachNvme(sysfs, "nvme1n1", "vol-0aaa111");
                Disks.AttachNvme(sysfs, "nvme2n1", "vol-0bbb222");
                services.RemoveAll<IProcessRunner>();
                services.AddSingleton<IProcessRunner>(Disks);
                services.RemoveAll<IBlockDevices>();
                services.AddSingleton<IBlockDevices>(blocks);
                // After FakeSeams' PostConfigure, which points SysRoot at the fake root for DMI.
                services.PostConfigure<DeviceOptions>(o =>
                {
                    o.DevRoot = sysfs.Dev;
                    o.SysRoot = sysfs.Sys;
                });
                services.Configure<VolumeOptions>(o => o.Cost = new LuksCost(32768, 100));
            }
            if (Provider is not null)
            {
                services.RemoveAll<IAttestationProvider>();
                services.AddSingleton(Provider);
            }
        });
        app.Start();
        return app;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            RunDir.Dispose();
            Root.Dispose();
            _machine.Dispose();
        }
    }
}
