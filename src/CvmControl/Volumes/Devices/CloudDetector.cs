using System.Text.RegularExpressions;

namespace CvmControl.Volumes.Devices;

/// <summary>The SMBIOS/DMI strings the cloud is recognised by; null where a file could not be read.</summary>
internal sealed record DmiInfo(
    string? SysVendor,
    string? ProductName,
    string? ProductSerial,
    string? ChassisAssetTag,
    string? BoardAssetTag,
    string? BiosVendor)
{
    /// <summary>The sysfs file names under <c>/sys/class/dmi/id</c>, in the order they are logged.</summary>
    public static readonly IReadOnlyList<string> Files =
        ["sys_vendor", "product_name", "product_serial", "chassis_asset_tag", "board_asset_tag", "bios_vendor"];

    public bool AnyReadable => Values.Any(v => v is not null);

    public IReadOnlyList<string?> Values => [SysVendor, ProductName, ProductSerial, ChassisAssetTag, BoardAssetTag, BiosVendor];
}

/// <summary>What the DMI data says, and why.</summary>
/// <param name="Conflicting">True when DMI matched more than one cloud (the result is then generic).</param>
internal sealed record CloudDetection(CloudKind Cloud, string Reason, DmiInfo? Dmi, bool Conflicting = false);

/// <summary>
/// Recognises the cloud from the DMI strings the hypervisor's firmware exposes under
/// <c>/sys/class/dmi/id</c>. The rules are those of cloud-init's <c>ds-identify</c> and the clouds'
/// own documentation:
/// <list type="bullet">
/// <item>Azure: <c>chassis_asset_tag</c> is <c>7783-7084-3265-9085-8269-3286-77</c>.</item>
/// <item>GCP: <c>product_name</c> is <c>Google Compute Engine</c>, or <c>product_serial</c> starts with
/// <c>GoogleCloud-</c> (the product name is not guaranteed).</item>
/// <item>AWS: <c>sys_vendor</c> or <c>bios_vendor</c> is <c>Amazon EC2</c> (Nitro), <c>board_asset_tag</c> is an
/// instance id (Nitro), or <c>product_serial</c> starts with <c>ec2</c> in any case (Xen).</item>
/// </list>
/// Anything else, more than one match, or no readable DMI at all is <see cref="CloudKind.Generic"/>. The
/// host writes these strings, so detection is a convenience, not a security boundary: <c>--cloud</c> pins it.
/// </summary>
internal sealed partial class CloudDetector(string sysRoot)
{
    public const string AzureChassisAssetTag = "7783-7084-3265-9085-8269-3286-77";

    /// <summary>DMI strings are short; anything longer is cut so a hostile value cannot flood the log.</summary>
    public const int MaxValueLength = 128;

    public CloudDetection Detect()
    {
        var directory = Path.Combine(sysRoot, "class", "dmi", "id");
        if (!Directory.Exists(directory))
        {
            return new CloudDetection(CloudKind.Generic, $"DMI unreadable: {directory} does not exist", null);
        }
        var values = DmiInfo.Files.Select(file => ReadValue(Path.Combine(directory, file))).ToArray();
        var dmi = new DmiInfo(values[0], values[1], values[2], values[3], values[4], values[5]);
        return dmi.AnyReadable
            ? Classify(dmi)
            : new CloudDetection(CloudKind.Generic, $"DMI unreadable: no file under {directory} could be read", dmi);
    }

    public static CloudDetection Classify(DmiInfo dmi)
    {
        var found = new List<(CloudKind Cloud, string Why)>();
        if (dmi.ChassisAssetTag == AzureChassisAssetTag)
        {
            found.Add((CloudKind.Azure, $"chassis_asset_tag is {AzureChassisAssetTag}"));
        }

        if (dmi.ProductName == "Google Compute Engine")
        {
            found.Add((CloudKind.Gcp, "product_name is \"Google Compute Engine\""));
        }
        else if (dmi.ProductSerial?.StartsWith("GoogleCloud-", StringComparison.Ordinal) == true)
        {
            found.Add((CloudKind.Gcp, "product_serial starts with \"GoogleCloud-\""));
        }

        if (dmi.SysVendor == "Amazon EC2")
        {
            found.Add((CloudKind.Aws, "sys_vendor is \"Amazon EC2\""));
        }
        else if (dmi.BiosVendor == "Amazon EC2")
        {
            found.Add((CloudKind.Aws, "bios_vendor is \"Amazon EC2\""));
        }
        else if (dmi.BoardAssetTag is { } tag && InstanceId().IsMatch(tag))
        {
            found.Add((CloudKind.Aws, "board_asset_tag is an EC2 instance id"));
        }
        else if (dmi.ProductSerial?.StartsWith("ec2", StringComparison.OrdinalIgnoreCase) == true)
        {
            found.Add((CloudKind.Aws, "product_serial starts with \"ec2\""));
        }

        return found switch
        {
            [] => new CloudDetection(CloudKind.Generic, "DMI matches no known cloud", dmi),
            [var one] => new CloudDetection(one.Cloud, "DMI " + one.Why, dmi),
            _ => new CloudDetection(CloudKind.Generic,
                "DMI matches more than one cloud (" + string.Join("; ", found.Select(f => $"{f.Cloud.Name()}: {f.Why}")) + "); set --cloud", dmi, Conflicting: true),
        };
    }

    private static string? ReadValue(string path)
    {
        try
        {
            var text = File.ReadAllText(path).TrimEnd('\n', '\r', ' ', '\t', '\0');
            return text.Length > MaxValueLength ? text[..MaxValueLength] : text;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // An EC2 instance id: i- and 8 or 17 hex digits.
    [GeneratedRegex("^i-([0-9a-f]{8}|[0-9a-f]{17})$", RegexOptions.CultureInvariant)]
    private static partial Regex InstanceId();
}

/// <summary>The cloud the daemon runs as: set by <c>--cloud</c>, or detected from DMI at start.</summary>
/// <param name="Cloud">The cloud whose disk naming <c>volume_id</c> follows.</param>
/// <param name="Configured">True when <c>--cloud</c> (or its env var) named the cloud, false for <c>auto</c>.</param>
/// <param name="Detection">What DMI said, also when <c>--cloud</c> overrides it (it is logged either way).</param>
internal sealed record CloudSelection(CloudKind Cloud, bool Configured, CloudDetection Detection)
{
    public static CloudSelection Choose(CloudKind? configured, CloudDetection detection) =>
        new(configured ?? detection.Cloud, configured is not null, detection);

    /// <summary>Why this cloud, for the start log.</summary>
    public string How => Configured ? "set by --cloud or CVM_CONTROL_CLOUD" : "auto: " + Detection.Reason;

    /// <summary>True when <c>--cloud</c> names another cloud than the one DMI positively recognised.</summary>
    public bool OverridesDetection => Configured && Detection.Cloud != CloudKind.Generic && Detection.Cloud != Cloud;
}
