using CvmControl.Attestation.Verification;
using CvmControl.Attestation.Verification.Snp;
using CvmControl.Tests.Attestation.Fakes;

namespace CvmControl.Tests.Attestation.Verification.Snp;

/// <summary>One fake AMD per product for the whole class: RSA key generation is the slow part.</summary>
public sealed class SnpProducts : IDisposable
{
    internal FakeSnpReport Milan { get; } = new("Milan", reportedTcb: [3, 0, 0, 0, 0, 0, 8, 115]);

    internal FakeSnpReport Genoa { get; } = new("Genoa", reportedTcb: [3, 0, 0, 0, 0, 0, 8, 115]);

    // Turin: [0] FMC, [1] BL, [2] TEE, [3] SNP, [7] UCODE.
    internal FakeSnpReport Turin { get; } = new("Turin", reportedTcb: [1, 4, 0, 22, 0, 0, 0, 70], chipId: [.. new byte[] { 7, 7, 7, 7, 7, 7, 7, 7 }, .. new byte[56]], hardwareIdLength: 8);

    public void Dispose()
    {
        Milan.Dispose();
        Genoa.Dispose();
        Turin.Dispose();
    }
}

public sealed class SnpMinimumTcbTests(SnpProducts amd) : IClassFixture<SnpProducts>
{
    private static VerificationResult Verify(FakeSnpReport amd, string? minimum) =>
        EvidenceVerifier.Verify(amd.Create(new byte[64]), new VerificationOptions
        {
            At = FakeTdxQuote.ValidAt,
            Anchors = amd.Anchors,
            ExtraCertificates = [amd.Vcek],
            Tcb = new TcbPolicy { SnpMinimum = minimum is null ? null : TcbVersion.Parse(minimum)!.Value },
        });

    [Theory]
    [InlineData("3:0:8:115")]
    [InlineData("0:0:0:0")]
    [InlineData("2:0:7:100")]
    public void Milan_REPORTED_TCB_at_or_above_the_minimum_passes(string minimum)
    {
        var result = Verify(amd.Milan, minimum);

        result.Errors.Should().BeEmpty();
        result.ReportedTcb.Should().Be(new TcbVersion(null, 3, 0, 8, 115));
    }

    [Fact]
    public void Milan_REPORTED_TCB_below_the_minimum_names_every_level_short()
    {
        var result = Verify(amd.Milan, "4:0:8:209");

        result.Errors.Should().Equal("REPORTED_TCB 3:0:8:115 (bl:tee:snp:ucode) is below the minimum 4:0:8:209: bootloader SPL 3 < 4; microcode SPL 115 < 209");
    }

    [Fact]
    public void Turin_is_read_in_its_own_layout_and_its_FMC_level_counts()
    {
        var passes = Verify(amd.Turin, "4:0:22:70:1");
        var fmcShort = Verify(amd.Turin, "4:0:22:70:2");
        var snpShort = Verify(amd.Turin, "4:0:23:70");

        passes.Errors.Should().BeEmpty();
        passes.ReportedTcb.Should().Be(new TcbVersion(1, 4, 0, 22, 70));
        fmcShort.Errors.Should().Equal("REPORTED_TCB 4:0:22:70:1 (bl:tee:snp:ucode:fmc) is below the minimum 4:0:22:70:2: FMC SPL 1 < 2");
        snpShort.Errors.Should().Equal("REPORTED_TCB 4:0:22:70:1 (bl:tee:snp:ucode:fmc) is below the minimum 4:0:23:70: SNP SPL 22 < 23");
    }

    [Fact]
    public void An_FMC_minimum_for_a_product_without_FMC_fails()
    {
        var result = Verify(amd.Genoa, "3:0:8:115:1");

        result.Errors.Should().Equal("REPORTED_TCB 3:0:8:115 (bl:tee:snp:ucode) is below the minimum 3:0:8:115:1: Genoa has no FMC level, but the minimum names one (1)");
    }

    [Fact]
    public void A_minimum_on_a_TDX_quote_fails()
    {
        var fake = FakeTdxQuote.Create(new byte[64]);

        var result = EvidenceVerifier.Verify(fake.Quote, fake.Options() with { Tcb = new TcbPolicy { SnpMinimum = new TcbVersion(null, 1, 1, 1, 1) } });

        result.Errors.Should().Equal("--min-tcb applies to SEV-SNP reports; this is a TDX quote (use --tcb-info and --qe-identity)");
    }

    [Theory]
    [InlineData("1:2:3:4", "1:2:3:4")]
    [InlineData("1:2:3:4:5", "1:2:3:4:5")]
    [InlineData("255:0:0:0", "255:0:0:0")]
    [InlineData("1:2:3", null)]
    [InlineData("1:2:3:4:5:6", null)]
    [InlineData("256:0:0:0", null)]
    [InlineData("-1:0:0:0", null)]
    [InlineData("a:b:c:d", null)]
    [InlineData(" 1:2:3:4", null)]
    public void Minimums_parse_as_four_or_five_bytes(string text, string? parsed) =>
        (TcbVersion.Parse(text)?.ToString()).Should().Be(parsed);
}
