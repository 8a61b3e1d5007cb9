using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CvmControl.Attestation.Verification;
using CvmControl.Attestation.Verification.Snp;
using CvmControl.Tests.Attestation.Fakes;

namespace CvmControl.Tests.Attestation.Verification.Snp;

/// <summary>
/// Each way a report's certificate chain, endorsement key or SPL extensions can be wrong is refused
/// with its own reason, and nothing else goes wrong beside it.
/// </summary>
public sealed class SnpChainRefusalTests(SnpProducts amd) : IClassFixture<SnpProducts>
{
    private static readonly byte[] MilanTcb = [3, 0, 0, 0, 0, 0, 8, 115];

    private FakeSnpReport Milan => amd.Milan;

    private static VerificationResult Verify(FakeSnpReport amd, byte[] report, TrustAnchors? anchors = null, DateTimeOffset? at = null, string? minimumTcb = null, params X509Certificate2[] certificates) =>
        EvidenceVerifier.Verify(report, new VerificationOptions
        {
            At = at ?? FakeTdxQuote.ValidAt,
            Anchors = anchors ?? amd.Anchors,
            ExtraCertificates = certificates,
            Tcb = new TcbPolicy { SnpMinimum = minimumTcb is null ? null : TcbVersion.Parse(minimumTcb)!.Value },
        });

    private X509Certificate2 MilanLeaf(LeafShape shape, int hardwareIdLength = 64) => Milan.IssueVcek(MilanTcb, "Milan", hardwareIdLength, shape);

