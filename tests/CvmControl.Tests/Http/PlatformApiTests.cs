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
            """{"tee":"sev-snp","configfs_tsm":{"available":true,"provider":"sev_guest"},"tpm":true,"kernel_release":"6.8.0-1021-aws","cpu_vendor":"AuthenticAMD"}""");
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
            """{"tee":"tdx","configfs_tsm":{"available":true,"provider":"tdx_guest"},"tpm":false,"kernel_release":"6.11.0","cpu_vendor":"GenuineIntel"}""");
    }

    [Fact]
    public async Task Plain_vm_reports_none_and_nulls_for_what_is_missing()
    {
        using var factory = new CvmControlFactory(f => f.Tsm = FakeTsm.Absent());

        var response = await factory.CreateClient().Get("/api/v1/platform");

        await response.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be(
            """{"tee":"none","configfs_tsm":{"available":false,"provider":null},"tpm":false,"kernel_release":null,"cpu_vendor":null}""");
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

    [Fact]
    public async Task Post_is_not_allowed()
    {
        using var factory = new CvmControlFactory();

        var response = await factory.CreateClient().PostJson("/api/v1/platform", "{}");

        await response.ShouldBe(HttpStatusCode.MethodNotAllowed);
        (await response.ErrorOf()).Error.Should().Be("method not allowed");
    }
}
