using CvmControl.Api.V1;

namespace CvmControl.Volumes.Devices;

/// <summary>The cloud whose disk naming the daemon follows: it decides what a <c>volume_id</c> means.</summary>
internal enum CloudKind
{
    /// <summary>A plain KVM/QEMU host or any cloud not listed: <c>volume_id</c> is a disk serial.</summary>
    Generic,

    /// <summary>Amazon EC2: an EBS volume id.</summary>
    Aws,

    /// <summary>Google Compute Engine: a persistent disk's device name.</summary>
    Gcp,

    /// <summary>Microsoft Azure: a data disk's LUN.</summary>
    Azure,
}

internal static class CloudNames
{
    /// <summary>The name used on the command line, in logs and in <c>/api/v1/platform</c>.</summary>
    public static string Name(this CloudKind cloud) => cloud switch
    {
        CloudKind.Aws => ApiCloud.Aws,
        CloudKind.Gcp => ApiCloud.Gcp,
        CloudKind.Azure => ApiCloud.Azure,
        _ => ApiCloud.Generic,
    };

    public static CloudKind? Parse(string name) => name switch
    {
        ApiCloud.Aws => CloudKind.Aws,
        ApiCloud.Gcp => CloudKind.Gcp,
        ApiCloud.Azure => CloudKind.Azure,
        ApiCloud.Generic => CloudKind.Generic,
        _ => null,
    };
}
