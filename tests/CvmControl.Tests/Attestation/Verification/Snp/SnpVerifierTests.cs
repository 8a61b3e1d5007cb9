using System.Buffers.Binary;
using System.Security.Cryptography.X509Certificates;
using CvmControl.Attestation.Verification;
using CvmControl.Attestation.Verification.Snp;
using CvmControl.Tests.Attestation.Fakes;
using FluentAssertions;
using Xunit;

namespace CvmControl.Tests.Attestation.Verification.Snp;

public sealed class SnpVerifierTests
{
    private const string GoSevGuestMeasurement = "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01";

    private static readonly byte[] VlekReport = TestVectors.Read("test-vlek-report.bin");
    private static readonly byte[] VcekReport = TestVectors.Read("attestation.bin");
    private static readonly X509Certificate2 VlekCertificate = X509CertificateLoader.LoadCertificate(TestVectors.Read("test-vlek.der"));
    private static readonly X509Certificate2 VcekCertificate = X509CertificateLoader.LoadCertificate(TestVectors.Read("vcek.testcer"));

    private static VerificationOptions Options(X509Certificate2? certificate, DateTimeOffset? at = null, bool allowDebug = false) => new()
    {
        At = at ?? TestVectors.WhenAllValid,
        AllowDebug = allowDebug,
        ExtraCertificates = certificate is null ? [] : [certificate],
    };

    [Fact]
    public void AWS_VLEK_report_verifies_through_the_ASVK_to_the_pinned_Milan_ARK()
    {
        var result = EvidenceVerifier.Verify(VlekReport, Options(VlekCertificate));

        result.Errors.Should().BeEmpty();
        result.Verified.Should().BeTrue();
        result.Kind.Should().Be(EvidenceKind.SevSnp);
        result.Product.Should().Be("Milan");
        result.SigningKey.Should().Be("vlek");
        result.ReportData.Should().Equal(VlekReport.AsSpan(0x50, 64).ToArray());
        result.Measurement.Should().Equal(VlekReport.AsSpan(0x90, 48).ToArray());
    }

    [Fact]
    public void VLEK_report_fails_after_the_VLEK_expired_and_says_so()
    {
        var result = EvidenceVerifier.Verify(VlekReport, Options(VlekCertificate, at: new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero)));

