using System.Net;
using CvmControl.Tests.Fakes;

namespace CvmControl.Tests.Http;

public sealed class PlatformApiTests
{
    [Fact]
    public async Task Snp_guest_reports_every_field()
    {
        using var factory = new CvmControlFactory(f =>
        {
            f.Tsm = FakeTsm.Snp();
            f.Root.CpuInfo("AuthenticAMD").Device("sev-guest").Device("tpmrm0").KernelRelease("6.8.0-1021-aws");
        });

        var response = await factory.CreateClient().Get("/api/v1/platform");

        await response.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be(
            """{"tee":"sev-snp","configfs_tsm":{"available":true,"provider":"sev_guest"},"tpm":true,"kernel_release":"6.8.0-1021-aws","cpu_vendor":"AuthenticAMD","cloud":"generic"}""");
    }

    [Fact]
    public async Task Tdx_guest_with_configfs_tsm_reports_tdx()
    {
        using var factory = new CvmControlFactory(f =>
        {
            f.Tsm = FakeTsm.Tdx();
            f.Root.CpuInfo("GenuineIntel", "tdx_guest").Device("tdx_guest").KernelRelease("6.11.0");
        });

        var response = await factory.CreateClient().Get("/api/v1/platform");

        (await response.Content.ReadAsStringAsync()).Should().Be(
            """{"tee":"tdx","configfs_tsm":{"available":true,"provider":"tdx_guest"},"tpm":false,"kernel_release":"6.11.0","cpu_vendor":"GenuineIntel","cloud":"generic"}""");
    }

    [Fact]
    public async Task Plain_vm_reports_none_and_nulls_for_what_is_missing()
    {
        using var factory = new CvmControlFactory(f => f.Tsm = FakeTsm.Absent());

        var response = await factory.CreateClient().Get("/api/v1/platform");

        await response.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be(
            """{"tee":"none","configfs_tsm":{"available":false,"provider":null},"tpm":false,"kernel_release":null,"cpu_vendor":null,"cloud":"generic"}""");
    }

    [Fact]
    public async Task The_platform_is_detected_once_at_start_and_logged_once()
    {
        using var factory = new CvmControlFactory(f => f.Root.CpuInfo("AuthenticAMD").KernelRelease("6.8.0"));
        var client = factory.CreateClient();
        factory.Tsm.Created.Should().ContainSingle("the provider probe ran at start, before any request");

        factory.Tsm.Provider = "tdx_guest";
        await client.Get("/api/v1/platform");
        var response = await client.Get("/api/v1/platform");

        (await response.Content.ReadAsStringAsync()).Should().Contain("\"tee\":\"sev-snp\"");
        factory.Tsm.Created.Should().ContainSingle();
        factory.Log.Split('\n').Where(l => l.Contains("Platform: TEE", StringComparison.Ordinal)).Should().ContainSingle()
            .Which.Should().Contain("sev-snp").And.Contain("configfs-tsm provider sev_guest").And.Contain("AuthenticAMD").And.Contain("6.8.0");
    }

    [Theory]
    [InlineData("sys_vendor", "Amazon EC2", "aws", "DMI sys_vendor is \"Amazon EC2\"")]
    [InlineData("product_name", "Google Compute Engine", "gcp", "DMI product_name is \"Google Compute Engine\"")]
    [InlineData("chassis_asset_tag", "7783-7084-3265-9085-8269-3286-77", "azure", "DMI chassis_asset_tag is 7783-7084-3265-9085-8269-3286-77")]
    [InlineData("sys_vendor", "QEMU", "generic", "DMI matches no known cloud")]
    public async Task The_cloud_is_detected_from_dmi_at_start_reported_and_logged_with_what_was_read(string file, string value, string cloud, string reason)
    {
        using var factory = new CvmControlFactory(f => f.Root.Dmi(file, value).Dmi("bios_vendor", "SeaBIOS"));

        var response = await factory.CreateClient().Get("/api/v1/platform");

        (await response.Content.ReadAsStringAsync()).Should().EndWith($"\"cloud\":\"{cloud}\"}}");
        LogMessages(factory).Where(m => m.Message.StartsWith("Cloud: ", StringComparison.Ordinal)).Should().ContainSingle()
            .Which.Message.Should().StartWith($"Cloud: {cloud} (auto: {reason}); DMI read: ")
            .And.Contain($"{file}=\"{value}\"").And.Contain("bios_vendor=\"SeaBIOS\"").And.Contain("board_asset_tag=unreadable");
    }

    [Fact]
    public async Task The_cloud_flag_beats_dmi_and_the_log_warns_when_they_disagree()
    {
        using var factory = new CvmControlFactory(f =>
        {
            f.Root.Dmi("product_name", "Google Compute Engine");
            f.Cloud = CvmControl.Volumes.Devices.CloudKind.Aws;
        });

        var response = await factory.CreateClient().Get("/api/v1/platform");

        (await response.Content.ReadAsStringAsync()).Should().EndWith("\"cloud\":\"aws\"}");
        var messages = LogMessages(factory);
        messages.Should().Contain(m => m.Message.StartsWith("Cloud: aws (set by --cloud or CVM_CONTROL_CLOUD); DMI read: sys_vendor=unreadable, product_name=\"Google Compute Engine\"", StringComparison.Ordinal));
        messages.Should().Contain(("warn", "--cloud aws overrides DMI, which says gcp (DMI product_name is \"Google Compute Engine\")"));
    }

    [Fact]
    public async Task Dmi_that_matches_two_clouds_means_generic_with_a_warning()
    {
        using var factory = new CvmControlFactory(f => f.Root.Dmi("sys_vendor", "Amazon EC2").Dmi("chassis_asset_tag", "7783-7084-3265-9085-8269-3286-77"));

        var response = await factory.CreateClient().Get("/api/v1/platform");

        (await response.Content.ReadAsStringAsync()).Should().EndWith("\"cloud\":\"generic\"}");
        LogMessages(factory).Should().Contain(("warn",
            "DMI matches more than one cloud (azure: chassis_asset_tag is 7783-7084-3265-9085-8269-3286-77; aws: sys_vendor is \"Amazon EC2\"); set --cloud; the cloud is generic"));
    }

    [Fact]
    public async Task Unreadable_dmi_means_generic_with_a_warning()
    {
        using var factory = new CvmControlFactory();

        var response = await factory.CreateClient().Get("/api/v1/platform");

        (await response.Content.ReadAsStringAsync()).Should().EndWith("\"cloud\":\"generic\"}");
        LogMessages(factory).Should().ContainSingle(m => m.Message.StartsWith("DMI unreadable", StringComparison.Ordinal))
            .Which.Should().Be(("warn", $"DMI unreadable: {Path.Combine(factory.Root.Path, "sys", "class", "dmi", "id")} does not exist; the cloud is generic"));
    }

    private static List<(string Level, string Message)> LogMessages(CvmControlFactory factory) =>
        [.. factory.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            using var json = System.Text.Json.JsonDocument.Parse(line);
            return (json.RootElement.GetProperty("level").GetString()!, json.RootElement.GetProperty("message").GetString()!);
        })];

    [Fact]
    public async Task Post_is_not_allowed()
    {
        using var factory = new CvmControlFactory();

        var response = await factory.CreateClient().PostJson("/api/v1/platform", "{}");

        await response.ShouldBe(HttpStatusCode.MethodNotAllowed);
        (await response.ErrorOf()).Error.Should().Be("method not allowed");
    }
}
