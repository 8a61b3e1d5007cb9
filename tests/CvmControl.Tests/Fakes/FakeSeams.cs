using CvmControl.Attestation.Evidence;
using CvmControl.Attestation.Platform;
using CvmControl.OS;
using CvmControl.Tools;
using CvmControl.Volumes;
using CvmControl.Volumes.Devices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CvmControl.Tests.Fakes;

/// <summary>Puts the fakes behind every seam to the machine: volumes, power, mounts, configfs-tsm and the root that platform and cloud detection read.</summary>
internal static class FakeSeams
{
    /// <param name="volumes">The volume layer; null keeps the real pipeline and rotator (whose own seams the caller replaces).</param>
    public static void Replace(IServiceCollection services, FakeVolumeBackend? volumes, IPowerControl power, IMountTable mounts, ITsmFileSystem tsm, string machineRoot)
    {
        if (volumes is not null)
        {
            services.RemoveAll<IVolumePipeline>();
            services.RemoveAll<IPassphraseRotator>();
            services.AddSingleton<IVolumePipeline>(volumes);
            services.AddSingleton<IPassphraseRotator>(volumes);
        }
        services.RemoveAll<IPowerControl>();
        services.AddSingleton(power);
        services.RemoveAll<IMountTable>();
        services.AddSingleton(mounts);
        services.RemoveAll<ITsmFileSystem>();
        services.AddSingleton(tsm);
        services.RemoveAll<PlatformDetector>();
        services.AddSingleton(sp => new PlatformDetector(machineRoot, sp.GetRequiredService<ITsmFileSystem>()));
        // DMI (cloud detection) is read under the fake root's sys/.
        services.PostConfigure<DeviceOptions>(o => o.SysRoot = Path.Combine(machineRoot, "sys"));
    }
}
