using CvmControl.Tests.Fakes;
using CvmControl.Volumes.Devices;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CvmControl.Tests.Volumes.Devices;

/// <summary>Each cloud's resolver over a fake sysfs and /dev.</summary>
internal static class Resolvers
{
    public static AwsNvmeDeviceResolver Aws(FakeSysfs sys) => new(sys.View(), Options.Create(sys.Options), TimeProvider.System, NullLogger<AwsNvmeDeviceResolver>.Instance);

    public static GcpDeviceResolver Gcp(FakeSysfs sys) => new(sys.View(), Options.Create(sys.Options), TimeProvider.System, NullLogger<GcpDeviceResolver>.Instance);

    public static AzureDeviceResolver Azure(FakeSysfs sys) => new(sys.View(), Options.Create(sys.Options), TimeProvider.System, NullLogger<AzureDeviceResolver>.Instance);

    public static GenericSerialDeviceResolver Generic(FakeSysfs sys) => new(sys.View(), Options.Create(sys.Options), TimeProvider.System, NullLogger<GenericSerialDeviceResolver>.Instance);

    /// <summary>The per-volume error a resolution ends in.</summary>
    public static async Task<CvmControl.Volumes.VolumeOperationException> FailureOf(IDeviceResolver resolver, string volumeId) =>
        (await FluentActions.Awaiting(() => resolver.ResolveAsync(volumeId, CancellationToken.None))
            .Should().ThrowAsync<CvmControl.Volumes.VolumeOperationException>()).Which;
}
