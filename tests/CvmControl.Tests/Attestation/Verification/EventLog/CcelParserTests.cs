using System.Buffers.Binary;
using System.Text.Json;
using CvmControl.Attestation.Verification.EventLog;
using CvmControl.Tests.Attestation.Fakes;

namespace CvmControl.Tests.Attestation.Verification.EventLog;

public sealed class CcelParserTests
{
    /// <summary>Where trustee's CCEL_data ends its five events and its zero padding begins.</summary>
    private const int TrusteeContentLength = 9822;

    /// <summary>In a synthetic log: the 32-byte header event and its 37-byte spec-ID data (two algorithms).</summary>
    private const int FirstEvent = 69;

    [Fact]
    public void Trustee_CCEL_parses_to_the_events_trustee_expects()
    {
        var log = CcelParser.Parse(TestVectors.Read("CCEL_data"));

        log.Format.Should().Be(EventLogFormat.Ccel);
        log.Problems.Should().BeEmpty();
        log.Events[0].Type.Should().Be(EventTypes.NoAction, "the spec-ID header comes first");
        log.Events[0].Rtmr.Should().BeNull();
        using var expected = JsonDocument.Parse(TestVectors.Read("parse_tdx_claims_expected.json"));
        var claims = expected.RootElement.GetProperty("uefi_event_logs").EnumerateArray().ToList();
        log.Events.Skip(1).Should().HaveCount(claims.Count).And.HaveCount(5);
        foreach (var (e, claim) in log.Events.Skip(1).Zip(claims))
        {
            e.Rtmr.Should().Be(claim.GetProperty("index").GetInt32() - 1, "trustee's index is the CC MR index, 1 for RTMR0");
            EventTypes.NameOf(e.Type).Should().Be(claim.GetProperty("type_name").GetString());
            var digests = claim.GetProperty("digests").EnumerateArray().ToList();
            digests.Should().ContainSingle().Which.GetProperty("alg").GetString().Should().Be("SHA-384");
            Convert.ToHexStringLower(e.Digest).Should().Be(digests[0].GetProperty("digest").GetString());
            e.Data.Should().Equal(claim.GetProperty("event").GetBytesFromBase64());
            e.Name.Should().BeNull("only dstack runtime events have names");
        }
    }

    [Fact]
    public void Trustee_CCEL_content_ends_where_its_zero_padding_begins()
    {
        var ccel = TestVectors.Read("CCEL_data");

        ccel.Should().HaveCount(1 << 20);
        CcelParser.ContentLength(ccel).Should().Be(TrusteeContentLength);
        CcelParser.Parse(ccel.AsSpan(0, TrusteeContentLength)).Events.Should().HaveCount(6, "the trimmed table still holds every event");
    }

    [Fact]
    public void Replaying_the_trustee_CCEL_extends_RTMR0_and_RTMR1_only()
    {
        var events = CcelParser.Parse(TestVectors.Read("CCEL_data")).Events;

        var rtmrs = RtmrReplay.Replay(events);

        var zero = new byte[48];
        rtmrs[0].Should().NotEqual(zero);
        rtmrs[1].Should().NotEqual(zero);
        rtmrs[2].Should().Equal(zero);
        rtmrs[3].Should().Equal(zero);
        rtmrs[0].Should().Equal(ExtendFromZero(events[1].Digest, events[2].Digest));
        rtmrs[1].Should().Equal(ExtendFromZero(events[3].Digest, events[4].Digest, events[5].Digest));
    }

    [Theory]
    [InlineData((byte)0xFF)]
    [InlineData((byte)0x00)]
    public void A_synthetic_log_with_two_digests_per_event_parses_whatever_its_padding(byte padding)
    {
        var synthetic = SyntheticEventLog.Dstack();

        var log = CcelParser.Parse(synthetic.Ccel(padding));

        log.Events.Skip(1).Select(e => (e.Rtmr, e.Type)).Should().Equal(synthetic.Events.Select(e => ((int?)e.Rtmr, e.Type)));
        log.Events.Skip(1).Select(e => Convert.ToHexStringLower(e.Digest)).Should().Equal(synthetic.Events.Select(e => Convert.ToHexStringLower(e.Digest)), "the SHA-384 digest is kept, the SHA-256 one skipped");
        RtmrReplay.Replay(log.Events).Should().BeEquivalentTo(synthetic.Rtmrs(), o => o.WithStrictOrdering());
    }

    [Fact]
    public void Four_FF_bytes_end_a_log_as_dstack_terminates_its_merged_CCEL()
    {
        var synthetic = SyntheticEventLog.Dstack();
        var ccel = synthetic.Ccel(areaSize: 0);

        var log = CcelParser.Parse([.. ccel, 0xFF, 0xFF, 0xFF, 0xFF]);

        log.Events.Should().HaveCount(synthetic.Events.Count + 1);
        CcelParser.ContentLength([.. ccel, 0xFF, 0xFF, 0xFF, 0xFF]).Should().Be(ccel.Length);
    }

    [Fact]
    public void Every_truncation_either_ends_at_an_event_boundary_or_fails_cleanly()
    {
        var ccel = TestVectors.Read("CCEL_data").AsSpan(0, TrusteeContentLength).ToArray();
        int[] boundaries = [72, 5406, 5476, 5546, 5640, TrusteeContentLength];

        for (var length = 0; length <= ccel.Length; length++)
        {
            ParsedEventLog? log = null;
            var act = () => log = CcelParser.Parse(ccel.AsSpan(0, length));

            if (boundaries.Contains(length))
            {
                act.Should().NotThrow($"{length} bytes end at an event boundary");
                log!.Events.Should().HaveCount(Array.IndexOf(boundaries, length) + 1);
            }
            else
            {
                act.Should().Throw<EventLogException>($"{length} bytes end inside an event");
            }
        }
    }

