using CvmControl.Attestation;
using CvmControl.Attestation.Evidence;
using CvmControl.Attestation.Platform;
using CvmControl.Cli;
using CvmControl.Metrics;
using CvmControl.Operations;
using CvmControl.OS;
using CvmControl.Provisioning;
using CvmControl.State;
using CvmControl.Tools;
using CvmControl.Volumes;
using CvmControl.Volumes.Devices;
using CvmControl.Volumes.Integrity;
using CvmControl.Volumes.Luks;
using Microsoft.Extensions.Options;

namespace CvmControl.Hosting;

internal static class ServiceRegistration
{
    public static IServiceCollection AddCvmControl(this IServiceCollection services, DaemonSettings settings)
    {
        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new RunDirectory(settings.RunDir));
        services.AddCvmMetrics();

        // Seams over the operating system.
        services.AddOptions<ProcessRunnerOptions>();
        services.AddSingleton<IProcessRunner, ProcessRunner>();
        services.AddSingleton<IPowerControl, Systemctl>();
        services.AddSingleton<IMountTable>(_ => new MountInfoTable());

        // Domain.
        services.AddSingleton<OperationTracker>();
        services.AddSingleton<RequestDigest>();
        services.AddSingleton<BackgroundOperations>();
        services.AddHostedService(sp => sp.GetRequiredService<BackgroundOperations>());
        services.AddSingleton<IProvisioner, FileProvisioner>();
        services.AddSingleton<IBootstrapRecordStore, BootstrapRecordStore>();
        services.AddSingleton<IBootstrapService, BootstrapService>();
        services.AddSingleton<IPassphraseService, PassphraseService>();
        services.AddSingleton<IShutdownService, ShutdownService>();
        services.AddHostedService<StateRecovery>();

        // The disk layer: one wrapper per tool over the one process runner, the cloud's device
        // resolver, and the LUKS2 pipeline and rotator on top.
        var cost = new LuksCost(settings.LuksPbkdfMemoryKiB, settings.LuksIterTimeMs);
        services.Configure<DeviceOptions>(o => o.Timeout = settings.DeviceTimeout);
        services.Configure<VolumeOptions>(o =>
        {
            o.Cost = cost;
            o.KeyDirectory = Path.Combine(settings.RunDir, "keys");
        });
        services.AddSingleton<Cryptsetup>();
        services.AddSingleton<Blkid>();
        services.AddSingleton<E2fsprogs>();
        services.AddSingleton<Mounter>();
        services.AddSingleton<Dmsetup>();
        services.AddSingleton<Integritysetup>();
        services.AddSingleton<Dmesg>();
        // The cloud decides what a volume_id means: --cloud, or DMI read once at start (logged by CloudStartup).
        services.AddSingleton(sp => CloudSelection.Choose(
            settings.Cloud, new CloudDetector(sp.GetRequiredService<IOptions<DeviceOptions>>().Value.SysRoot).Detect()));
        services.AddHostedService<CloudStartup>();
        services.AddSingleton<INvmeAdmin, NvmeAdmin>();
        services.AddSingleton<BlockDevices>();
        services.AddSingleton<AwsNvmeDeviceResolver>();
        services.AddSingleton<GcpDeviceResolver>();
        services.AddSingleton<AzureDeviceResolver>();
        services.AddSingleton<GenericSerialDeviceResolver>();
        services.AddSingleton<IDeviceResolver>(sp => sp.GetRequiredService<CloudSelection>().Cloud switch
        {
            CloudKind.Aws => sp.GetRequiredService<AwsNvmeDeviceResolver>(),
            CloudKind.Gcp => sp.GetRequiredService<GcpDeviceResolver>(),
            CloudKind.Azure => sp.GetRequiredService<AzureDeviceResolver>(),
            _ => sp.GetRequiredService<GenericSerialDeviceResolver>(),
        });
        services.AddSingleton(sp => new KdfGate(
            KdfGate.BudgetFor(KdfGate.ReadAvailableBytes() ?? 2L * 1024 * 1024 * 1024),
            KdfGate.NewSlotCostOf(cost),
            sp.GetRequiredService<CvmMetrics>()));
        services.AddSingleton<KeyDirectory>();
        services.AddHostedService<KeyDirectorySweep>();
        services.AddSingleton<HeaderGuard>();
        services.AddSingleton<HeaderWriteBack>();
        services.AddSingleton<IBlockDevices, SysfsBlockDevices>();
        services.AddSingleton<MappingProof>();
        services.AddSingleton<BlankCheck>();
        services.AddSingleton<IntegrityLayers>();
        services.AddSingleton<NodeSizes>();
        services.AddSingleton<IVolumePipeline, LuksVolumePipeline>();
        services.AddSingleton<IPassphraseRotator, LuksPassphraseRotator>();

        // Attestation: the platform is detected once at start from the real root; evidence comes
        // through configfs-tsm, one request at a time, with the TDX event log read per request.
        services.AddSingleton<ITsmFileSystem>(new TsmFileSystem(settings.TsmDir));
        services.AddSingleton(sp => new PlatformDetector("/", sp.GetRequiredService<ITsmFileSystem>()));
        services.AddSingleton(sp => sp.GetRequiredService<PlatformDetector>().Detect());
        services.AddHostedService<PlatformStartup>();
        services.AddSingleton<IAttestationProvider, ConfigFsTsmProvider>();
        services.AddSingleton<IEventLogSource>(sp => new CcelEventLogSource(settings.CcelPath, sp.GetRequiredService<ILogger<CcelEventLogSource>>()));
        services.AddSingleton<IAttestationService, AttestationService>();
        return services;
    }
}
