using System.Text.Json;
using CvmControl.Attestation.Verification.Tdx;
using CvmControl.Tests.Attestation.Fakes;

namespace CvmControl.Tests.Attestation.Verification.Tdx;

/// <summary>
/// Reading Intel's TDX TCB info (v3) and TD QE identity (v2) bodies: what is read from them, and
/// that each malformed field is refused with its full path in the document.
/// </summary>
public sealed class IntelTcbInfoTests
{
    private static IntelTcbInfo ReadTcbInfo(string json)
    {
        using var document = JsonDocument.Parse(json, CollateralJson.DocumentOptions);
        return IntelTcbInfo.Read(document.RootElement);
    }

    private static IntelQeIdentity ReadQeIdentity(string json)
    {
        using var document = JsonDocument.Parse(json, CollateralJson.DocumentOptions);
        return IntelQeIdentity.Read(document.RootElement);
    }

    private static string TcbInfoRefusal(string json) =>
        FluentActions.Invoking(() => ReadTcbInfo(json)).Should().Throw<CollateralFormatException>().Which.Message;

    private static string QeIdentityRefusal(string json) =>
        FluentActions.Invoking(() => ReadQeIdentity(json)).Should().Throw<CollateralFormatException>().Which.Message;

    /// <summary>The default fake TCB info with one piece of its text replaced (the piece must be there).</summary>
    private static string TcbInfoWith(string original, string replacement)
    {
        var json = FakeCollateral.TcbInfo();
        json.Should().Contain(original);
        return json.Replace(original, replacement, StringComparison.Ordinal);
    }