    private static byte[] DerInteger(int value)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteInteger(value);
        return writer.Encode();
    }

    [Fact]
    public void A_report_too_short_to_parse_is_refused_with_its_length()
    {
        var result = Verify(Milan, Milan.Create(new byte[64])[..1000], certificates: Milan.Vcek);

        result.Verified.Should().BeFalse();
        result.Errors.Should().Equal("SEV-SNP report is truncated: 1000 bytes, expected 1184");
        result.Measurement.Should().BeNull();
    }

    [Fact]
    public void A_report_with_R_or_S_wider_than_48_bytes_is_refused_as_malformed()
    {
        var report = Milan.Create(new byte[64]);
        report[0x2A0 + 50] = 1; // R is 72 bytes wide on the wire; only its low 48 may be set.

        var result = Verify(Milan, report, certificates: Milan.Vcek);

        result.Errors.Should().Equal("report signature is malformed: R or S has non-zero bytes above 48");
    }

    [Fact]
    public void When_no_candidate_key_verifies_the_first_candidates_reason_is_given()
    {
        using var p256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var otherP384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var wrongCurve = MilanLeaf(new LeafShape { Key = p256 });
        var wrongKey = MilanLeaf(new LeafShape { Key = otherP384 });

        var result = Verify(Milan, Milan.Create(new byte[64]), certificates: [wrongCurve, wrongKey]);

        result.Errors.Should().Equal("'SEV-VCEK' does not hold an ECDSA P-384 key");
    }

    [Fact]
    public void The_candidate_whose_key_signed_the_report_is_chosen_among_several()
    {
        using var otherP384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var wrongKey = MilanLeaf(new LeafShape { Key = otherP384 });

        var result = Verify(Milan, Milan.Create(new byte[64]), certificates: [wrongKey, Milan.Vcek]);

        result.Errors.Should().BeEmpty();
        result.Verified.Should().BeTrue();
    }

    [Fact]
    public void An_endorsement_key_certificate_that_is_a_CA_is_refused()
    {
        var result = Verify(Milan, Milan.Create(new byte[64]), certificates: MilanLeaf(new LeafShape { IsCa = true }));

        result.Errors.Should().Equal("'SEV-VCEK' is a CA certificate, not an endorsement key");
    }

    [Fact]
    public void A_VCEK_is_known_by_its_subject_name_even_without_a_hwID_and_then_fails_on_the_missing_hwID()
    {
        var result = Verify(Milan, Milan.Create(new byte[64]), certificates: Milan.IssueVcek(MilanTcb, "Milan", hardwareIdLength: 0));

        result.SigningKey.Should().Be("vcek");
        result.Errors.Should().Equal("'SEV-VCEK' has no hwID extension");
    }

    [Fact]
    public void A_certificate_without_endorsement_key_extensions_or_name_is_not_taken_for_a_VCEK()
    {
        var stranger = Milan.IssueVcek(MilanTcb, "Milan", hardwareIdLength: 0, new LeafShape { CommonName = "SEV-Milan-Leaf" });

        var result = Verify(Milan, Milan.Create(new byte[64]), certificates: stranger);

        result.Errors.Should().Equal("no VCEK certificate: pass it with --cert (from AMD's KDS) or --certificates (the SNP certificate table)");
    }

    [Fact]
    public void A_VLEK_is_known_by_its_CSP_ID_extension_and_must_be_issued_by_an_ASVK()
    {
        var vlek = MilanLeaf(new LeafShape { CommonName = "Leaf", CspId = true }, hardwareIdLength: 0);

        var result = Verify(Milan, Milan.Create(new byte[64], signingKey: 1), certificates: vlek);

        result.SigningKey.Should().Be("vlek");
        result.Errors.Should().Equal("a VLEK must be issued by an ASVK (SEV-VLEK-<product>), not by 'SEV-Milan'");
    }

    [Fact]
    public void A_VCEK_issued_by_an_ASVK_is_refused()
    {
        var asvk = Milan.IssueIntermediate("SEV-VLEK-Milan");
        var vcek = MilanLeaf(new LeafShape { Issuer = asvk });

        var result = Verify(Milan, Milan.Create(new byte[64]), certificates: [vcek, asvk]);

        result.Errors.Should().Equal("a VCEK must be issued by an ASK (SEV-<product>), not by 'SEV-VLEK-Milan'");
    }

    [Fact]
    public void An_ASK_that_is_not_a_CA_is_refused()
    {
        var notCa = Milan.IssueIntermediate("SEV-Milan", isCa: false);

        var result = Verify(Milan, Milan.Create(new byte[64]), certificates: [Milan.Vcek, notCa]);

        result.Errors.Should().Equal("'SEV-Milan' is not a CA certificate");
    }

    [Fact]
    public void An_expired_ASK_is_refused_even_when_the_VCEK_and_ARK_are_valid()
    {
        var shortLived = Milan.IssueIntermediate("SEV-Milan", notAfter: new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var at = new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

        var result = Verify(Milan, Milan.Create(new byte[64]), at: at, certificates: [Milan.Vcek, shortLived]);

        result.Errors.Should().Equal("'SEV-Milan' expired at 2025-01-01T00:00:00Z (verification time 2026-06-01T00:00:00Z; use --at to verify an old report)");
    }

    [Fact]
    public void Without_an_ASK_the_chain_stops_with_the_missing_issuers_name()
    {
        var result = Verify(Milan, Milan.Create(new byte[64]), anchors: Milan.AnchorsPinning(Milan.Ark, Milan.Ark), certificates: Milan.Vcek);

        result.Errors.Should().Equal($"no issuer certificate for 'SEV-VCEK': nothing supplied or embedded is named '{Milan.Ask.Subject}'");
        result.Product.Should().Be("Milan", "a version 3 report names its product in CPUID");
    }

    [Fact]
    public void Without_an_ARK_the_chain_stops_with_the_missing_roots_name()
    {
        var result = Verify(Milan, Milan.Create(new byte[64]), anchors: Milan.AnchorsPinning(Milan.Ark, Milan.Ask), certificates: Milan.Vcek);

        result.Errors.Should().Equal($"no issuer certificate for 'SEV-Milan': nothing supplied or embedded is named '{Milan.Ark.Subject}'");
    }

    [Fact]
    public void A_pinned_ARK_whose_self_signature_does_not_verify_is_refused()
    {
        var badArk = Milan.BadlySelfSignedArk();

        var result = Verify(Milan, Milan.Create(new byte[64]), anchors: Milan.AnchorsPinning(badArk, Milan.Ask, badArk), certificates: Milan.Vcek);

        result.Errors.Should().Equal("the signature on 'ARK-Milan' does not verify with the key of 'ARK-Milan'");
    }

    [Fact]
    public void A_look_alike_ARK_from_the_host_does_not_shadow_the_pinned_one()
    {
        var lookAlike = Milan.LookAlikeArk();

        var result = Verify(Milan, Milan.Create(new byte[64]), certificates: [Milan.Vcek, lookAlike]);

        result.Errors.Should().BeEmpty();
        result.Product.Should().Be("Milan");
    }

    [Fact]
    public void A_version_3_report_whose_CPUID_names_another_product_than_its_chain_is_refused_and_keeps_the_CPUID_product()
    {
        var report = Milan.Create(new byte[64]);
        (report[0x188], report[0x189]) = (0x19, 0x11); // Genoa's family and model; signed, so the signature breaks too.

        var result = Verify(Milan, report, certificates: Milan.Vcek);

        result.Errors.Should().Contain("the report's CPUID says Genoa, but its certificate chain ends at ARK-Milan");
        result.Product.Should().Be("Genoa");
    }

    [Fact]
    public void A_version_2_report_takes_its_product_from_the_chain()
    {
        var result = Verify(Milan, Milan.Create(new byte[64], version: 2), certificates: Milan.Vcek);

        result.Errors.Should().BeEmpty();
        result.Product.Should().Be("Milan");
    }

    [Fact]
    public void A_minimum_TCB_cannot_be_checked_when_the_product_is_unknown()
    {
        var withMinimum = Verify(Milan, Milan.Create(new byte[64], version: 2), minimumTcb: "0:0:0:0");
        var withoutMinimum = Verify(Milan, Milan.Create(new byte[64], version: 2));

        withMinimum.Product.Should().BeNull();
        withoutMinimum.ReportedTcb.Should().BeNull("REPORTED_TCB cannot be read without knowing the product");
        withMinimum.Errors.Should().Equal(
            "no VCEK certificate: pass it with --cert (from AMD's KDS) or --certificates (the SNP certificate table)",
            "cannot check --min-tcb: the report's product, and so the layout of REPORTED_TCB, is unknown");
        withoutMinimum.Errors.Should().ContainSingle().Which.Should().StartWith("no VCEK certificate");
    }

    [Fact]
    public void A_TEE_level_below_the_minimum_is_named()
    {
        var result = Verify(Milan, Milan.Create(new byte[64]), minimumTcb: "3:1:8:115", certificates: Milan.Vcek);

        result.Errors.Should().Equal("REPORTED_TCB 3:0:8:115 (bl:tee:snp:ucode) is below the minimum 3:1:8:115: TEE SPL 0 < 1");
    }

    [Theory]
    [InlineData("2", "TEE")]
    [InlineData("8", "microcode")]
    public void A_VCEK_without_an_SPL_extension_is_refused_by_its_name(string suffix, string name)
    {
        var leaf = MilanLeaf(new LeafShape { SplValues = new Dictionary<string, byte[]> { [suffix] = [] } });

        var result = Verify(Milan, Milan.Create(new byte[64]), certificates: leaf);

        result.Errors.Should().Equal($"'SEV-VCEK' has no {name} SPL extension (1.3.6.1.4.1.3704.1.3.{suffix})");
    }

    [Fact]
    public void An_SPL_extension_with_bytes_after_its_INTEGER_is_malformed()
    {
        byte[] trailing = [.. DerInteger(3), 0x00];
        var leaf = MilanLeaf(new LeafShape { SplValues = new Dictionary<string, byte[]> { ["1"] = trailing } });

        var result = Verify(Milan, Milan.Create(new byte[64]), certificates: leaf);

        result.Errors.Should().Equal("'SEV-VCEK' has a malformed bootloader SPL extension: trailing bytes after the INTEGER");
    }

    [Fact]
    public void An_SPL_extension_that_is_no_INTEGER_is_malformed()
    {
        var leaf = MilanLeaf(new LeafShape { SplValues = new Dictionary<string, byte[]> { ["3"] = [0x04, 0x01, 0x08] } });

        var result = Verify(Milan, Milan.Create(new byte[64]), certificates: leaf);

        result.Errors.Should().ContainSingle().Which.Should().StartWith("'SEV-VCEK' has a malformed SNP SPL extension: ");
    }

    [Fact]
    public void An_8_byte_hwID_matches_a_Turin_CHIP_ID_only_when_the_rest_of_it_is_zero()
    {
        var report = amd.Turin.Create(new byte[64]);
        report[0x1A0 + 20] = 1; // signed: the signature breaks too, and the hwID must not match either.

        var result = Verify(amd.Turin, report, certificates: amd.Turin.Vcek);

        result.Errors.Should().Contain(e => e.StartsWith("the VCEK's hwID 0707070707070707 does not match the report's CHIP_ID", StringComparison.Ordinal));
    }

    [Fact]
    public void An_8_byte_hwID_never_matches_a_Milan_CHIP_ID()
    {
        var shortId = Milan.IssueVcek(MilanTcb, "Milan", hardwareIdLength: 8);

        var result = Verify(Milan, Milan.Create(new byte[64]), certificates: shortId);

        result.Errors.Should().ContainSingle().Which.Should().StartWith($"the VCEK's hwID {Convert.ToHexStringLower(Milan.ChipId.AsSpan(0, 8))} does not match");
    }

    [Fact]
    public void A_certificate_with_a_hwID_extension_is_a_VCEK_whatever_its_name()
    {
        var result = Verify(Milan, Milan.Create(new byte[64]), certificates: MilanLeaf(new LeafShape { CommonName = "Leaf" }));

        result.Errors.Should().BeEmpty();
        result.SigningKey.Should().Be("vcek");
    }

    [Fact]
    public void A_VLEK_is_known_by_its_subject_name_even_without_a_CSP_ID()
    {
        var vlek = MilanLeaf(new LeafShape { CommonName = "SEV-VLEK" }, hardwareIdLength: 0);

        var result = Verify(Milan, Milan.Create(new byte[64], signingKey: 1), certificates: vlek);

        result.Errors.Should().Equal("a VLEK must be issued by an ASVK (SEV-VLEK-<product>), not by 'SEV-Milan'");
    }

    [Fact]
    public void An_expired_pinned_ARK_is_refused()
    {
        var shortLived = Milan.LookAlikeArk(notAfter: new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

        var result = Verify(Milan, Milan.Create(new byte[64]), anchors: Milan.AnchorsPinning(shortLived, Milan.Ask, shortLived), at: new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero), certificates: Milan.Vcek);

        result.Errors.Should().Equal("'ARK-Milan' expired at 2025-01-01T00:00:00Z (verification time 2026-06-01T00:00:00Z; use --at to verify an old report)");
    }

    [Fact]
    public void An_ASK_by_the_right_name_but_another_key_is_refused_for_its_signature()
    {
        using var otherKey = RSA.Create(1024);
        var impostor = Milan.IssueIntermediate("SEV-Milan", key: otherKey);

        var result = Verify(Milan, Milan.Create(new byte[64]), anchors: Milan.AnchorsPinning(Milan.Ark, impostor, Milan.Ark), certificates: Milan.Vcek);

        result.Errors.Should().Equal("the signature on 'SEV-VCEK' does not verify with the key of 'SEV-Milan'");
    }

    [Fact]
    public void A_Turin_VCEK_whose_FMC_SPL_differs_from_the_reported_TCB_fails_on_that_field_alone()
    {
        var certified = amd.Turin.ReportedTcb.ToArray();
        certified[0]++;
        var otherVcek = amd.Turin.IssueVcek(certified, "Turin", hardwareIdLength: 8);

        var result = Verify(amd.Turin, amd.Turin.Create(new byte[64]), certificates: otherVcek);

        result.Errors.Should().Equal($"FMC SPL is {certified[0]} in 'SEV-VCEK' but {amd.Turin.ReportedTcb[0]} in REPORTED_TCB");
    }
}
