using CvmControl.Cli;
using CvmControl.Operations;
using CvmControl.OS;
using CvmControl.Provisioning;
using CvmControl.State;
using CvmControl.Volumes;

namespace CvmControl.Hosting;

internal static class ServiceRegistration
{
    public static IServiceCollection AddCvmControl(this IServiceCollection services, DaemonSettings settings)
    {
        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new RunDirectory(settings.RunDir));

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

        // The disk layer (issue 3 replaces this with the real LUKS2 pipeline).
        services.AddSingleton<MissingDiskBackend>();
        services.AddSingleton<IVolumePipeline>(sp => sp.GetRequiredService<MissingDiskBackend>());
        services.AddSingleton<IPassphraseRotator>(sp => sp.GetRequiredService<MissingDiskBackend>());
        return services;
    }
}
