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

    [Fact]
    public void Eight_bytes_that_open_like_a_CCEL_are_read_as_one_and_refused_as_too_short()
    {
        // MR index 0 and EV_NO_ACTION: the smallest input the format sniffing takes for a CCEL.
        var act = () => EventLogReader.Parse([0, 0, 0, 0, 3, 0, 0, 0]);

        act.Should().Throw<EventLogException>().WithMessage("CCEL is 8 bytes, shorter than its 32-byte first event header");
    }

    [Fact]
    public void A_first_event_of_exactly_32_bytes_with_no_spec_ID_data_is_not_a_crypto_agile_log()
    {
        var ccel = Header()[..32];
        BinaryPrimitives.WriteUInt32LittleEndian(ccel.AsSpan(28), 0);

        var act = () => CcelParser.Parse(ccel);

        act.Should().Throw<EventLogException>().WithMessage("CCEL first event is not a TCG2 \"Spec ID Event03\" (not a crypto-agile log)");
    }

    [Theory]
    [InlineData(0, 1u)] // MR index 1 (RTMR0) instead of 0
    [InlineData(4, 4u)] // EV_SEPARATOR instead of EV_NO_ACTION
    public void A_log_that_does_not_open_with_the_spec_ID_event_is_refused(int offset, uint value)
    {
        var ccel = SyntheticEventLog.Dstack().Ccel(areaSize: 0);
        BinaryPrimitives.WriteUInt32LittleEndian(ccel.AsSpan(offset), value);

        var act = () => CcelParser.Parse(ccel);

        act.Should().Throw<EventLogException>().WithMessage("CCEL does not start with the spec-ID event (MR index 0, EV_NO_ACTION)");
    }

    [Fact]
    public void A_log_of_only_the_spec_ID_event_parses_to_that_one_event()
    {
        var ccel = Header();

        var log = CcelParser.Parse(ccel);

        var header = log.Events.Should().ContainSingle().Subject;
        header.Type.Should().Be(EventTypes.NoAction);
        header.Rtmr.Should().BeNull();
        header.Data.Should().Equal(ccel[32..], "the spec-ID data runs to the last byte");
        CcelParser.ContentLength(ccel).Should().Be(FirstEvent);
    }

    [Fact]
    public void A_spec_ID_event_claiming_one_byte_more_than_follows_is_refused()
    {
        var ccel = Header();
        BinaryPrimitives.WriteUInt32LittleEndian(ccel.AsSpan(28), 38);

        var act = () => CcelParser.Parse(ccel);

        act.Should().Throw<EventLogException>().WithMessage("CCEL spec-ID event claims 38 bytes of data, but only 37 follow");
    }

    [Fact]
    public void A_spec_ID_event_with_another_signature_is_refused()
    {
        // "Spec ID Event00" opens a TPM 1.2 (SHA-1 only) log, which carries no SHA-384 digests.
        var ccel = SyntheticEventLog.SpecIdHeader([(0x000B, 32), (0x000C, 48)], signature: "Spec ID Event00\0");

        var act = () => CcelParser.Parse(ccel);

        act.Should().Throw<EventLogException>().WithMessage("CCEL first event is not a TCG2 \"Spec ID Event03\" (not a crypto-agile log)");
    }

    [Fact]
    public void A_spec_ID_event_cut_after_its_signature_is_refused()
    {
        var ccel = Header()[..(32 + 16)];
        BinaryPrimitives.WriteUInt32LittleEndian(ccel.AsSpan(28), 16);

        var act = () => CcelParser.Parse(ccel);

        act.Should().Throw<EventLogException>().WithMessage("CCEL first event is not a TCG2 \"Spec ID Event03\" (not a crypto-agile log)");
    }

    [Theory]
    [InlineData(16, true)]
    [InlineData(17, false)]
    public void A_spec_ID_event_may_list_up_to_16_algorithms(int count, bool accepted)
    {
        // SHA-384 and then made-up algorithm ids 0x0100, 0x0101, ... with 32-byte digests.
        var algorithms = Enumerable.Range(0, count - 1).Select(i => ((ushort)(0x0100 + i), (ushort)32)).Prepend(((ushort)0x000C, (ushort)48));
        var ccel = SyntheticEventLog.SpecIdHeader(algorithms);

        var act = () => CcelParser.Parse(ccel);

        if (accepted)
        {
            act.Should().NotThrow();
        }
        else
        {
            act.Should().Throw<EventLogException>().WithMessage("CCEL spec-ID event lists 17 digest algorithms, which its 97 bytes cannot hold (1 to 16)");
        }
    }

    [Fact]
    public void An_algorithm_list_that_ends_exactly_where_the_spec_ID_data_ends_is_read()
    {
        var ccel = SyntheticEventLog.SpecIdHeader([(0x000B, 32), (0x000C, 48)], vendorInfoSize: false);

        var log = CcelParser.Parse(ccel);

        log.Events.Should().ContainSingle().Which.Data.Should().HaveCount(28 + 8);
    }

    [Theory]
    [InlineData((ushort)0x000B, (ushort)32, (ushort)0x000B, (ushort)32, "algorithm 0x000b is listed twice or has an impossible digest size 32")]
    [InlineData((ushort)0x000B, (ushort)0, (ushort)0x0004, (ushort)20, "algorithm 0x000b is listed twice or has an impossible digest size 0")]
    [InlineData((ushort)0x000D, (ushort)65, (ushort)0x0004, (ushort)20, "algorithm 0x000d is listed twice or has an impossible digest size 65")]
    public void A_spec_ID_event_with_a_repeated_algorithm_or_an_impossible_digest_size_is_refused(ushort firstAlgorithm, ushort firstSize, ushort secondAlgorithm, ushort secondSize, string reason)
    {
        var ccel = SyntheticEventLog.SpecIdHeader([(firstAlgorithm, firstSize), (secondAlgorithm, secondSize), (0x000C, 48)]);

        var act = () => CcelParser.Parse(ccel);

        act.Should().Throw<EventLogException>().WithMessage("CCEL spec-ID event: " + reason);
    }

    [Theory]
    [InlineData(2, "MR index", 4)]
    [InlineData(6, "event type", 4)]
    [InlineData(10, "digest count", 4)]
    [InlineData(13, "digest algorithm", 2)]
    [InlineData(20, "digest", 48)]
    [InlineData(64, "event size", 4)]
    [InlineData(68, "event data", 4)]
    public void An_event_cut_short_is_refused_naming_the_field_that_runs_past_the_end(int kept, string field, int fieldSize)
    {
        byte[] ccel = [.. Header(), .. RawEvent(1, SyntheticEvent.Separator, [(CcelParser.Sha384AlgorithmId, new byte[48])], [0, 0, 0, 0])];
        var length = FirstEvent + kept;

        var act = () => CcelParser.Parse(ccel.AsSpan(0, length));

        act.Should().Throw<EventLogException>().WithMessage($"CCEL event 1 at offset 69: the {field} ({fieldSize} bytes) runs past the end of the {length}-byte log");
    }

    [Fact]
    public void An_event_with_two_digests_of_one_algorithm_is_refused()
    {
        var digest = new byte[48];
        byte[] ccel = [.. Header(), .. RawEvent(1, SyntheticEvent.Separator, [(CcelParser.Sha384AlgorithmId, digest), (CcelParser.Sha384AlgorithmId, digest)])];

        var act = () => CcelParser.Parse(ccel);

        act.Should().Throw<EventLogException>().WithMessage("CCEL event 1 at offset 69: two digests of algorithm 0x000c");
    }

    [Fact]
    public void An_extended_event_without_a_SHA384_digest_is_refused()
    {
        byte[] ccel = [.. Header(), .. RawEvent(1, SyntheticEvent.Separator, [(0x000B, new byte[32])])];

        var act = () => CcelParser.Parse(ccel);

        act.Should().Throw<EventLogException>().WithMessage("CCEL event 1 at offset 69: no SHA-384 digest to extend RTMR0 with");
    }

    [Fact]
    public void An_EV_NO_ACTION_event_in_an_RTMR_needs_no_digest_and_is_kept_with_an_empty_one()
    {
        byte[] ccel = [.. Header(), .. RawEvent(1, SyntheticEvent.NoAction, [])];

        var log = CcelParser.Parse(ccel);

        log.Events.Should().HaveCount(2);
        log.Events[1].Rtmr.Should().Be(0);
        log.Events[1].Digest.Should().NotBeNull().And.BeEmpty();
        log.Events[1].IsExtended.Should().BeFalse();
    }

    [Fact]
    public void An_event_for_MR_index_0_needs_no_SHA384_digest_since_nothing_replays_it()
    {
        byte[] ccel = [.. Header(), .. RawEvent(0, SyntheticEvent.Separator, [(0x000B, new byte[32])])];

        var log = CcelParser.Parse(ccel);

        log.Events[1].Rtmr.Should().BeNull();
        log.Events[1].Digest.Should().NotBeNull().And.BeEmpty("only a SHA-384 digest is kept");
        RtmrReplay.Replay(log.Events).Should().AllSatisfy(rtmr => rtmr.Should().Equal(new byte[48]));
    }

    [Fact]
    public void More_events_than_the_bound_are_refused()
    {
        // The smallest event: EV_NO_ACTION in MR index 0, no digests, no data (16 bytes).
        var smallest = RawEvent(0, SyntheticEvent.NoAction, []);
        var ccel = new byte[FirstEvent + ((CcelParser.MaxEvents + 1) * smallest.Length)];
        Header().CopyTo(ccel, 0);
        for (var offset = FirstEvent; offset < ccel.Length; offset += smallest.Length)
        {
            smallest.CopyTo(ccel, offset);
        }

        var act = () => CcelParser.Parse(ccel);

        act.Should().Throw<EventLogException>().WithMessage("CCEL has more than 65536 events");
    }

    [Fact]
    public void An_event_with_a_digest_of_an_algorithm_the_spec_ID_event_did_not_announce_is_refused()
    {
        byte[] ccel = [.. Header(), .. RawEvent(1, SyntheticEvent.Separator, [(0x0004, new byte[20]), (CcelParser.Sha384AlgorithmId, new byte[48])])];

        var act = () => CcelParser.Parse(ccel);

        act.Should().Throw<EventLogException>().WithMessage("CCEL event 1 at offset 69: digest algorithm 0x0004 is not announced in the spec-ID event");
    }

    [Fact]
    public void A_digest_size_of_64_bytes_is_the_largest_accepted()
    {
        var ccel = SyntheticEventLog.SpecIdHeader([(0x000D, 64), (0x000C, 48)]); // SHA-512, SHA-384

        var log = CcelParser.Parse(ccel);

        log.Events.Should().ContainSingle();
    }

    /// <summary>A synthetic CCEL's spec-ID header event alone (69 bytes; SHA-256 and SHA-384), with no events after it.</summary>
    private static byte[] Header() => SyntheticEventLog.SpecIdHeader([(0x000B, 32), (0x000C, 48)]);

    /// <summary>One TCG_PCR_EVENT2 built by hand, so that its digest list can be anything.</summary>
    private static byte[] RawEvent(uint mrIndex, uint type, (ushort Algorithm, byte[] Digest)[] digests, byte[]? data = null) =>
    [
        .. LittleEndian.U32(mrIndex),
        .. LittleEndian.U32(type),
        .. LittleEndian.U32((uint)digests.Length),
        .. digests.SelectMany(d => (byte[])[.. LittleEndian.U16(d.Algorithm), .. d.Digest]),
        .. LittleEndian.U32((uint)(data?.Length ?? 0)),
        .. data ?? [],
    ];

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
