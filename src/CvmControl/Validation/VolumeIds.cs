using System.Globalization;
using System.Text.RegularExpressions;
using CvmControl.Volumes.Devices;

namespace CvmControl.Validation;

/// <summary>What a <c>volume_id</c> must look like on each cloud (the README's table says what it means).</summary>
internal static partial class VolumeIds
{
    public const int MaxAzureLun = 63;

    /// <summary>Null when <paramref name="id"/> is a well-formed volume id on <paramref name="cloud"/>; otherwise why not.</summary>
    public static string? Check(CloudKind cloud, string id) => cloud switch
    {
        CloudKind.Aws => AwsVolumeId().IsMatch(id) ? null
            : "on aws, volume_id is an EBS volume id: vol- followed by 8 or 17 lowercase hex digits",
        CloudKind.Gcp => GcpDeviceName().IsMatch(id) ? null
            : "on gcp, volume_id is the disk's device name: 1 to 63 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen",
        CloudKind.Azure => AzureLun().IsMatch(id) && int.Parse(id, NumberStyles.None, CultureInfo.InvariantCulture) <= MaxAzureLun ? null
            : $"on azure, volume_id is the data disk's LUN: a whole number from 0 to {MaxAzureLun}, without leading zeros",
        _ => Names.IsVolumeId(id) ? null
            : "invalid volume id (allowed: A-Z a-z 0-9 . _ : -, starting with a letter or digit)",
    };

    // \z, not $: $ also matches before a final newline.
    [GeneratedRegex("^vol-([0-9a-f]{8}|[0-9a-f]{17})\\z", RegexOptions.CultureInvariant)]
    private static partial Regex AwsVolumeId();

    // An RFC 1035 label, as GCE resource names are.
    [GeneratedRegex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?\\z", RegexOptions.CultureInvariant)]
    private static partial Regex GcpDeviceName();

    [GeneratedRegex("^(0|[1-9][0-9]?)\\z", RegexOptions.CultureInvariant)]
    private static partial Regex AzureLun();
}