        result.Verified.Should().BeFalse();
        result.Errors.Should().ContainSingle().Which.Should().Contain("expired at 2025-12-10T22:14:21Z");
    }

    [Fact]
    public void Debug_VCEK_report_fails_by_default_for_its_policy_alone()
    {
        var result = EvidenceVerifier.Verify(VcekReport, Options(VcekCertificate));

        result.Verified.Should().BeFalse();
        result.Errors.Should().ContainSingle().Which.Should().Contain("DEBUG");
        result.Product.Should().Be("Milan");
        result.SigningKey.Should().Be("vcek");
    }

    [Fact]
    public void Debug_VCEK_report_verifies_with_allow_debug_and_shows_the_stated_fields()
    {
        var result = EvidenceVerifier.Verify(VcekReport, Options(VcekCertificate, allowDebug: true));

        result.Errors.Should().BeEmpty();
        result.Verified.Should().BeTrue();
        Convert.ToHexStringLower(result.Measurement!).Should().Be(GoSevGuestMeasurement);
        result.ReportData.Should().Equal([1, 2, 3, 4, 5, .. new byte[59]]);
    }

    [Fact]
    public void Every_single_byte_flip_in_the_signed_part_of_a_report_fails()
    {
        foreach (var (report, certificate) in new[] { (VlekReport, VlekCertificate), (VcekReport, VcekCertificate) })
        {
            var options = Options(certificate, allowDebug: true);
            for (var offset = 0; offset < SnpReport.SignedLength; offset++)
            {
                var tampered = report.ToArray();
                tampered[offset] ^= 0x01;
                var result = EvidenceVerifier.Verify(tampered, options);
                result.Verified.Should().BeFalse($"a flip at 0x{offset:x3} must not verify");
            }
        }
    }

    [Fact]
    public void Every_truncation_of_a_report_fails_cleanly()
    {
        for (var length = 0; length < VlekReport.Length; length++)
        {
            var result = EvidenceVerifier.Verify(VlekReport.AsSpan(0, length), Options(VlekCertificate));
            result.Verified.Should().BeFalse();
            result.Errors.Should().NotBeEmpty();
        }
    }

    [Fact]
    public void A_report_fails_when_its_ARK_is_not_the_pinned_one()
    {
        var wrongPins = new Dictionary<string, string>(TrustAnchors.AmdArkPins) { ["Milan"] = new string('0', 64) };
        var options = Options(VlekCertificate) with { Anchors = new TrustAnchors(wrongPins, [TrustAnchors.IntelSgxRootCaPin], TrustAnchors.Vendor.Embedded) };

        var result = EvidenceVerifier.Verify(VlekReport, options);

        result.Verified.Should().BeFalse();
        result.Errors.Should().ContainSingle().Which.Should().Contain("'ARK-Milan' is not a pinned AMD root");
    }

    [Fact]
    public void A_report_without_its_signing_certificate_fails_and_says_how_to_supply_it()
    {
        var result = EvidenceVerifier.Verify(VlekReport, Options(null));

        result.Verified.Should().BeFalse();
        result.Errors.Should().ContainSingle().Which.Should().Contain("no VLEK certificate").And.Contain("--cert");
    }

    [Fact]
    public void A_VCEK_offered_for_a_VLEK_signed_report_fails()
    {
        var result = EvidenceVerifier.Verify(VlekReport, Options(VcekCertificate));

        result.Verified.Should().BeFalse();
        result.Errors.Should().Contain(e => e.Contains("KEY_INFO says a VLEK signed this report, but the certificate supplied is a VCEK", StringComparison.Ordinal));
    }

    [Fact]
    public void Expected_report_data_must_match()
    {
        var good = EvidenceVerifier.Verify(VlekReport, Options(VlekCertificate) with { ExpectedReportData = VlekReport.AsSpan(0x50, 64).ToArray() });
        var bad = EvidenceVerifier.Verify(VlekReport, Options(VlekCertificate) with { ExpectedReportData = new byte[64] });

        good.Verified.Should().BeTrue();
        bad.Verified.Should().BeFalse();
        bad.Errors.Should().ContainSingle().Which.Should().StartWith("REPORT_DATA does not match the expected value");
    }

    [Fact]
    public void Expected_measurement_must_match()
    {
        var good = EvidenceVerifier.Verify(VcekReport, Options(VcekCertificate, allowDebug: true) with { ExpectedMeasurement = Convert.FromHexString(GoSevGuestMeasurement) });
        var bad = EvidenceVerifier.Verify(VcekReport, Options(VcekCertificate, allowDebug: true) with { ExpectedMeasurement = new byte[48] });

        good.Verified.Should().BeTrue();
        bad.Errors.Should().ContainSingle().Which.Should().StartWith("MEASUREMENT does not match the expected measurement (evidence has b07af962");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_certificate_table_from_the_host_supplies_the_VLEK_in_either_GUID_byte_order(bool bigEndianGuids)
    {
        var asvk = TrustAnchors.Vendor.Embedded.Single(c => c.Subject.Contains("CN=SEV-VLEK-Milan", StringComparison.Ordinal));
        var table = FakeSnpReport.CertificateTable(bigEndianGuids, (SnpCertificateTable.Vlek, VlekCertificate.RawData), (SnpCertificateTable.AskOrAsvk, asvk.RawData));

        var result = EvidenceVerifier.Verify(VlekReport, Options(null) with { CertificateTable = table });

        result.Errors.Should().BeEmpty();
        result.SigningKey.Should().Be("vlek");
    }

    [Fact]
    public void A_certificate_table_entry_pointing_outside_the_table_is_an_error_not_an_exception()
    {
        var table = FakeSnpReport.CertificateTable(true, (SnpCertificateTable.Vlek, VlekCertificate.RawData));
        BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(20), 1_000_000);

        var result = EvidenceVerifier.Verify(VlekReport, Options(null) with { CertificateTable = table });

        result.Verified.Should().BeFalse();
        result.Errors.Should().Contain(e => e.Contains("lies outside", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_truncation_of_a_certificate_table_fails_cleanly()
    {
        var table = FakeSnpReport.CertificateTable(true, (SnpCertificateTable.Vlek, VlekCertificate.RawData));
        for (var length = 0; length < table.Length; length++)
        {
            var result = EvidenceVerifier.Verify(VlekReport, Options(null) with { CertificateTable = table[..length] });
            result.Verified.Should().BeFalse();
        }
    }

    [Theory]
    [InlineData("Milan")]
    [InlineData("Genoa")]
    public void A_version_3_report_takes_its_product_from_CPUID(string product)
    {
        using var amd = new FakeSnpReport(product);
        var reportData = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();

        var result = EvidenceVerifier.Verify(amd.Create(reportData), Options(amd.Vcek) with { Anchors = amd.Anchors, ExpectedReportData = reportData });

        result.Errors.Should().BeEmpty();
        result.Product.Should().Be(product);
        result.Measurement.Should().Equal(FakeSnpReport.Measurement);
    }

    [Fact]
    public void The_vmpl_is_reported_and_an_expected_one_must_match()
    {
        var matching = EvidenceVerifier.Verify(VlekReport, Options(VlekCertificate) with { ExpectedVmpl = 1 });
        var other = EvidenceVerifier.Verify(VlekReport, Options(VlekCertificate) with { ExpectedVmpl = 0 });

        matching.Vmpl.Should().Be(1);
        matching.Verified.Should().BeTrue();
        other.Verified.Should().BeFalse();
        other.Errors.Should().ContainSingle().Which.Should().Be("VMPL is 1, expected 0: the report was requested from another privilege level than the one expected");
    }

    [Theory]
    [InlineData(2u, null, true)]
    [InlineData(3u, 3u, true)]
    [InlineData(0u, 2u, false)]
    [InlineData(4u, null, false)]
    [InlineData(0xFFFFFFFFu, null, false)]
    public void A_signed_report_from_any_vmpl_verifies_unless_it_is_not_a_vmpl_or_not_the_expected_one(uint vmpl, uint? expected, bool verified)
    {
        using var amd = new FakeSnpReport("Milan");

        var result = EvidenceVerifier.Verify(amd.Create(new byte[64], vmpl: vmpl), Options(amd.Vcek) with { Anchors = amd.Anchors, ExpectedVmpl = expected });

        result.Vmpl.Should().Be(vmpl);
        result.Verified.Should().Be(verified, string.Join("; ", result.Errors));
        if (vmpl > 3)
        {
            result.Errors.Should().ContainSingle().Which.Should().Be($"VMPL is {vmpl}; SEV-SNP has only VMPL 0 to 3");
        }
    }

    [Fact]
    public void A_Turin_report_uses_the_Turin_TCB_layout_and_8_byte_chip_id()
    {
        byte[] chipId = [.. Enumerable.Range(1, 8).Select(i => (byte)i), .. new byte[56]];
        // FMC 1, BL 2, TEE 3, SNP 4, UCODE 9: in the Milan layout these bytes would read BL 1, TEE 2, SNP 0.
        using var amd = new FakeSnpReport("Turin", reportedTcb: [1, 2, 3, 4, 0, 0, 0, 9], chipId: chipId, hardwareIdLength: 8);

        var result = EvidenceVerifier.Verify(amd.Create(new byte[64]), Options(amd.Vcek) with { Anchors = amd.Anchors });

        result.Errors.Should().BeEmpty();
        result.Product.Should().Be("Turin");
    }

    [Fact]
    public void A_VCEK_whose_SNP_SPL_differs_from_the_reported_TCB_fails_on_that_field_alone()
    {
        using var amd = new FakeSnpReport("Genoa", reportedTcb: [3, 0, 0, 0, 0, 0, 8, 115]);
        var newerVcek = amd.IssueVcek([3, 0, 0, 0, 0, 0, 9, 115], layout: "Genoa");

        var result = EvidenceVerifier.Verify(amd.Create(new byte[64]), Options(newerVcek) with { Anchors = amd.Anchors });

        result.Errors.Should().ContainSingle().Which.Should().Be("SNP SPL is 9 in 'SEV-VCEK' but 8 in REPORTED_TCB");
    }

    [Fact]
    public void A_Turin_report_read_with_the_Milan_TCB_layout_would_not_match_its_VCEK()
    {
        byte[] tcb = [1, 2, 3, 4, 0, 0, 0, 9];
        using var turin = new FakeSnpReport("Turin", reportedTcb: tcb, chipId: [.. new byte[] { 9, 9, 9, 9, 9, 9, 9, 9 }, .. new byte[56]], hardwareIdLength: 8);
        var milanReadingVcek = turin.IssueVcek(tcb, layout: "Milan", hardwareIdLength: 8);

        var right = EvidenceVerifier.Verify(turin.Create(new byte[64]), Options(turin.Vcek) with { Anchors = turin.Anchors });
        var wrong = EvidenceVerifier.Verify(turin.Create(new byte[64]), Options(milanReadingVcek) with { Anchors = turin.Anchors });

        right.Errors.Should().BeEmpty();
        wrong.Errors.Should().Contain(e => e.StartsWith("bootloader SPL is 1", StringComparison.Ordinal))
            .And.Contain(e => e.StartsWith("SNP SPL is 0", StringComparison.Ordinal));
    }

    [Fact]
    public void A_VCEK_for_another_chip_fails_on_the_hardware_id()
    {
        using var amd = new FakeSnpReport("Milan");
        var report = amd.Create(new byte[64]);
        report[0x1A0] ^= 0xFF; // CHIP_ID is signed, so this also breaks the signature: both must be reported.

        var result = EvidenceVerifier.Verify(report, Options(amd.Vcek) with { Anchors = amd.Anchors });

        result.Errors.Should().Contain(e => e.Contains("does not match the report's CHIP_ID", StringComparison.Ordinal));
        result.Errors.Should().Contain(e => e.Contains("report signature does not verify", StringComparison.Ordinal));
    }

    [Fact]
    public void A_fake_AMD_chain_fails_against_the_real_pins()
    {
        using var amd = new FakeSnpReport("Milan");

        var result = EvidenceVerifier.Verify(amd.Create(new byte[64]), Options(amd.Vcek) with { ExtraCertificates = [amd.Vcek, amd.Ask, amd.Ark] });

        result.Verified.Should().BeFalse();
        result.Errors.Should().Contain(e => e.Contains("is not a pinned AMD root", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1, "TEE SPL is 1 in 'SEV-VCEK' but 0 in REPORTED_TCB")]
    [InlineData(7, "microcode SPL is 116 in 'SEV-VCEK' but 115 in REPORTED_TCB")]
    public void A_VCEK_whose_TEE_or_microcode_SPL_differs_from_the_reported_TCB_fails_on_that_field_alone(int index, string error)
    {
        byte[] reported = [3, 0, 0, 0, 0, 0, 8, 115];
        using var amd = new FakeSnpReport("Genoa", reportedTcb: reported);
        var certified = reported.ToArray();
        certified[index]++;
        var otherVcek = amd.IssueVcek(certified, layout: "Genoa");

        var result = EvidenceVerifier.Verify(amd.Create(new byte[64]), Options(otherVcek) with { Anchors = amd.Anchors });

        result.Errors.Should().ContainSingle().Which.Should().Be(error);
    }

    // The fields below are signed, so changing them after signing also breaks the signature: the
    // field's own refusal must be among the errors, and the report must not verify.
    [Fact]
    public void A_report_with_a_signature_algorithm_other_than_ECDSA_P384_is_refused_by_name()
    {
        using var amd = new FakeSnpReport("Milan");
        var report = amd.Create(new byte[64]);
        BinaryPrimitives.WriteUInt32LittleEndian(report.AsSpan(0x034), 2);

        var result = EvidenceVerifier.Verify(report, Options(amd.Vcek) with { Anchors = amd.Anchors });

        result.Verified.Should().BeFalse();
        result.Errors.Should().Contain("SIGNATURE_ALGO is 2, expected 1 (ECDSA P-384 with SHA-384)");
    }

    [Theory]
    [InlineData(7u, "KEY_INFO says no key signed this report (SIGNING_KEY=7)")]
    [InlineData(3u, "KEY_INFO names an unknown signing key (3)")]
    public void A_report_signed_by_no_key_or_an_unknown_one_is_refused_by_name(uint signingKey, string error)
    {
        using var amd = new FakeSnpReport("Milan");
        var report = amd.Create(new byte[64]);
        BinaryPrimitives.WriteUInt32LittleEndian(report.AsSpan(0x048), signingKey << 2);

        var result = EvidenceVerifier.Verify(report, Options(amd.Vcek) with { Anchors = amd.Anchors });

        result.Verified.Should().BeFalse();
        result.SigningKey.Should().BeNull();
        result.Errors.Should().Equal(error); // and no certificate is looked at for it
    }

    [Fact]
    public void A_version_3_report_whose_CPUID_is_no_known_product_is_refused_by_name()
    {
        using var amd = new FakeSnpReport("Milan");
        var report = amd.Create(new byte[64], version: 3);
        (report[0x188], report[0x189]) = (0x17, 0x31);

        var result = EvidenceVerifier.Verify(report, Options(amd.Vcek) with { Anchors = amd.Anchors });

        result.Verified.Should().BeFalse();
        result.Errors.Should().Contain("report CPUID family 0x17 model 0x31 is not a known SEV-SNP product (Milan, Genoa, Turin)");
    }
}
