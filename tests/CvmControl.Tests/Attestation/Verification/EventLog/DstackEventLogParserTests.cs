using System.Text;
using CvmControl.Attestation.Verification.EventLog;
using CvmControl.Tests.Attestation.Fakes;

namespace CvmControl.Tests.Attestation.Verification.EventLog;

public sealed class DstackEventLogParserTests
{
    private static ParsedEventLog Parse(string json) => EventLogReader.Parse(Encoding.UTF8.GetBytes(json));

    /// <summary>
    /// dstack's runtime events of a public Phala Cloud guest, as its attestation info lists them (quoted
    /// in near/mpc's contract tests): names, payloads and the RTMR3 its TCB info reports. The digest
    /// rule must reproduce dstack's own digests and RTMR3, computed by dstack, not by this project.
    /// </summary>
    private static readonly (string Name, string Payload, string Digest)[] PublicDstackEvents =
    [
        ("rootfs-hash", "4a89dadfa8c6be6d312beb51e24ef5bd4b3aeb695f11f4e2ff9c87eac907389b", "738ae348dbf674b3399300c0b9416c203e9b645c6ffee233035d09003cccad12f71becc805ad8d97575bc790c6819216"),
        ("app-id", "9f91439ecacc4f8845a9cd81cc141256d5e1bce3", "8ecf784c418ff83b7c8d67adfa7b6c13c93766e0356fd915d038133a170fa09b42ef91aad28642adcee58a0c8a542e7d"),
        ("compose-hash", "9f91439ecacc4f8845a9cd81cc141256d5e1bce3ab2c1533c842402d1a306ff0", "2ce008f8d73c3d9d6d0a176828da3ae21eea3f748f61d655d142416ac82c19a23eaf239a3654fac97e09588264c439ff"),
        ("ca-cert-hash", "d2d9c7c29e3f18e69cba87438cef21eea084c2110858230cd39c5decc629a958", "5b6a576d1da40f04179ad469e00f90a1c0044bc9e8472d0da2776acb108dc98a73560d42cea6b8b763eb4a0e6d4d82d5"),
        ("instance-id", "f96d8cde26eacea3712d3a4ffc693c4942701e08", "5243ab8e3d13d9b22168b43c901b4559c534d9dafa434bba36e7b86756cdedb58e6cbc9a41473de3e117768f83e2f2cc"),
    ];

    private const string PublicDstackRtmr3 = "561c1b02351cd6f7c803dd36bc95ba25463aa025ce7761156260c9131a5d7c03aeccc10e12160ec3205bb2876a203a7f";

    [Fact]
    public void Runtime_digests_and_RTMR3_match_what_dstack_computed_for_a_real_guest()
    {
        var json = "[" + string.Join(',', PublicDstackEvents.Select(e =>
            $$"""{"imr":3,"event_type":134217729,"digest":"{{e.Digest}}","event":"{{e.Name}}","event_payload":"{{e.Payload}}"}""")) + "]";

        var log = Parse(json);

        log.Problems.Should().BeEmpty("every claimed digest is the one dstack's rule gives");
        log.Events.Select(e => Convert.ToHexStringLower(e.Digest)).Should().Equal(PublicDstackEvents.Select(e => e.Digest));
        Convert.ToHexStringLower(RtmrReplay.Replay(log.Events)[3]).Should().Be(PublicDstackRtmr3);
    }

    [Fact]
    public void A_log_reads_the_same_as_an_array_as_tcb_info_and_nested_in_dstack_info()
    {
        var synthetic = SyntheticEventLog.Dstack();
        string[] shapes =
        [
            synthetic.DstackJson(),
            synthetic.DstackJson(indented: true),
            synthetic.DstackInfoJson(),
            ExtractArray(synthetic.DstackJson()),
            "{\"quote\":\"00\",\"event_log\":" + Quote(ExtractArray(synthetic.DstackJson())) + "}",
            "{\"tcb_info\":" + synthetic.DstackJson() + "}",
            "\uFEFF\n  " + synthetic.DstackJson(),
        ];

        foreach (var shape in shapes)
        {
            var log = Parse(shape);

            log.Format.Should().Be(EventLogFormat.DstackJson);
            log.Problems.Should().BeEmpty();
            RtmrReplay.Replay(log.Events).Should().BeEquivalentTo(synthetic.Rtmrs(), o => o.WithStrictOrdering(), shape[..Math.Min(40, shape.Length)]);
            log.Events.Where(e => e.Name is not null).Select(e => e.Name).Should().Equal("system-preparing", "app-id", "compose-hash", "instance-id", "boot-mr-done");
        }
    }

