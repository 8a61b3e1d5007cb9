using System.Text.Json;
using CvmControl.Attestation.Verification.Tdx;

namespace CvmControl.Tests.Attestation.Verification.Tdx;

/// <summary>
/// The strict field readers under Intel's collateral: each refusal names the field, and numbers,
/// hex strings, times and arrays are held to their documented shapes.
/// </summary>
public sealed class CollateralJsonTests
{
    private static JsonElement Parse(string json) => JsonDocument.Parse(json, CollateralJson.DocumentOptions).RootElement.Clone();

    private static string RefusalOf(Action read) =>
        read.Should().Throw<CollateralFormatException>().Which.Message;

    [Fact]
    public void A_property_of_something_that_is_not_an_object_is_refused_naming_it()
    {
        RefusalOf(() => CollateralJson.Property(Parse("[1]"), "tcb", "tcbInfo.tcbLevels[0]"))
            .Should().Be("tcbInfo.tcbLevels[0] is not a JSON object");
    }

    [Fact]
    public void A_missing_property_is_refused_naming_it()
    {
        RefusalOf(() => CollateralJson.Property(Parse("{\"id\":\"TDX\"}"), "version", "tcbInfo"))
            .Should().Be("tcbInfo has no version");
    }

    [Theory]
    [InlineData("3")]
    [InlineData("null")]
    [InlineData("[\"TDX\"]")]
    public void Text_that_is_not_a_JSON_string_is_refused(string value)
    {
        RefusalOf(() => CollateralJson.Text(Parse($"{{\"id\":{value}}}"), "id", "tcbInfo"))
            .Should().Be("tcbInfo.id is not a string");
    }

    [Fact]
    public void A_whole_number_at_its_maximum_is_accepted()
    {
        CollateralJson.Integer(Parse("{\"svn\":255}"), "svn", "level", byte.MaxValue).Should().Be(255);
        CollateralJson.Integer(Parse("{\"svn\":0}"), "svn", "level", byte.MaxValue).Should().Be(0);
    }

    [Theory]
    [InlineData("256")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("\"7\"")]
    [InlineData("4294967296")]
    public void A_number_outside_its_range_or_not_whole_is_refused_with_the_range(string value)
    {
        RefusalOf(() => CollateralJson.Integer(Parse($"{{\"svn\":{value}}}"), "svn", "tcbInfo.tcbLevels[0].tcb.sgxtcbcomponents[3]", byte.MaxValue))
            .Should().Be("tcbInfo.tcbLevels[0].tcb.sgxtcbcomponents[3].svn is not a whole number from 0 to 255");
    }

    [Fact]
    public void Hex_of_the_documented_length_is_decoded()
    {
        CollateralJson.Hex(Parse("{\"fmspc\":\"00A06d080000\"}"), "fmspc", "tcbInfo", 6).Should().Equal(0x00, 0xA0, 0x6D, 0x08, 0x00, 0x00);
    }

    [Theory]
    [InlineData("00A06D0800", 10)]
    [InlineData("00A06D08000", 11)]
    [InlineData("00A06D08000000", 14)]
    [InlineData("", 0)]
    public void Hex_of_another_length_is_refused_with_both_lengths(string hex, int digits)
    {
        RefusalOf(() => CollateralJson.Hex(Parse($"{{\"fmspc\":\"{hex}\"}}"), "fmspc", "tcbInfo", 6))
            .Should().Be($"tcbInfo.fmspc must be 6 bytes (12 hex digits), not {digits} digits");
    }

    [Fact]
    public void Hex_with_a_character_that_is_not_a_hex_digit_is_refused()
    {
        RefusalOf(() => CollateralJson.Hex(Parse("{\"pceId\":\"00G0\"}"), "pceId", "tcbInfo", 2))
            .Should().Be("tcbInfo.pceId is not hex");
    }

    [Fact]
    public void A_time_with_an_offset_is_read_as_the_same_instant_in_UTC()
    {
        var time = CollateralJson.Time(Parse("{\"tcbDate\":\"2024-03-13T02:30:00+02:00\"}"), "tcbDate", "level");

        time.Offset.Should().Be(TimeSpan.Zero);
        time.DateTime.Should().Be(new DateTime(2024, 3, 13, 0, 30, 0));
    }