    [Fact]
    public void TCB_info_is_read_field_by_field()
    {
        var info = ReadTcbInfo(FakeCollateral.TcbInfo());

        info.IssueDate.Should().Be(new DateTimeOffset(2025, 10, 27, 13, 7, 17, TimeSpan.Zero));
        info.NextUpdate.Should().Be(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        info.Fmspc.Should().Equal(Convert.FromHexString("00A06D080000"));
        info.PceId.Should().Equal(0, 0);
        info.EvaluationDataNumber.Should().Be(17);
        info.Module.Id.Should().BeEmpty("tdxModule has no id of its own");
        info.Module.MrSigner.Should().Equal(new byte[48]);
        info.Module.AttributesMask.Should().Equal(Enumerable.Repeat((byte)0xFF, 8));
        info.Module.Levels.Should().BeEmpty();
        info.ModuleIdentities.Select(m => m.Id).Should().Equal("TDX_03", "TDX_01");
        info.ModuleIdentities[1].Levels.Select(l => (l.IsvSvn, l.Status)).Should().Equal((4, TcbStatus.UpToDate), (2, TcbStatus.OutOfDate));
        info.Levels.Should().HaveCount(2);
        info.Levels[1].PceSvn.Should().Be(5);
        info.Levels[1].SgxSvns.Should().Equal(FakeTcbLevel.Svns(2, 2, 2, 2, 4, 1, 0, 2));
        info.Levels[1].TdxSvns.Should().Equal(FakeTcbLevel.Svns(5, 0, 2));
        info.Levels[1].Status.Should().Be(TcbStatus.OutOfDate);
        info.Levels[1].AdvisoryIds.Should().Equal("INTEL-SA-00837");
        info.Levels[1].TcbDate.Should().Be(new DateTimeOffset(2024, 3, 13, 0, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public void TCB_info_without_module_identities_is_read_with_none()
    {
        var json = TcbInfoWith("\"tdxModuleIdentities\":[", "\"unused\":[");

        ReadTcbInfo(json).ModuleIdentities.Should().BeEmpty();
    }

    [Fact]
    public void A_TCB_type_other_than_0_is_refused()
    {
        TcbInfoRefusal(TcbInfoWith("\"tcbType\":0", "\"tcbType\":1"))
            .Should().Be("tcbInfo.tcbType is 1; only type 0 is defined");
    }

    [Fact]
    public void TCB_info_without_levels_is_refused()
    {
        TcbInfoRefusal(FakeCollateral.TcbInfo(levels: []))
            .Should().Be("tcbInfo.tcbLevels is empty");
    }

    [Fact]
    public void A_malformed_tdxModule_is_refused_naming_it()
    {
        TcbInfoRefusal(FakeCollateral.TcbInfo(moduleMrSigner: "00"))
            .Should().Be("tcbInfo.tdxModule.mrsigner must be 48 bytes (96 hex digits), not 2 digits");
    }

    [Fact]
    public void A_module_identity_without_an_id_is_refused_naming_its_index()
    {
        TcbInfoRefusal(TcbInfoWith("{\"id\":\"TDX_01\",", "{\"name\":\"TDX_01\","))
            .Should().Be("tcbInfo.tdxModuleIdentities[1] has no id");
    }

    [Fact]
    public void A_module_identity_level_with_a_bad_ISVSVN_is_refused_naming_its_path()
    {
        var json = FakeCollateral.TcbInfo(modules: [("TDX_03", [new FakeIsvSvnLevel(3, "UpToDate"), new FakeIsvSvnLevel(65536, "OutOfDate")])]);

        TcbInfoRefusal(json).Should().Be("tcbInfo.tdxModuleIdentities[0].tcbLevels[1].tcb.isvsvn is not a whole number from 0 to 65535");
    }

    [Fact]
    public void A_module_identity_level_without_a_tcb_is_refused_naming_its_path()
    {
        var json = FakeCollateral.TcbInfo(modules: [("TDX_03", [new FakeIsvSvnLevel(3, "UpToDate")])])
            .Replace("{\"tcb\":{\"isvsvn\":3}", "{\"svn\":{\"isvsvn\":3}", StringComparison.Ordinal);

        TcbInfoRefusal(json).Should().Be("tcbInfo.tdxModuleIdentities[0].tcbLevels[0] has no tcb");
    }

    [Fact]
    public void Platform_levels_with_a_wrong_number_of_components_are_refused_naming_the_list()
    {
        var sgx = new FakeTcbLevel(new byte[15], 0, new byte[16], "UpToDate");
        var tdx = new FakeTcbLevel(new byte[16], 0, new byte[17], "UpToDate");

        TcbInfoRefusal(FakeCollateral.TcbInfo(levels: [sgx])).Should().Be("tcbInfo.tcbLevels[0].tcb.sgxtcbcomponents has 15 components, not 16");
        TcbInfoRefusal(FakeCollateral.TcbInfo(levels: [FakeCollateral.DefaultLevels[0], tdx])).Should().Be("tcbInfo.tcbLevels[1].tcb.tdxtcbcomponents has 17 components, not 16");
    }

    [Fact]
    public void A_platform_level_with_a_PCESVN_out_of_range_is_refused_naming_its_path()
    {
        var level = new FakeTcbLevel(new byte[16], 65536, new byte[16], "UpToDate");

        TcbInfoRefusal(FakeCollateral.TcbInfo(levels: [level])).Should().Be("tcbInfo.tcbLevels[0].tcb.pcesvn is not a whole number from 0 to 65535");
    }

    [Fact]
    public void A_component_SVN_out_of_range_is_refused_naming_its_index()
    {
        var json = TcbInfoWith(
            "\"tdxtcbcomponents\":[{\"svn\":5},{\"svn\":0},{\"svn\":2}",
            "\"tdxtcbcomponents\":[{\"svn\":5},{\"svn\":0},{\"svn\":256}");

        TcbInfoRefusal(json).Should().Be("tcbInfo.tcbLevels[0].tcb.tdxtcbcomponents[2].svn is not a whole number from 0 to 255");
    }

    [Fact]
    public void The_QE_identity_is_read_field_by_field()
    {
        var identity = ReadQeIdentity(FakeCollateral.QeIdentity(levels: [new FakeIsvSvnLevel(8, "UpToDate"), new FakeIsvSvnLevel(6, "Revoked", "INTEL-SA-00615")]));

        identity.MrSigner.Should().Equal(FakeIntel.IntelQeMrSigner);
        identity.IsvProdId.Should().Be(2);
        identity.MiscSelectMask.Should().Equal(0xFF, 0xFF, 0xFF, 0xFF);
        identity.Attributes.Should().Equal(Convert.FromHexString("11000000000000000000000000000000"));
        identity.EvaluationDataNumber.Should().Be(17);
        identity.Levels.Select(l => (l.IsvSvn, l.Status)).Should().Equal((8, TcbStatus.UpToDate), (6, TcbStatus.Revoked));
        identity.Levels[1].AdvisoryIds.Should().Equal("INTEL-SA-00615");
    }

    [Theory]
    [InlineData("\"id\":\"TD_QE\",\"version\":2", "\"id\":\"TD_QE\",\"version\":3", "enclaveIdentity is id \"TD_QE\" version 3")]
    [InlineData("\"id\":\"TD_QE\",\"version\":2", "\"id\":\"QE\",\"version\":2", "enclaveIdentity is id \"QE\" version 2")]
    public void A_QE_identity_of_another_enclave_or_version_is_refused(string original, string replacement, string start)
    {
        var json = FakeCollateral.QeIdentity();
        json.Should().Contain(original);

        QeIdentityRefusal(json.Replace(original, replacement, StringComparison.Ordinal))
            .Should().Be(start + "; the TD quoting enclave's identity is id \"TD_QE\" version 2 (PCS /tdx/certification/v4/qe/identity)");
    }

    [Fact]
    public void A_QE_identity_without_levels_is_refused()
    {
        QeIdentityRefusal(FakeCollateral.QeIdentity(levels: [])).Should().Be("enclaveIdentity.tcbLevels is empty");
    }

    [Fact]
    public void A_QE_level_with_a_platform_only_status_is_refused_naming_its_path()
    {
        QeIdentityRefusal(FakeCollateral.QeIdentity(levels: [new FakeIsvSvnLevel(8, "UpToDate"), new FakeIsvSvnLevel(6, "ConfigurationNeeded")]))
            .Should().Be("enclaveIdentity.tcbLevels[1].tcbStatus \"ConfigurationNeeded\" is not a status this verifier knows for this kind of level");
    }
}