    [Fact]
    public void An_edited_runtime_payload_is_named_and_its_digest_recomputed()
    {
        var synthetic = SyntheticEventLog.Dstack();
        var json = synthetic.DstackJson().Replace("9f91439ecacc4f8845a9cd81cc141256d5e1bce3", "0000000000000000000000000000000000000000", StringComparison.Ordinal);

        var log = Parse(json);

        log.Problems.Should().ContainSingle().Which.Should().StartWith("event 7 ('app-id', RTMR3): its digest ").And.EndWith("the event was edited");
        log.Events[7].Digest.Should().Equal(DstackEventLogParser.RuntimeDigest("app-id", new byte[20]), "the given digest is never trusted");
        RtmrReplay.Replay(log.Events)[3].Should().NotEqual(synthetic.Rtmrs()[3]);
    }

    [Fact]
    public void A_runtime_event_without_a_digest_is_read_by_its_name_and_payload()
    {
        var log = Parse("""[{"imr":3,"event_type":134217729,"event":"app-id","event_payload":"9f91439ecacc4f8845a9cd81cc141256d5e1bce3"}]""");

        Convert.ToHexStringLower(log.Events[0].Digest).Should().Be(PublicDstackEvents[1].Digest);
    }

    [Theory]
    [InlineData("""[{"imr":4,"event_type":4,"digest":"00","event":"","event_payload":""}]""", "event 0: imr 4 is not an RTMR (0 to 3)")]
    [InlineData("""[{"event_type":4,"digest":"00"}]""", "event 0 has no imr")]
    [InlineData("""[{"imr":-1,"event_type":4}]""", "event 0: imr is not a whole number from 0 to 4294967295")]
    [InlineData("""[{"imr":0,"event_type":4,"digest":"abcd"}]""", "event 0: digest must be 48 bytes (SHA-384), not 2")]
    [InlineData("""[{"imr":0,"event_type":4}]""", "event 0: digest must be 48 bytes (SHA-384), not 0")]
    [InlineData("""[{"imr":3,"event_type":134217729,"event":"x","event_payload":"zz"}]""", "event 0: event_payload is not hex")]
    [InlineData("""[{"imr":3,"event_type":134217729,"event":"x","version":2}]""", "event 0 ('x') is a dstack runtime event of version 2; only version 1 digests are computed here")]
    [InlineData("""[{"imr":3,"event_type":134217729,"event":"x","extra":1}]""", "event 0 has a field this verifier does not know: 'extra'")]
    [InlineData("""[{"imr":3,"imr":2,"event_type":134217729}]""", "event log is not valid JSON: *")]
    [InlineData("""[1]""", "event 0 is not a JSON object")]
    [InlineData("""{"events":[]}""", "the document is a JSON object without an event_log or tcb_info field (not a dstack event log)")]
    [InlineData("""{"event_log":7}""", "event_log is a JSON number, not an event log")]
    [InlineData("""{"tcb_info":"{\"tcb_info\":\"{\\\"event_log\\\":\\\"[]\\\"}\"}"}""", "event_log is JSON inside JSON more than 2 levels deep")]
    [InlineData("""[{"imr":0,"event_type":4,"digest":"00",""", "event log is not valid JSON: *")]
    [InlineData("""[{"imr":0,"event_type":3},]""", "event log is not valid JSON: *")]
    [InlineData("""[{"imr":3,"event_type":134217729,"event":5}]""", "event 0: event is not a string")]
    [InlineData("""[{"imr":0,"event_type":4,"digest":"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000","hash_input":"00"}]""", "event 0 has a hash_input, which only dstack runtime events carry")]
    [InlineData("""{"tcb_info":7}""", "tcb_info is a JSON number, not an event log")]
    [InlineData("""{"tcb_info":"{\"tcb_info\":\"{\\\"tcb_info\\\":\\\"[]\\\"}\"}"}""", "tcb_info is JSON inside JSON more than 2 levels deep")]
    [InlineData("""{"event_log":"{\"event_log\":\"{\\\"event_log\\\":\\\"[]\\\"}\"}"}""", "event_log is JSON inside JSON more than 2 levels deep")]
    public void Malformed_logs_are_refused_with_a_reason(string json, string message)
    {
        var act = () => Parse(json);

        act.Should().Throw<EventLogException>().WithMessage(message);
    }