    [Fact]
    public void A_time_without_an_offset_is_taken_as_UTC()
    {
        var time = CollateralJson.Time(Parse("{\"tcbDate\":\"2024-03-13T00:00:00\"}"), "tcbDate", "level");

        time.Should().Be(new DateTimeOffset(2024, 3, 13, 0, 0, 0, TimeSpan.Zero));
        time.Offset.Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public void Text_that_is_not_a_time_is_refused_quoting_it()
    {
        RefusalOf(() => CollateralJson.Time(Parse("{\"nextUpdate\":\"soon\"}"), "nextUpdate", "tcbInfo"))
            .Should().Be("tcbInfo.nextUpdate \"soon\" is not an ISO 8601 time");
    }

    [Fact]
    public void A_required_array_that_is_not_an_array_is_refused()
    {
        RefusalOf(() => CollateralJson.Array(Parse("{\"tcbLevels\":{}}"), "tcbLevels", "tcbInfo"))
            .Should().Be("tcbInfo.tcbLevels is not an array");
    }

    [Fact]
    public void An_optional_array_may_be_absent_but_not_of_another_kind()
    {
        CollateralJson.Array(Parse("{}"), "advisoryIDs", "level", required: false).Should().BeEmpty();
        RefusalOf(() => CollateralJson.Array(Parse("{\"advisoryIDs\":\"INTEL-SA-00615\"}"), "advisoryIDs", "level", required: false))
            .Should().Be("level.advisoryIDs is not an array");
    }

    [Fact]
    public void An_array_of_the_maximum_length_is_read_and_one_more_entry_is_refused()
    {
        static string Zeros(int count) => $"{{\"tcbLevels\":[{string.Join(',', Enumerable.Repeat("0", count))}]}}";

        CollateralJson.Array(Parse(Zeros(CollateralJson.MaxArrayLength)), "tcbLevels", "tcbInfo").Should().HaveCount(1024);
        RefusalOf(() => CollateralJson.Array(Parse(Zeros(CollateralJson.MaxArrayLength + 1)), "tcbLevels", "tcbInfo"))
            .Should().Be("tcbInfo.tcbLevels has 1025 entries, more than 1024");
    }

    [Theory]
    [InlineData("upToDate")]
    [InlineData("Unknown")]
    public void A_status_Intel_does_not_spell_so_is_refused(string status)
    {
        RefusalOf(() => CollateralJson.Status(Parse($"{{\"tcbStatus\":\"{status}\"}}"), "tcbInfo.tcbLevels[2]"))
            .Should().Be($"tcbInfo.tcbLevels[2].tcbStatus \"{status}\" is not a status this verifier knows for this kind of level");
    }

    [Fact]
    public void A_status_not_allowed_for_the_kind_of_level_is_refused()
    {
        var level = Parse("{\"tcbStatus\":\"SWHardeningNeeded\"}");

        CollateralJson.Status(level, "tcbInfo.tcbLevels[0]").Should().Be(TcbStatus.SWHardeningNeeded);
        RefusalOf(() => CollateralJson.Status(level, "enclaveIdentity.tcbLevels[0]", TcbStatus.UpToDate, TcbStatus.OutOfDate, TcbStatus.Revoked))
            .Should().Be("enclaveIdentity.tcbLevels[0].tcbStatus \"SWHardeningNeeded\" is not a status this verifier knows for this kind of level");
    }

    [Fact]
    public void Advisory_IDs_are_read_in_order()
    {
        CollateralJson.Advisories(Parse("{\"advisoryIDs\":[\"INTEL-SA-00615\",\"INTEL-SA-00657\"]}"), "level")
            .Should().Equal("INTEL-SA-00615", "INTEL-SA-00657");
    }

    [Fact]
    public void An_advisory_ID_that_is_not_a_string_is_refused_naming_its_index()
    {
        RefusalOf(() => CollateralJson.Advisories(Parse("{\"advisoryIDs\":[\"INTEL-SA-00615\",615]}"), "tcbInfo.tcbLevels[1]"))
            .Should().Be("tcbInfo.tcbLevels[1].advisoryIDs[1] is not a string");
    }
}