    [Fact]
    public void Random_corruption_is_refused_with_a_format_error_or_parsed_never_anything_else()
    {
        var original = SyntheticEventLog.Dstack().Ccel(areaSize: 0);
        var random = new Random(17);
        var refused = 0;
        for (var round = 0; round < 5000; round++)
        {
            var ccel = (byte[])original.Clone();
            for (var i = random.Next(1, 6); i > 0; i--)
            {
                ccel[random.Next(ccel.Length)] = (byte)random.Next(256);
            }
            // Any exception but EventLogException escapes and fails the test.
            try
            {
                CcelParser.Parse(ccel);
            }
            catch (EventLogException)
            {
                refused++;
            }
        }
        refused.Should().BeGreaterThan(1000, "most random corruption breaks the structure");
    }

    [Theory]
    [InlineData("digest count", "CCEL event 1 at offset 69: 4294967295 digests, but the log announces only 2 algorithms")]
    [InlineData("event size", "CCEL event 1 at offset 69: the event data (4294967295 bytes) runs past the end")]
    [InlineData("algorithm count", "CCEL spec-ID event lists 4294967295 digest algorithms")]
    [InlineData("spec size", "CCEL spec-ID event claims 4294967295 bytes of data")]
    public void Oversized_counts_and_lengths_are_refused_with_a_reason(string field, string message)
    {
        var ccel = SyntheticEventLog.Dstack().Ccel(areaSize: 0);
        var offset = field switch
        {
            "digest count" => FirstEvent + 8,
            "event size" => FirstEvent + 12 + 2 + 32 + 2 + 48,
            "algorithm count" => 32 + 24,
            _ => 28,
        };
        BinaryPrimitives.WriteUInt32LittleEndian(ccel.AsSpan(offset), uint.MaxValue);

        var act = () => CcelParser.Parse(ccel);

        act.Should().Throw<EventLogException>().Which.Message.Should().StartWith(message);
    }

    [Fact]
    public void An_extended_event_outside_RTMR0_to_RTMR3_is_refused()
    {
        var ccel = SyntheticEventLog.Dstack().Ccel(areaSize: 0);
        BinaryPrimitives.WriteUInt32LittleEndian(ccel.AsSpan(FirstEvent), 5);

        var act = () => CcelParser.Parse(ccel);

        act.Should().Throw<EventLogException>().WithMessage("CCEL event 1 at offset 69: MR index 5 is not an RTMR (1 to 4 are RTMR0 to RTMR3)");
    }

    [Fact]
    public void An_event_for_MR_index_0_is_kept_but_not_replayed()
    {
        // Some firmware logs events against index 0 (MRTD, which nothing extends at run time); dstack drops them.
        var synthetic = SyntheticEventLog.Dstack();
        var ccel = synthetic.Ccel(areaSize: 0);
        BinaryPrimitives.WriteUInt32LittleEndian(ccel.AsSpan(FirstEvent), 0);

        var log = CcelParser.Parse(ccel);

        log.Events[1].Rtmr.Should().BeNull();
        log.Events[1].IsExtended.Should().BeFalse();
        RtmrReplay.Replay(log.Events)[0].Should().NotEqual(synthetic.Rtmrs()[0], "the first RTMR0 event no longer counts");
    }

    [Fact]
    public void EV_NO_ACTION_events_are_kept_but_not_extended()
    {
        var synthetic = new SyntheticEventLog(
        [
            SyntheticEvent.Boot(0, SyntheticEvent.Separator, [0, 0, 0, 0]),
            SyntheticEvent.Boot(0, SyntheticEvent.NoAction, "StartupLocality\0\u0003"u8.ToArray()),
        ]);

        var log = CcelParser.Parse(synthetic.Ccel());

        log.Events.Should().HaveCount(3);
        log.Events[2].IsExtended.Should().BeFalse();
        RtmrReplay.Replay(log.Events)[0].Should().Equal(ExtendFromZero(SyntheticEvent.Boot(0, 4, [0, 0, 0, 0]).Digest));
    }

    [Fact]
    public void Data_after_the_end_of_the_log_is_refused()
    {
        var ccel = SyntheticEventLog.Dstack().Ccel(padding: 0xFF);
        ccel[^1] = 0x00;

        var act = () => CcelParser.Parse(ccel);

        act.Should().Throw<EventLogException>().Which.Message.Should().Contain("has data after its end").And.Contain("not all 0xff");
    }

    [Fact]
    public void A_log_without_SHA384_is_refused()
    {
        var ccel = SyntheticEventLog.Dstack().Ccel(areaSize: 0);
        BinaryPrimitives.WriteUInt16LittleEndian(ccel.AsSpan(32 + 28 + 4), 0x000D); // SHA-384 announced as SHA-512

        var act = () => CcelParser.Parse(ccel);

        act.Should().Throw<EventLogException>().WithMessage("*does not announce SHA-384*");
    }

    private static byte[] ExtendFromZero(params byte[][] digests)
    {
        var register = new byte[48];
        foreach (var digest in digests)
        {
            register = System.Security.Cryptography.SHA384.HashData([.. register, .. digest]);
        }
        return register;
    }
}
