using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using CvmControl.Api.V1;
using CvmControl.Attestation;
using CvmControl.Attestation.Evidence;
using CvmControl.Identity;
using CvmControl.Json;
using CvmControl.Tests.Attestation;
using CvmControl.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace CvmControl.Tests.Http;

public sealed class AttestationApiTests
{
    private static readonly string Nonce = Convert.ToHexStringLower(Enumerable.Range(0x10, 32).Select(i => (byte)i).ToArray());

    private static async Task<AttestationResponse> AttestationOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync(CvmJsonContext.Default.AttestationResponse))!;

    private static byte[] SpkiSha256Of(CvmControlFactory factory) =>
        SHA256.HashData(factory.Services.GetRequiredService<ServerIdentity>().Current.Certificate.PublicKey.ExportSubjectPublicKeyInfo());

    [Fact]
    public async Task Returns_the_snp_report_with_the_binding_a_verifier_needs()
    {
        using var factory = new CvmControlFactory();

        var response = await factory.CreateClient().Get($"/api/v1/attestation?nonce={Nonce}");

        await response.ShouldBe(HttpStatusCode.OK);
        var body = await AttestationOf(response);
        var spki = SpkiSha256Of(factory);
        body.Provider.Should().Be("sev_guest");
        Convert.FromBase64String(body.Evidence).Should().Equal(TestVectors.Read("attestation.bin"));
        body.Nonce.Should().Be(Nonce);
        body.TlsSpkiSha256.Should().Be(Convert.ToHexStringLower(spki));
        body.ReportData.Should().Be(Convert.ToHexStringLower(AttestationBinding.ComputeReportData(Convert.FromHexString(Nonce), spki)));
        body.Certificates.Should().BeNull();
    }

    [Fact]
    public async Task The_report_data_reaches_the_hardware_and_comes_back_in_the_evidence()
    {
        using var factory = new CvmControlFactory(f => f.Tsm = FakeTsm.Snp());

        var body = await AttestationOf(await factory.CreateClient().Get($"/api/v1/attestation?nonce={Nonce}"));

        factory.Tsm.Inblobs.Should().ContainSingle().Which.Should().Equal(Convert.FromHexString(body.ReportData));
        FakeTsm.ReportDataOfSnp(Convert.FromBase64String(body.Evidence)).Should().Equal(Convert.FromHexString(body.ReportData));
        factory.Tsm.Live.Should().BeEmpty();
    }

    [Fact]
    public async Task Returns_a_tdx_quote_without_a_certificates_field()
    {
        using var factory = new CvmControlFactory(f => f.Tsm = new FakeTsm { Provider = "tdx_guest", Outblob = _ => TestVectors.Read("tdx_quote_4.dat") });

        var response = await factory.CreateClient().Get($"/api/v1/attestation?nonce={Nonce}");

        await response.ShouldBe(HttpStatusCode.OK);
        var json = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(json);
        document.RootElement.EnumerateObject().Select(p => p.Name).Should().Equal("provider", "evidence", "report_data", "nonce", "tls_spki_sha256");
        document.RootElement.GetProperty("provider").GetString().Should().Be("tdx_guest");
        document.RootElement.GetProperty("evidence").GetBytesFromBase64().Should().Equal(TestVectors.Read("tdx_quote_4.dat"));
    }

    [Fact]
    public async Task A_tdx_guest_with_a_CCEL_sends_it_trimmed_as_event_log()
    {
        var table = TestVectors.Read("CCEL_data");
        using var factory = new CvmControlFactory(f =>
        {
            f.Tsm = new FakeTsm { Provider = "tdx_guest", Outblob = _ => TestVectors.Read("tdx_quote_4.dat") };
            f.Root.Ccel(table);
        });

        var response = await factory.CreateClient().Get($"/api/v1/attestation?nonce={Nonce}");

        await response.ShouldBe(HttpStatusCode.OK);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        document.RootElement.EnumerateObject().Select(p => p.Name).Should().Equal("provider", "evidence", "event_log", "report_data", "nonce", "tls_spki_sha256");
        document.RootElement.GetProperty("event_log").GetBytesFromBase64().Should().Equal(table.AsSpan(0, 9822).ToArray(), "the padding after the last event is not sent");
    }

    [Fact]
    public async Task An_sev_guest_sends_no_event_log_even_when_a_CCEL_exists()
    {
        using var factory = new CvmControlFactory(f => f.Root.Ccel(TestVectors.Read("CCEL_data")));

        var body = await AttestationOf(await factory.CreateClient().Get($"/api/v1/attestation?nonce={Nonce}"));

        body.Provider.Should().Be("sev_guest");
        body.EventLog.Should().BeNull();
    }

    [Fact]
    public async Task An_auxblob_comes_back_as_certificates()
    {
        var table = RandomNumberGenerator.GetBytes(2048);
        using var factory = new CvmControlFactory(f => f.Tsm.Auxblob = _ => table);

        var body = await AttestationOf(await factory.CreateClient().Get($"/api/v1/attestation?nonce={Nonce}"));

        Convert.FromBase64String(body.Certificates!).Should().Equal(table);
    }

    [Fact]
    public async Task An_uppercase_nonce_is_accepted_and_echoed_in_lowercase()
    {
        using var factory = new CvmControlFactory();

        var response = await factory.CreateClient().Get($"/api/v1/attestation?nonce={Nonce.ToUpperInvariant()}");

        await response.ShouldBe(HttpStatusCode.OK);
        (await AttestationOf(response)).Nonce.Should().Be(Nonce);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(64)]
    public async Task Nonces_of_16_and_64_bytes_are_accepted(int bytes)
    {
        using var factory = new CvmControlFactory();

        var response = await factory.CreateClient().Get($"/api/v1/attestation?nonce={new string('a', bytes * 2)}");

        await response.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("", "nonce is required")]
    [InlineData("?nonce=", "nonce is required")]
    [InlineData("?other=00112233445566778899aabbccddeeff", "nonce is required")]
    [InlineData("?nonce=00112233445566778899aabbccddeeff0", "nonce must have an even number of hex digits")]
    [InlineData("?nonce=00112233445566778899aabbccddee", "nonce must be 16 to 64 bytes")]
    [InlineData("?nonce=0011223344556677889900112233445566778899001122334455667788990011223344556677889900112233445566778899001122334455667788990011223344", "nonce must be 16 to 64 bytes")]
    [InlineData("?nonce=00112233445566778899aabbccddeefg", "nonce must be hex")]
    [InlineData("?nonce=0x112233445566778899aabbccddeeff", "nonce must be hex")]
    [InlineData("?nonce=00112233%2000112233445566778899aabbccddeeff", "nonce must be hex")]
    [InlineData("?nonce=00112233445566778899aabbccddeeff&nonce=00112233445566778899aabbccddeeff", "nonce must be hex")]
    public async Task A_missing_or_malformed_nonce_returns_400_and_asks_for_no_evidence(string query, string error)
    {
        using var factory = new CvmControlFactory();

        var response = await factory.CreateClient().Get($"/api/v1/attestation{query}");

        await response.ShouldBe(HttpStatusCode.BadRequest);
        (await response.ErrorOf()).Error.Should().Be(error);
        factory.Tsm.Inblobs.Should().BeEmpty();
    }

    [Fact]
    public async Task A_wrong_length_names_the_length_but_never_echoes_the_nonce()
    {
        using var factory = new CvmControlFactory();

        var response = await factory.CreateClient().Get("/api/v1/attestation?nonce=abcdef");

        var error = await response.ErrorOf();
        error.Detail.Should().Be("got 3 bytes");
        (await response.Content.ReadAsStringAsync()).Should().NotContain("abcdef");
    }

    [Fact]
    public async Task No_configfs_tsm_returns_501()
    {
        using var factory = new CvmControlFactory(f => f.Tsm = FakeTsm.Absent());

        var response = await factory.CreateClient().Get($"/api/v1/attestation?nonce={Nonce}");

        await response.ShouldBe(HttpStatusCode.NotImplemented);
        var error = await response.ErrorOf();
        error.Error.Should().Be("no attestation provider");
        error.Detail.Should().Contain("/sys/kernel/config/tsm/report does not exist").And.Contain("tee none");
    }

    [Fact]
    public async Task Configfs_tsm_without_a_provider_returns_501()
    {
        using var factory = new CvmControlFactory(f => f.Tsm = new FakeTsm { Provider = null });

        var response = await factory.CreateClient().Get($"/api/v1/attestation?nonce={Nonce}");

        await response.ShouldBe(HttpStatusCode.NotImplemented);
        (await response.ErrorOf()).Error.Should().Be("no configfs-tsm provider");
    }

    [Fact]
    public async Task A_concurrent_writer_returns_503_and_the_entry_is_removed()
    {
        using var factory = new CvmControlFactory(f => f.Tsm.BumpGenerationDuringRead = true);

        var response = await factory.CreateClient().Get($"/api/v1/attestation?nonce={Nonce}");

        await response.ShouldBe(HttpStatusCode.ServiceUnavailable);
        var error = await response.ErrorOf();
        error.Error.Should().Be("the attestation report was overwritten while it was read");
        error.Detail.Should().Contain("generation went from 1 to 2");
        factory.Tsm.Live.Should().BeEmpty();
    }

    [Fact]
    public async Task An_io_error_returns_503_with_the_reason_and_no_stack_trace()
    {
        using var factory = new CvmControlFactory(f => f.Tsm.FailOn = "outblob");

        var response = await factory.CreateClient().Get($"/api/v1/attestation?nonce={Nonce}");

        await response.ShouldBe(HttpStatusCode.ServiceUnavailable);
        var error = await response.ErrorOf();
        error.Error.Should().Be("the attestation provider failed");
        error.Detail.Should().Be("sev_guest: reading outblob: Input/output error");
        (await response.Content.ReadAsStringAsync()).Should().NotContain(" at ");
    }

    [Fact]
    public async Task A_provider_that_crashes_returns_the_generic_500_body()
    {
        using var factory = new CvmControlFactory(f => f.Provider = new StubAttestationProvider(_ => throw new InvalidOperationException("secret internals")));

        var response = await factory.CreateClient().Get($"/api/v1/attestation?nonce={Nonce}");

        await response.ShouldBe(HttpStatusCode.InternalServerError);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":"internal error"}""");
    }

    [Fact]
    public async Task A_swapped_provider_sees_the_bound_report_data()
    {
        byte[]? seen = null;
        using var factory = new CvmControlFactory(f => f.Provider = new StubAttestationProvider(reportData =>
        {
            seen = reportData;
            return EvidenceResult.Ok(new TeeEvidence("sev_guest", [1, 2, 3], null));
        }));

        var body = await AttestationOf(await factory.CreateClient().Get($"/api/v1/attestation?nonce={Nonce}"));

        seen.Should().Equal(Convert.FromHexString(body.ReportData));
        body.Evidence.Should().Be("AQID");
    }
}
