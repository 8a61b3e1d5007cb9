using CvmControl.Attestation.Verification;
using CvmControl.Attestation.Verification.Tdx;
using CvmControl.Tests.Attestation.Fakes;

namespace CvmControl.Tests.Attestation.Verification.Tdx;

/// <summary>
/// Intel's TDX TCB rules, with quotes and collateral from the fake Intel so that every SVN, status
/// and identity can be set, and with the real quote and collateral pair for the real thing.
/// </summary>
public sealed class IntelTcbEvaluatorTests : IDisposable
{
    /// <summary>Inside the validity of the real collateral (2025-10-27 to 2025-11-26) and of quote 6's PCK.</summary>
    private static readonly DateTimeOffset RealCollateralValid = new(2025, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly FakeQuoteSpec Spec = new() { TeeTcbSvn = FakeTcbLevel.Svns(5, 3, 2) };

    private readonly FakeIntel _intel = new();

    public void Dispose() => _intel.Dispose();

    private VerificationResult Judge(FakeQuoteSpec? spec = null, string? tcbInfo = null, string? qeIdentity = null, TcbStatus minimum = TcbStatus.SWHardeningNeeded) =>
        EvidenceVerifier.Verify(_intel.Quote(spec ?? Spec, out _), new VerificationOptions
        {
            At = FakeTdxQuote.ValidAt,
            Anchors = _intel.Anchors,
            Tcb = new TcbPolicy
            {
                IntelTcbInfo = _intel.SignCollateral("tcbInfo", tcbInfo ?? FakeCollateral.TcbInfo()),
                IntelQeIdentity = _intel.SignCollateral("enclaveIdentity", qeIdentity ?? FakeCollateral.QeIdentity()),
                MinimumStatus = minimum,
            },
        });

    private static VerificationResult JudgeReal(string quote, DateTimeOffset at, TcbStatus minimum = TcbStatus.SWHardeningNeeded, bool allowStale = false, byte[]? tcbInfo = null) =>
        EvidenceVerifier.Verify(TestVectors.Read(quote), new VerificationOptions
        {
            At = at,
            Tcb = new TcbPolicy
            {
                IntelTcbInfo = tcbInfo ?? TestVectors.Read("tcbInfo.json"),
                IntelQeIdentity = TestVectors.Read("enclaveIdentity.json"),
                MinimumStatus = minimum,
                AllowStaleCollateral = allowStale,
            },
        });

    [Fact]
    public void The_real_quote_is_OutOfDate_by_its_real_collateral_and_fails_the_default_minimum()
    {
        var result = JudgeReal("tdx_quote_6.dat", RealCollateralValid);

        result.IntelTcb.Should().BeEquivalentTo(new IntelTcbAssessment
        {
            Status = TcbStatus.OutOfDate,
            PlatformStatus = TcbStatus.OutOfDate,
            ModuleStatus = TcbStatus.UpToDate,
            QeStatus = TcbStatus.UpToDate,
            AdvisoryIds = [],
            Fmspc = Convert.FromHexString("00a06d080000"),
            TcbDate = new DateTimeOffset(2018, 1, 4, 0, 0, 0, TimeSpan.Zero),
            EvaluationDataNumber = 17,
        });
        result.Errors.Should().Equal("the TCB status is OutOfDate (platform OutOfDate, TDX module UpToDate, QE UpToDate; no advisories), worse than the minimum SWHardeningNeeded: update the platform, or accept it with --min-tcb-status OutOfDate");
    }

    [Fact]
    public void The_real_quote_verifies_when_OutOfDate_is_accepted()
    {
        var result = JudgeReal("tdx_quote_6.dat", RealCollateralValid, TcbStatus.OutOfDate);

        result.Errors.Should().BeEmpty();
        result.Verified.Should().BeTrue();
    }

    [Fact]
    public void Real_collateral_past_its_next_update_is_stale_unless_allowed()
    {
        var at = new DateTimeOffset(2025, 12, 1, 0, 0, 0, TimeSpan.Zero);

        var stale = JudgeReal("tdx_quote_6.dat", at, TcbStatus.OutOfDate);
        var allowed = JudgeReal("tdx_quote_6.dat", at, TcbStatus.OutOfDate, allowStale: true);

        stale.Errors.Should().Equal(
            "tcbInfo is stale: its nextUpdate 2025-11-26T13:07:17Z is before the verification time 2025-12-01T00:00:00Z; fetch it again from Intel PCS (or pass --allow-stale-collateral)",
            "enclaveIdentity is stale: its nextUpdate 2025-11-27T06:45:09Z is before the verification time 2025-12-01T00:00:00Z; fetch it again from Intel PCS (or pass --allow-stale-collateral)");
        stale.IntelTcb!.Status.Should().Be(TcbStatus.OutOfDate, "the verdict is shown even though it is refused");
        allowed.Errors.Should().BeEmpty();
        allowed.IntelTcb!.Status.Should().Be(TcbStatus.OutOfDate);
    }

    [Fact]
    public void Collateral_is_fresh_until_the_second_of_its_next_update()
    {
        var nextUpdate = new DateTimeOffset(2025, 11, 26, 13, 7, 17, TimeSpan.Zero); // tcbInfo.json's nextUpdate

        var atNextUpdate = JudgeReal("tdx_quote_6.dat", nextUpdate, TcbStatus.OutOfDate);
        var secondAfter = JudgeReal("tdx_quote_6.dat", nextUpdate.AddSeconds(1), TcbStatus.OutOfDate);

        atNextUpdate.Errors.Should().BeEmpty();
        secondAfter.Errors.Should().ContainSingle().Which.Should().StartWith("tcbInfo is stale: its nextUpdate 2025-11-26T13:07:17Z is before the verification time 2025-11-26T13:07:18Z");
    }

    [Fact]
    public void Real_collateral_for_another_FMSPC_fails_naming_both()
    {
        var result = JudgeReal("tdx_quote_5.dat", RealCollateralValid);

        result.IntelTcb.Should().BeNull();
        result.Errors.Should().Equal("tcbInfo is for FMSPC 00a06d080000, but the PCK certificate's FMSPC is 90c06f000000: fetch the TCB info for this platform (PCS /tdx/certification/v4/tcb?fmspc=90c06f000000)");
    }

    [Fact]
    public void Real_collateral_with_one_flipped_byte_is_refused()
    {
        // The first level's "pcesvn":13 becomes 12: a platform at PCESVN 12 would pass as UpToDate.
        var tcbInfo = TestVectors.Read("tcbInfo.json");
        var at = System.Text.Encoding.ASCII.GetString(tcbInfo).IndexOf("\"pcesvn\":13", StringComparison.Ordinal) + "\"pcesvn\":1".Length;
        tcbInfo[at] ^= 0x01;

        var result = JudgeReal("tdx_quote_6.dat", RealCollateralValid, TcbStatus.OutOfDate, tcbInfo: tcbInfo);

        result.Verified.Should().BeFalse();
        result.Errors.Should().Equal("tcbInfo: the signature does not verify with Intel's TCB Signing key: the file was altered, or it is not Intel's");
    }

    [Fact]
    public void Collateral_signed_by_another_key_is_refused_by_the_vendor_anchors()
    {
        var forged = _intel.SignCollateral("tcbInfo", FakeCollateral.TcbInfo(levels: [new(new byte[16], 0, new byte[16], "UpToDate")]));

        var result = JudgeReal("tdx_quote_6.dat", RealCollateralValid, tcbInfo: forged);

        result.Errors.Should().Equal("tcbInfo: the signature does not verify with Intel's TCB Signing key: the file was altered, or it is not Intel's");
    }

    [Fact]
    public void A_platform_at_the_first_level_is_UpToDate()
    {
        var result = Judge();

        result.Errors.Should().BeEmpty();
        result.IntelTcb!.Status.Should().Be(TcbStatus.UpToDate);
        result.IntelTcb.ModuleStatus.Should().Be(TcbStatus.UpToDate);
    }

    [Fact]
    public void SWHardeningNeeded_passes_by_default_and_reports_its_advisories()
    {
        var tcbInfo = FakeCollateral.TcbInfo(levels: [FakeCollateral.DefaultLevels[0] with { Status = "SWHardeningNeeded", Advisories = ["INTEL-SA-00615", "INTEL-SA-00657"] }]);

        var result = Judge(tcbInfo: tcbInfo);

        result.Errors.Should().BeEmpty();
        result.IntelTcb!.Status.Should().Be(TcbStatus.SWHardeningNeeded);
        result.IntelTcb.AdvisoryIds.Should().Equal("INTEL-SA-00615", "INTEL-SA-00657");
    }

    [Fact]
    public void ConfigurationNeeded_fails_by_default_and_passes_when_accepted()
    {
        var tcbInfo = FakeCollateral.TcbInfo(levels: [FakeCollateral.DefaultLevels[0] with { Status = "ConfigurationNeeded", Advisories = ["INTEL-SA-00828"] }]);

        var refused = Judge(tcbInfo: tcbInfo);
        var accepted = Judge(tcbInfo: tcbInfo, minimum: TcbStatus.ConfigurationNeeded);

        refused.Errors.Should().Equal("the TCB status is ConfigurationNeeded (platform ConfigurationNeeded, TDX module UpToDate, QE UpToDate; advisories INTEL-SA-00828), worse than the minimum SWHardeningNeeded: update the platform, or accept it with --min-tcb-status ConfigurationNeeded");
        accepted.Errors.Should().BeEmpty();
    }

    [Fact]
    public void A_PCESVN_below_the_first_level_falls_to_the_next()
    {
        var result = Judge(Spec with { Pck = new FakePckTcb { PceSvn = 10 } }, minimum: TcbStatus.OutOfDate);

        result.Errors.Should().BeEmpty();
        result.IntelTcb!.PlatformStatus.Should().Be(TcbStatus.OutOfDate);
        result.IntelTcb.AdvisoryIds.Should().Equal("INTEL-SA-00837");
    }

    [Fact]
    public void A_platform_below_every_level_is_not_supported()
    {
        var result = Judge(Spec with { Pck = new FakePckTcb { ComponentSvns = FakeTcbLevel.Svns(2, 2, 7, 7, 3, 1, 0, 2) } });

        result.IntelTcb.Should().BeNull();
        result.Errors.Should().Equal("the PCK's SGX TCB (components 02020707030100020000000000000000, PCESVN 11) is below every level of tcbInfo: Intel does not support this platform's TCB");
    }

    [Fact]
    public void TDX_components_below_the_level_that_the_SGX_TCB_reaches_fall_to_the_next()
    {
        var levels = new FakeTcbLevel[]
        {
            new(FakeTcbLevel.Svns(2, 2, 2, 2, 4, 1, 0, 2), 11, FakeTcbLevel.Svns(0, 0, 3), "UpToDate"),
            new(FakeTcbLevel.Svns(2, 2, 2, 2, 4, 1, 0, 2), 11, FakeTcbLevel.Svns(0, 0, 2), "SWHardeningNeeded", "INTEL-SA-01010"),
        };

        var result = Judge(tcbInfo: FakeCollateral.TcbInfo(levels));

        result.Errors.Should().BeEmpty();
        result.IntelTcb!.Status.Should().Be(TcbStatus.SWHardeningNeeded, "TEE_TCB_SVN[2] is 2, below the first level's 3");
    }

    [Fact]
    public void With_a_module_major_version_the_first_two_TDX_components_are_left_to_the_module_identity()
    {
        // The level asks for module SVN 9 in component 0, which TEE_TCB_SVN[0] = 5 does not reach.
        var levels = new FakeTcbLevel[] { new(FakeTcbLevel.Svns(2, 2, 2, 2, 4, 1, 0, 2), 11, FakeTcbLevel.Svns(9, 9, 2), "UpToDate") };

        var withMajor = Judge(Spec with { TeeTcbSvn = FakeTcbLevel.Svns(5, 3, 2) }, FakeCollateral.TcbInfo(levels));
        var withoutMajor = Judge(Spec with { TeeTcbSvn = FakeTcbLevel.Svns(5, 0, 2) }, FakeCollateral.TcbInfo(levels));

        withMajor.Errors.Should().BeEmpty();
        withMajor.IntelTcb!.ModuleStatus.Should().Be(TcbStatus.UpToDate);
        withoutMajor.Errors.Should().Equal("TEE_TCB_SVN 05000200000000000000000000000000 is below the TDX components of every level the PCK's SGX TCB reaches: Intel does not support this platform's TDX TCB");
    }

    [Fact]
    public void Module_major_version_0_uses_tdxModule_and_has_no_status_of_its_own()
    {
        var result = Judge(Spec with { TeeTcbSvn = FakeTcbLevel.Svns(5, 0, 2) });

        result.Errors.Should().BeEmpty();
        result.IntelTcb!.ModuleStatus.Should().BeNull();
        result.IntelTcb.Status.Should().Be(TcbStatus.UpToDate);
    }

    [Theory]
    [InlineData("UpToDate", "OutOfDate", "OutOfDate")]
    [InlineData("SWHardeningNeeded", "OutOfDate", "OutOfDate")]
    [InlineData("ConfigurationNeeded", "OutOfDate", "OutOfDateConfigurationNeeded")]
    [InlineData("ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded")]
    [InlineData("ConfigurationNeeded", "Revoked", "Revoked")]
    [InlineData("SWHardeningNeeded", "UpToDate", "SWHardeningNeeded")]
    public void A_module_status_folds_into_the_platform_status_as_Intel_folds_it(string platform, string module, string expected)
    {
        var tcbInfo = FakeCollateral.TcbInfo(
            levels: [FakeCollateral.DefaultLevels[0] with { Status = platform }],
            modules: [("TDX_03", [new FakeIsvSvnLevel(3, module, "INTEL-SA-00999")])]);

        var result = Judge(tcbInfo: tcbInfo, minimum: TcbStatus.OutOfDateConfigurationNeeded);

        result.IntelTcb!.Status.ToString().Should().Be(expected);
        result.IntelTcb.AdvisoryIds.Should().Equal("INTEL-SA-00999");
    }

    [Fact]
    public void A_module_without_its_identity_fails()
    {
        var result = Judge(tcbInfo: FakeCollateral.TcbInfo(modules: [("TDX_01", [new FakeIsvSvnLevel(1, "UpToDate")])]));

        result.Errors.Should().Equal("TEE_TCB_SVN names TDX module major version 3, but tcbInfo has no TDX_03 module identity (it has TDX_01)");
    }

    [Fact]
    public void A_module_SVN_below_every_identity_level_is_not_supported()
    {
        var result = Judge(tcbInfo: FakeCollateral.TcbInfo(modules: [("TDX_03", [new FakeIsvSvnLevel(6, "UpToDate")])]));

        result.Errors.Should().Equal("TDX module SVN 5 (TEE_TCB_SVN[0]) is below every level of module identity TDX_03: Intel does not support it");
    }

    [Fact]
    public void A_TDX_module_not_signed_by_Intel_fails()
    {
        var signer = new byte[48];
        signer[0] = 1;

        var result = Judge(Spec with { MrSignerSeam = signer, SeamAttributes = [0, 0, 0, 0, 0, 0, 0, 1] });

        result.Errors.Should().Equal(
            $"MRSIGNERSEAM is {Convert.ToHexStringLower(signer)}, but TDX module identity TDX_03 expects {new string('0', 96)}: not Intel's TDX module",
            "SEAMATTRIBUTES is 0000000000000001; TDX module identity TDX_03 expects 0000000000000000, and only zero is accepted");
    }

    [Fact]
    public void A_module_signed_by_someone_else_leaves_no_verdict_even_when_every_level_matches()
    {
        var signer = new byte[48];
        signer[47] = 0x5A;

        var result = Judge(Spec with { MrSignerSeam = signer });

        result.IntelTcb.Should().BeNull();
        result.Errors.Should().Equal($"MRSIGNERSEAM is {Convert.ToHexStringLower(signer)}, but TDX module identity TDX_03 expects {new string('0', 96)}: not Intel's TDX module");
    }

    [Fact]
    public void With_module_major_version_0_the_module_signer_is_checked_against_tdxModule()
    {
        var signer = new byte[48];
        signer[0] = 0xA5;

        var result = Judge(Spec with { TeeTcbSvn = FakeTcbLevel.Svns(5, 0, 2), MrSignerSeam = signer });

        result.Errors.Should().Equal($"MRSIGNERSEAM is {Convert.ToHexStringLower(signer)}, but tcbInfo.tdxModule expects {new string('0', 96)}: not Intel's TDX module");
    }

    [Fact]
    public void Nonzero_SEAMATTRIBUTES_fail_even_when_the_identity_expects_them()
    {
        byte[] attributes = [0, 0, 0, 0, 0, 0, 0, 1];

        var result = Judge(Spec with { SeamAttributes = attributes }, FakeCollateral.TcbInfo(moduleAttributes: "0000000000000001"));

        result.IntelTcb.Should().BeNull();
        result.Errors.Should().Equal("SEAMATTRIBUTES is 0000000000000001; TDX module identity TDX_03 expects 0000000000000001, and only zero is accepted");
    }

    [Fact]
    public void A_module_when_tcbInfo_has_no_identities_fails_saying_so()
    {
        var result = Judge(tcbInfo: FakeCollateral.TcbInfo(modules: []));

        result.Errors.Should().Equal("TEE_TCB_SVN names TDX module major version 3, but tcbInfo has no TDX_03 module identity (it has none)");
    }

    [Fact]
    public void A_module_without_its_identity_fails_listing_the_identities_there_are()
    {
        var result = Judge(tcbInfo: FakeCollateral.TcbInfo(modules: [("TDX_01", [new FakeIsvSvnLevel(1, "UpToDate")]), ("TDX_02", [new FakeIsvSvnLevel(1, "UpToDate")])]));

        result.Errors.Should().Equal("TEE_TCB_SVN names TDX module major version 3, but tcbInfo has no TDX_03 module identity (it has TDX_01, TDX_02)");
    }

    [Fact]
    public void TCB_info_for_another_PCE_ID_is_not_matched_against_the_platform()
    {
        // The PCK's SGX TCB is below every level, but levels for another PCE-ID say nothing about it.
        var result = Judge(Spec with { Pck = new FakePckTcb { ComponentSvns = FakeTcbLevel.Svns(1, 1, 1, 1) } }, FakeCollateral.TcbInfo(pceId: "0100"));

        result.IntelTcb.Should().BeNull();
        result.Errors.Should().Equal("tcbInfo is for PCE-ID 0100, but the PCK certificate's PCE-ID is 0000");
    }

    [Fact]
    public void A_QE_ISVSVN_equal_to_a_levels_is_at_that_level()
    {
        var result = Judge(
            qeIdentity: FakeCollateral.QeIdentity(levels: [new FakeIsvSvnLevel(8, "UpToDate"), new FakeIsvSvnLevel(7, "OutOfDate", "INTEL-SA-00615")]),
            minimum: TcbStatus.OutOfDate);

        result.Errors.Should().BeEmpty();
        result.IntelTcb!.QeStatus.Should().Be(TcbStatus.OutOfDate, "the QE's ISVSVN is 7");
    }

    [Fact]
    public void A_refusal_by_policy_without_a_module_status_names_the_platform_and_QE_and_every_advisory()
    {
        var tcbInfo = FakeCollateral.TcbInfo(levels: [FakeCollateral.DefaultLevels[0] with { Status = "ConfigurationNeeded", Advisories = ["INTEL-SA-00615", "INTEL-SA-00657"] }]);

        var result = Judge(Spec with { TeeTcbSvn = FakeTcbLevel.Svns(5, 0, 2) }, tcbInfo);

        result.Errors.Should().Equal("the TCB status is ConfigurationNeeded (platform ConfigurationNeeded, QE UpToDate; advisories INTEL-SA-00615, INTEL-SA-00657), worse than the minimum SWHardeningNeeded: update the platform, or accept it with --min-tcb-status ConfigurationNeeded");
    }

    [Theory]
    [InlineData("OutOfDate", "UpToDate", "OutOfDate")]
    [InlineData("OutOfDate", "ConfigurationAndSWHardeningNeeded", "OutOfDateConfigurationNeeded")]
    [InlineData("Revoked", "UpToDate", "Revoked")]
    public void The_QE_status_folds_in_last(string qe, string platform, string expected)
    {
        var result = Judge(
            tcbInfo: FakeCollateral.TcbInfo(levels: [FakeCollateral.DefaultLevels[0] with { Status = platform }]),
            qeIdentity: FakeCollateral.QeIdentity(levels: [new FakeIsvSvnLevel(8, "UpToDate"), new FakeIsvSvnLevel(6, qe, "INTEL-SA-00615")]),
            minimum: TcbStatus.OutOfDateConfigurationNeeded);

        result.IntelTcb!.QeStatus.ToString().Should().Be(qe);
        result.IntelTcb.Status.ToString().Should().Be(expected);
        result.IntelTcb.AdvisoryIds.Should().Equal("INTEL-SA-00615");
    }

    [Fact]
    public void Revoked_fails_whatever_the_minimum()
    {
        var result = Judge(tcbInfo: FakeCollateral.TcbInfo(levels: [FakeCollateral.DefaultLevels[0] with { Status = "Revoked", Advisories = ["INTEL-SA-00001"] }]), minimum: TcbStatus.OutOfDateConfigurationNeeded);

        result.Errors.Should().Equal("the TCB is Revoked (platform Revoked, TDX module UpToDate, QE UpToDate; advisories INTEL-SA-00001)");
    }

    [Fact]
    public void A_QE_that_does_not_match_its_identity_fails_on_every_field()
    {
        var qeIdentity = FakeCollateral.QeIdentity(
            mrSigner: new string('A', 64),
            isvProdId: 1,
            attributes: "15000000000000000000000000000000",
            miscSelect: "01000000",
            levels: [new FakeIsvSvnLevel(8, "UpToDate")]);

        var result = Judge(qeIdentity: qeIdentity);

        result.IntelTcb.Should().BeNull();
        result.Errors.Should().Equal(
            $"QE MRSIGNER is {Convert.ToHexStringLower(FakeIntel.IntelQeMrSigner)}, but the QE identity expects {new string('a', 64)}",
            "QE ISVPRODID is 2, but the QE identity expects 1",
            "QE MISCSELECT 00000000 masked with ffffffff is not the QE identity's 01000000",
            "QE ATTRIBUTES 1500000000000000e700000000000000 masked with fbffffffffffffff0000000000000000 are not the QE identity's 15000000000000000000000000000000",
            "QE ISVSVN 7 is below every level of the QE identity: Intel does not support it");
    }

    [Fact]
    public void A_different_PCE_ID_fails()
    {
        var result = Judge(tcbInfo: FakeCollateral.TcbInfo(pceId: "0100"));

        result.Errors.Should().Equal("tcbInfo is for PCE-ID 0100, but the PCK certificate's PCE-ID is 0000");
    }

    [Theory]
    [InlineData("SGX", 3, "tcbInfo is id \"SGX\" version 3; Intel's TDX TCB info is id \"TDX\" version 3 (PCS /tdx/certification/v4/tcb)")]
    [InlineData("TDX", 2, "tcbInfo is id \"TDX\" version 2; Intel's TDX TCB info is id \"TDX\" version 3 (PCS /tdx/certification/v4/tcb)")]
    public void TCB_info_of_another_kind_or_version_fails(string id, int version, string message)
    {
        var result = Judge(tcbInfo: FakeCollateral.TcbInfo(id: id, version: version));

        result.Errors.Should().Equal("cannot judge the TCB: " + message);
    }

    [Fact]
    public void Collateral_given_for_SEV_SNP_evidence_fails()
    {
        using var amd = new FakeSnpReport();

        var result = EvidenceVerifier.Verify(amd.Create(new byte[64]), new VerificationOptions
        {
            At = FakeTdxQuote.ValidAt,
            Anchors = amd.Anchors,
            ExtraCertificates = [amd.Vcek],
            Tcb = new TcbPolicy { IntelTcbInfo = [1], IntelQeIdentity = [1] },
        });

        result.Errors.Should().Equal("Intel TCB info and QE identity apply to TDX quotes; this is SEV-SNP evidence (use --min-tcb)");
    }

    [Fact]
    public void Randomly_corrupted_signed_collateral_is_refused_with_reasons_never_an_exception()
    {
        var quote = _intel.Quote(Spec, out _);
        var qe = _intel.SignCollateral("enclaveIdentity", FakeCollateral.QeIdentity());
        var body = FakeCollateral.TcbInfo().ToCharArray();
        var random = new Random(7);
        var refused = 0;
        for (var round = 0; round < 400; round++)
        {
            var corrupted = (char[])body.Clone();
            corrupted[random.Next(corrupted.Length)] = "0123456789{}[]\",:-xAZ"[random.Next(21)];
            var options = new VerificationOptions
            {
                At = FakeTdxQuote.ValidAt,
                Anchors = _intel.Anchors,
                Tcb = new TcbPolicy { IntelTcbInfo = _intel.SignCollateral("tcbInfo", new string(corrupted)), IntelQeIdentity = qe },
            };

            var result = EvidenceVerifier.Verify(quote, options);

            refused += result.Verified ? 0 : 1;
        }
        refused.Should().BeGreaterThan(100, "most single-character corruption breaks the signed JSON or its meaning");
    }

    [Theory]
    [InlineData("UpToDate", null, "UpToDate")]
    [InlineData("OutOfDate", "UpToDate", "OutOfDate")]
    [InlineData("Revoked", "OutOfDate", "Revoked")]
    [InlineData("OutOfDateConfigurationNeeded", "OutOfDate", "OutOfDateConfigurationNeeded")]
    [InlineData("UpToDate", "Revoked", "Revoked")]
    [InlineData("ConfigurationAndSWHardeningNeeded", "UpToDate", "ConfigurationAndSWHardeningNeeded")]
    public void Converge_follows_Intels_table(string platform, string? other, string expected) =>
        IntelTcbEvaluator.Converge(TcbStatuses.Parse(platform)!.Value, TcbStatuses.Parse(other)).ToString().Should().Be(expected);
}