    [Fact]
    public void More_events_than_the_bound_are_refused()
    {
        var json = "{\"event_log\":[" + string.Join(',', Enumerable.Repeat("{}", CcelParser.MaxEvents + 1)) + "]}";

        var act = () => Parse(json);

        act.Should().Throw<EventLogException>().WithMessage($"event_log has {CcelParser.MaxEvents + 1} events, more than {CcelParser.MaxEvents}");
    }

    [Fact]
    public void Deep_nesting_is_refused_before_it_costs_anything()
    {
        var json = "{\"event_log\":" + new string('[', 10_000) + new string(']', 10_000) + "}";

        var act = () => Parse(json);

        act.Should().Throw<EventLogException>().WithMessage("event log is not valid JSON: *depth*");
    }

    [Fact]
    public void Random_corruption_is_refused_with_a_format_error_or_parsed_never_anything_else()
    {
        var original = Encoding.UTF8.GetBytes(SyntheticEventLog.Dstack().DstackInfoJson());
        var random = new Random(42);
        var refused = 0;
        for (var round = 0; round < 3000; round++)
        {
            var json = (byte[])original.Clone();
            for (var i = random.Next(1, 4); i > 0; i--)
            {
                json[random.Next(json.Length)] = (byte)random.Next(256);
            }
            // Any exception but EventLogException escapes and fails the test.
            try
            {
                EventLogReader.Parse(json);
            }
            catch (EventLogException)
            {
                refused++;
            }
        }
        refused.Should().BeGreaterThan(1000);
    }

    [Fact]
    public void Every_truncation_is_refused_with_a_format_error()
    {
        var json = Encoding.UTF8.GetBytes(SyntheticEventLog.Dstack().DstackJson());

        for (var length = 0; length < json.Length; length++)
        {
            var act = () => EventLogReader.Parse(json.AsSpan(0, length));

            act.Should().Throw<EventLogException>($"the log was cut to {length} bytes");
        }
    }

    [Fact]
    public void Garbage_is_neither_format()
    {
        var act = () => EventLogReader.Parse("MZ\u0090\0garbage"u8);

        act.Should().Throw<EventLogException>().WithMessage("event log is neither a CCEL (TCG2 binary, starting with the spec-ID event) nor dstack JSON (it starts with 0x4d5ac29000676172)");
    }

    [Fact]
    public void An_empty_file_is_refused()
    {
        var act = () => EventLogReader.Parse([]);

        act.Should().Throw<EventLogException>().WithMessage("event log is empty");
    }

    [Fact]
    public void A_string_that_is_not_valid_UTF8_is_refused_as_such()
    {
        byte[] json = [.. "[{\"imr\":3,\"event_type\":134217729,\"event\":\""u8, 0xC3, 0x28, .. "\"}]"u8];

        var act = () => EventLogReader.Parse(json);

        act.Should().Throw<EventLogException>().WithMessage("event log has a string that is not valid UTF-8: *");
    }

    [Fact]
    public void An_array_of_exactly_as_many_entries_as_the_bound_passes_the_count_check_and_is_read_entry_by_entry()
    {
        // The entries are empty objects, so reading stops at the first: cheap, and proof the count was let through.
        var json = "{\"event_log\":[" + string.Join(',', Enumerable.Repeat("{}", CcelParser.MaxEvents)) + "]}";

        var act = () => Parse(json);

        act.Should().Throw<EventLogException>().WithMessage("event 0 has no imr");
    }

    [Theory]
    [InlineData("event_log")]
    [InlineData("tcb_info")]
    public void Only_JSON_held_in_a_string_counts_toward_the_nesting_bound(string outer)
    {
        // An object field, then two levels of JSON inside strings: the most the parser unwraps.
        const string Array = """[{"imr":0,"event_type":3,"event_payload":"abcd"}]""";
        var inner = "{\"event_log\":" + Quote(Array) + "}";
        var json = "{\"" + outer + "\":{\"" + outer + "\":" + Quote(inner) + "}}";

        var log = Parse(json);

        log.Events.Should().ContainSingle().Which.Data.Should().Equal(0xAB, 0xCD);
    }

