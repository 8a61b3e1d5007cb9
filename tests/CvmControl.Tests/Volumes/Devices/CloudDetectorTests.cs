using CvmControl.Volumes.Devices;

namespace CvmControl.Tests.Volumes.Devices;

public sealed class CloudDetectorTests : IDisposable
{
    private readonly TempDir _sys = new();

    private void Dmi(string file, string value)
    {
        Directory.CreateDirectory(_sys.Combine("class", "dmi", "id"));
        File.WriteAllText(_sys.Combine("class", "dmi", "id", file), value + "\n");
    }

    private static DmiInfo Info(string? sysVendor = null, string? productName = null, string? productSerial = null,
        string? chassisAssetTag = null, string? boardAssetTag = null, string? biosVendor = null) =>
        new(sysVendor, productName, productSerial, chassisAssetTag, boardAssetTag, biosVendor);

    public static TheoryData<string?[], string, string> Machines => new()
    {
        // What each cloud's firmware shows, per cloud-init's ds-identify and the clouds' documentation.
        { new string?[] { "Amazon EC2", "m6a.large", "ec2f0c5f-0000-0000-0000-000000000000", "Amazon EC2", "i-0123456789abcdef0", "Amazon EC2" }, "aws", "DMI sys_vendor is \"Amazon EC2\"" },
        { new string?[] { "Xen", "HVM domU", "ec2cefac-dce1-eed5-4e48-83ad3ef51bfb", "", null, "Xen" }, "aws", "DMI product_serial starts with \"ec2\"" },
        { new string?[] { "Xen", "HVM domU", "EC2CEFAC-DCE1-EED5-4E48-83AD3EF51BFB", "", null, "Xen" }, "aws", "DMI product_serial starts with \"ec2\"" },
        { new string?[] { null, null, null, null, null, "Amazon EC2" }, "aws", "DMI bios_vendor is \"Amazon EC2\"" },
        { new string?[] { "QEMU", "Standard PC", null, null, "i-0123456789abcdef0", null }, "aws", "DMI board_asset_tag is an EC2 instance id" },
        { new string?[] { "Google", "Google Compute Engine", "GoogleCloud-1234", "", "", "Google" }, "gcp", "DMI product_name is \"Google Compute Engine\"" },
        { new string?[] { "Google", "", "GoogleCloud-ABCD", "", "", "Google" }, "gcp", "DMI product_serial starts with \"GoogleCloud-\"" },
        { new string?[] { "Microsoft Corporation", "Virtual Machine", "0000-0000", "7783-7084-3265-9085-8269-3286-77", "None", "Microsoft Corporation" }, "azure", "DMI chassis_asset_tag is 7783-7084-3265-9085-8269-3286-77" },
        // Hyper-V outside Azure has the same vendor strings, but not the asset tag.
        { new string?[] { "Microsoft Corporation", "Virtual Machine", "0000-0000", "None", "None", "Microsoft Corporation" }, "generic", "DMI matches no known cloud" },
        { new string?[] { "QEMU", "Standard PC (Q35 + ICH9, 2009)", null, "", "", "SeaBIOS" }, "generic", "DMI matches no known cloud" },
        { new string?[] { "Amazon EC2 ", "google compute engine", "ec", "7783-7084-3265-9085-8269-3286-7", "i-0123", "amazon ec2" }, "generic", "DMI matches no known cloud" },
    };

    [Theory]
    [MemberData(nameof(Machines))]
    public void Recognises_each_cloud_by_its_dmi_rules(string?[] dmi, string cloud, string reason)
    {
        var detection = CloudDetector.Classify(new DmiInfo(dmi[0], dmi[1], dmi[2], dmi[3], dmi[4], dmi[5]));

        detection.Cloud.Name().Should().Be(cloud);
        detection.Reason.Should().Be(reason);
    }

    [Fact]
    public void Dmi_that_matches_two_clouds_is_generic_and_names_both()
    {
        var detection = CloudDetector.Classify(Info("Amazon EC2", "Google Compute Engine"));

        detection.Cloud.Should().Be(CloudKind.Generic);
        detection.Conflicting.Should().BeTrue();
        detection.Reason.Should().Be("DMI matches more than one cloud (gcp: product_name is \"Google Compute Engine\"; aws: sys_vendor is \"Amazon EC2\"); set --cloud");
    }

    [Fact]
    public void Reads_the_six_files_trimmed_from_sysfs()
    {
        Dmi("sys_vendor", "Google");
        Dmi("product_name", "Google Compute Engine");
        Dmi("product_serial", "GoogleCloud-1234");
        Dmi("chassis_asset_tag", "");
        Dmi("bios_vendor", "Google");

        var detection = new CloudDetector(_sys.Path).Detect();

        detection.Cloud.Should().Be(CloudKind.Gcp);
        detection.Dmi.Should().Be(new DmiInfo("Google", "Google Compute Engine", "GoogleCloud-1234", "", null, "Google"));
    }

    [Fact]
    public void Without_a_dmi_directory_the_cloud_is_generic_and_the_reason_says_so()
    {
        var detection = new CloudDetector(_sys.Path).Detect();

        detection.Cloud.Should().Be(CloudKind.Generic);
        detection.Reason.Should().Be($"DMI unreadable: {_sys.Combine("class", "dmi", "id")} does not exist");
        detection.Dmi.Should().BeNull();
    }

    [Fact]
    public void A_dmi_directory_with_no_readable_file_is_unreadable_too()
    {
        Directory.CreateDirectory(_sys.Combine("class", "dmi", "id"));

        var detection = new CloudDetector(_sys.Path).Detect();

        detection.Cloud.Should().Be(CloudKind.Generic);
        detection.Reason.Should().StartWith("DMI unreadable: no file under");
    }

    [Fact]
    public void A_long_value_is_cut_so_it_cannot_flood_the_log()
    {
        Dmi("sys_vendor", new string('x', 5000));

        new CloudDetector(_sys.Path).Detect().Dmi!.SysVendor.Should().HaveLength(CloudDetector.MaxValueLength);
    }

    [Fact]
    public void The_flag_beats_detection_and_says_when_it_overrides_a_recognised_cloud()
    {
        var gcp = CloudDetector.Classify(Info(productName: "Google Compute Engine"));

        CloudSelection.Choose(null, gcp).Should().Match<CloudSelection>(s => s.Cloud == CloudKind.Gcp && !s.Configured && !s.OverridesDetection);
        CloudSelection.Choose(null, gcp).How.Should().Be("auto: DMI product_name is \"Google Compute Engine\"");
        var pinned = CloudSelection.Choose(CloudKind.Aws, gcp);
        pinned.Cloud.Should().Be(CloudKind.Aws);
        pinned.How.Should().Be("set by --cloud or CVM_CONTROL_CLOUD");
        pinned.OverridesDetection.Should().BeTrue();
        CloudSelection.Choose(CloudKind.Gcp, gcp).OverridesDetection.Should().BeFalse();
        CloudSelection.Choose(CloudKind.Azure, CloudDetector.Classify(Info())).OverridesDetection.Should().BeFalse("generic is no positive detection");
    }

    public void Dispose() => _sys.Dispose();
}
