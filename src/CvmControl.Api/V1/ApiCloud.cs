namespace CvmControl.Api.V1;

/// <summary>String values of the <c>cloud</c> field of <c>GET /api/v1/platform</c>: what a <c>volume_id</c> means.</summary>
public static class ApiCloud
{
    /// <summary>Amazon EC2: <c>volume_id</c> is an EBS volume id.</summary>
    public const string Aws = "aws";

    /// <summary>Google Compute Engine: <c>volume_id</c> is a persistent disk's device name.</summary>
    public const string Gcp = "gcp";

    /// <summary>Microsoft Azure: <c>volume_id</c> is a data disk's LUN.</summary>
    public const string Azure = "azure";

    /// <summary>Any other host: <c>volume_id</c> is a disk's serial.</summary>
    public const string Generic = "generic";
}