    [Fact]
    public void A_runtime_event_without_a_name_is_read_with_an_empty_name()
    {
        var log = Parse("""[{"imr":3,"event_type":134217729,"event_payload":"0102"}]""");

        log.Events[0].Name.Should().BeEmpty();
        log.Events[0].Digest.Should().Equal(DstackEventLogParser.RuntimeDigest("", [1, 2]));
    }

    [Fact]
    public void A_boot_event_without_a_payload_has_empty_data()
    {
        var log = Parse($$"""[{"imr":1,"event_type":4,"digest":"{{new string('a', 96)}}"}]""");

        log.Events[0].Data.Should().NotBeNull().And.BeEmpty();
        log.Events[0].Digest.Should().Equal(Enumerable.Repeat((byte)0xAA, 48));
    }

    [Fact]
    public void An_EV_NO_ACTION_event_without_a_digest_is_kept_with_an_empty_one()
    {
        var log = Parse("""[{"imr":0,"event_type":3,"event_payload":"00"}]""");

        log.Events[0].Digest.Should().NotBeNull().And.BeEmpty();
        log.Events[0].IsExtended.Should().BeFalse();
    }

    [Fact]
    public void A_runtime_event_with_an_empty_digest_is_read_by_its_name_and_payload_without_a_problem()
    {
        var log = Parse("""[{"imr":3,"event_type":134217729,"digest":"","event":"app-id","event_payload":"9f91439ecacc4f8845a9cd81cc141256d5e1bce3"}]""");

        log.Problems.Should().BeEmpty("an empty digest claims nothing");
        Convert.ToHexStringLower(log.Events[0].Digest).Should().Be(PublicDstackEvents[1].Digest);
    }

    [Fact]
    public void A_runtime_event_whose_hash_input_is_its_type_name_and_payload_is_read_without_a_problem()
    {
        // 0x08000001 as u32 LE ‖ ":" ‖ "app-id" ‖ ":" ‖ payload
        var hashInput = "01000008" + Convert.ToHexStringLower(":app-id:"u8) + "9f91439ecacc4f8845a9cd81cc141256d5e1bce3";

        var log = Parse($$"""[{"imr":3,"event_type":134217729,"event":"app-id","event_payload":"9f91439ecacc4f8845a9cd81cc141256d5e1bce3","hash_input":"{{hashInput}}","version":1}]""");

        log.Problems.Should().BeEmpty();
        Convert.ToHexStringLower(log.Events[0].Digest).Should().Be(PublicDstackEvents[1].Digest);
    }

    [Fact]
    public void A_runtime_event_whose_hash_input_is_not_its_type_name_and_payload_is_reported_as_edited()
    {
        var hashInput = "01000008" + Convert.ToHexStringLower(":app-id:"u8) + "0000000000000000000000000000000000000000";

        var log = Parse($$"""[{"imr":3,"event_type":134217729,"event":"app-id","event_payload":"9f91439ecacc4f8845a9cd81cc141256d5e1bce3","hash_input":"{{hashInput}}"}]""");

        log.Problems.Should().ContainSingle().Which.Should().Be("event 0 ('app-id', RTMR3): its hash_input is not type ‖ \":\" ‖ name ‖ \":\" ‖ payload: the event was edited");
        Convert.ToHexStringLower(log.Events[0].Digest).Should().Be(PublicDstackEvents[1].Digest, "the digest still comes from the name and payload");
    }

    [Theory]
    [InlineData(64, "")]
    [InlineData(65, "…")]
    public void A_name_in_a_message_is_cut_at_64_characters_and_marked_when_cut(int length, string mark)
    {
        var name = new string('n', length);

        DstackEventLogParser.Quoted(name).Should().Be("'" + new string('n', 64) + mark + "'");
    }

    [Fact]
    public void A_name_in_a_message_shows_control_characters_as_question_marks()
    {
        DstackEventLogParser.Quoted("app\nid").Should().Be("'app?id'");
    }

    /// <summary>The array of a {"event_log":[...]} document, as text.</summary>
    private static string ExtractArray(string json) => json[json.IndexOf('[', StringComparison.Ordinal)..json.LastIndexOf(']')] + "]";

    private static string Quote(string json) => "\"" + json.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";
}
