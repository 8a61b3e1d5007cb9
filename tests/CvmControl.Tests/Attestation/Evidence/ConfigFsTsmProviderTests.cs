using System.Security.Cryptography;
using CvmControl.Attestation;
using CvmControl.Attestation.Evidence;
using CvmControl.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace CvmControl.Tests.Attestation.Evidence;

public sealed class ConfigFsTsmProviderTests
{
    private static ConfigFsTsmProvider Provider(FakeTsm tsm) => new(tsm, NullLogger<ConfigFsTsmProvider>.Instance);

    private static byte[] ReportData() => RandomNumberGenerator.GetBytes(64);

    [Fact]
    public void Writes_exactly_the_64_bytes_of_report_data_to_inblob_once()
    {
        var tsm = FakeTsm.Snp();
        var reportData = ReportData();

        Provider(tsm).GetEvidence(reportData);

        tsm.Inblobs.Should().ContainSingle().Which.Should().Equal(reportData);
    }

    [Fact]
    public void Returns_the_snp_report_from_outblob_and_the_certificate_table_from_auxblob()
    {
        var table = RandomNumberGenerator.GetBytes(3000);
        var tsm = new FakeTsm { Provider = "sev_guest", Auxblob = _ => table };

        var result = Provider(tsm).GetEvidence(ReportData());

        result.Failure.Should().BeNull();
        result.Evidence!.Provider.Should().Be("sev_guest");
        result.Evidence.Report.Should().Equal(TestVectors.Read("attestation.bin"));
        result.Evidence.AuxBlob.Should().Equal(table);
    }

    [Fact]
    public void The_outblob_is_generated_from_the_inblob_just_written()
    {
        var tsm = FakeTsm.Snp();
        var reportData = ReportData();

        var report = Provider(tsm).GetEvidence(reportData).Evidence!.Report;

        FakeTsm.ReportDataOfSnp(report).Should().Equal(reportData);
    }

    [Fact]
    public void A_tdx_quote_comes_back_without_certificates_when_there_is_no_auxblob()
    {
        var tsm = FakeTsm.Tdx();
        var reportData = ReportData();

        var evidence = Provider(tsm).GetEvidence(reportData).Evidence!;

        evidence.Provider.Should().Be("tdx_guest");
        evidence.Report.Should().HaveCount(4936);
        evidence.Report[FakeTsm.TdxReportDataOffset..(FakeTsm.TdxReportDataOffset + 64)].Should().Equal(reportData);
        evidence.AuxBlob.Should().BeNull();
    }

    [Fact]
    public void An_empty_auxblob_counts_as_no_certificates()
    {
        var tsm = new FakeTsm { Auxblob = _ => [] };

        Provider(tsm).GetEvidence(ReportData()).Evidence!.AuxBlob.Should().BeNull();
    }

    [Fact]
    public void Every_request_uses_a_fresh_entry_and_removes_it()
    {
        var tsm = FakeTsm.Snp();
        var provider = Provider(tsm);

        provider.GetEvidence(ReportData());
        provider.GetEvidence(ReportData());

        tsm.Created.Should().HaveCount(2).And.OnlyHaveUniqueItems().And.AllSatisfy(n => n.Should().StartWith(ConfigFsTsmProvider.EntryPrefix));
        tsm.Removed.Should().Equal(tsm.Created);
        tsm.Live.Should().BeEmpty();
    }

    [Fact]
    public void A_generation_change_during_the_read_is_a_failure_and_the_entry_is_removed()
    {
        var tsm = new FakeTsm { BumpGenerationDuringRead = true };

        var result = Provider(tsm).GetEvidence(ReportData());

        result.Evidence.Should().BeNull();
        result.Failure.Should().Be(AttestationFailure.ProviderFailed);
        result.Error.Should().Be("the attestation report was overwritten while it was read");
        result.Detail.Should().Be("sev_guest: generation went from 1 to 2: another writer used the report entry");
        tsm.Live.Should().BeEmpty();
    }

    [Theory]
    [InlineData("outblob", "sev_guest: reading outblob: Input/output error")]
    [InlineData("inblob", "sev_guest: writing inblob: Input/output error")]
    [InlineData("generation", "sev_guest: reading generation: Input/output error")]
    [InlineData("auxblob", "sev_guest: reading auxblob: Input/output error")]
    public void An_io_error_is_a_provider_failure_and_the_entry_is_still_removed(string failing, string detail)
    {
        var tsm = new FakeTsm { FailOn = failing, Auxblob = _ => [1, 2, 3] };

        var result = Provider(tsm).GetEvidence(ReportData());

        result.Failure.Should().Be(AttestationFailure.ProviderFailed);
        result.Error.Should().Be("the attestation provider failed");
        result.Detail.Should().Be(detail);
        tsm.Created.Should().ContainSingle();
        tsm.Live.Should().BeEmpty();
    }

    [Fact]
    public void A_missing_report_directory_means_no_provider_and_nothing_is_created()
    {
        var tsm = FakeTsm.Absent();

        var result = Provider(tsm).GetEvidence(ReportData());

        result.Failure.Should().Be(AttestationFailure.NoProvider);
        result.Error.Should().Be("no attestation provider");
        result.Detail.Should().Be("configfs-tsm is not available: /sys/kernel/config/tsm/report does not exist");
        tsm.Created.Should().BeEmpty();
    }

    [Fact]
    public void A_provider_that_does_not_answer_means_no_provider_and_nothing_is_written()
    {
        var tsm = new FakeTsm { Provider = null };

        var result = Provider(tsm).GetEvidence(ReportData());

        result.Failure.Should().Be(AttestationFailure.NoProvider);
        result.Error.Should().Be("no configfs-tsm provider");
        result.Detail.Should().Contain("No such device or address");
        tsm.Inblobs.Should().BeEmpty();
        tsm.Live.Should().BeEmpty();
    }

    [Fact]
    public void A_failing_mkdir_is_a_provider_failure()
    {
        var tsm = new FakeTsm { FailOn = "mkdir" };

        var result = Provider(tsm).GetEvidence(ReportData());

        result.Failure.Should().Be(AttestationFailure.ProviderFailed);
        result.Error.Should().Be("cannot create a configfs-tsm report entry");
        tsm.Inblobs.Should().BeEmpty();
    }

    [Fact]
    public void A_failing_rmdir_does_not_spoil_the_evidence()
    {
        var tsm = new FakeTsm { FailOn = "rmdir" };

        var result = Provider(tsm).GetEvidence(ReportData());

        result.Evidence.Should().NotBeNull();
        tsm.Live.Should().ContainSingle();
    }

    [Fact]
    public void An_empty_outblob_is_a_provider_failure()
    {
        var tsm = new FakeTsm { Outblob = _ => [] };

        var result = Provider(tsm).GetEvidence(ReportData());

        result.Failure.Should().Be(AttestationFailure.ProviderFailed);
        result.Error.Should().Be("the attestation provider returned no evidence");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(32)]
    [InlineData(65)]
    public void Report_data_that_is_not_64_bytes_is_a_programming_error(int length)
    {
        var tsm = FakeTsm.Snp();

        var act = () => Provider(tsm).GetEvidence(new byte[length]);

        act.Should().Throw<ArgumentException>();
        tsm.Created.Should().BeEmpty();
    }
}
