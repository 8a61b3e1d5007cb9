using System.Security.Cryptography;
using System.Text;
using CvmControl.Attestation.Verification;
using CvmControl.Attestation.Verification.Tdx;
using CvmControl.Tests.Attestation.Fakes;

namespace CvmControl.Tests.Attestation.Verification.Tdx;

/// <summary>
/// A synthetic log, a quote the fake Intel signed over the RTMRs that log replays to, and every way
/// the two can disagree. The quote is genuine in each case, so a failure can only come from the log.
/// </summary>
public sealed class EventLogReplayTests : IDisposable
{
    private readonly FakeIntel _intel = new();
    private readonly SyntheticEventLog _log = SyntheticEventLog.Dstack();
    private readonly byte[] _mrtd = RandomNumberGenerator.GetBytes(48);

    public void Dispose() => _intel.Dispose();

    private byte[] QuoteFor(byte[][] rtmrs) => _intel.Quote(new FakeQuoteSpec { Rtmrs = rtmrs, Mrtd = _mrtd }, out _);

    private VerificationResult Verify(byte[] quote, byte[] eventLog, params ExpectedEvent[] events) =>
        EvidenceVerifier.Verify(quote, new VerificationOptions
        {
            At = FakeTdxQuote.ValidAt,
            Anchors = _intel.Anchors,
            Measurements = new MeasurementExpectations { EventLog = eventLog, Events = events },
        });

    private static ExpectedEvent[] AllRuntimeEvents(SyntheticEventLog log) =>
        [.. log.Events.Where(e => e.Name is not null).Select(e => new ExpectedEvent(e.Name!, e.Data))];

    [Fact]
    public void A_dstack_log_replays_against_its_quote_and_lists_its_events()
    {
        var quote = QuoteFor(_log.Rtmrs());
        var appId = _log.Events.Single(e => e.Name == "app-id");

        var result = Verify(quote, Encoding.UTF8.GetBytes(_log.DstackInfoJson()), new ExpectedEvent("app-id", appId.Data));

        result.Errors.Should().BeEmpty();
        result.Verified.Should().BeTrue();
        result.Rtmrs.Should().BeEquivalentTo(_log.Rtmrs(), o => o.WithStrictOrdering());
        result.EventLog!.Events.Should().HaveCount(_log.Events.Count);
        result.EventLog.Events.Single(e => e.Name == "app-id").Data.Should().Equal(appId.Data);
    }

    [Fact]
    public void The_same_log_as_a_CCEL_replays_against_the_same_quote()
    {
        var quote = QuoteFor(_log.Rtmrs());

        var result = Verify(quote, _log.Ccel());

        result.Errors.Should().BeEmpty();
        result.EventLog!.Format.Should().Be(CvmControl.Attestation.Verification.EventLog.EventLogFormat.Ccel);
    }

    [Fact]
    public void An_edited_event_is_caught_and_named_with_its_register()
    {
        var quote = QuoteFor(_log.Rtmrs());
        var appId = Convert.ToHexStringLower(_log.Events.Single(e => e.Name == "app-id").Data);
        var edited = _log.DstackJson().Replace(appId, "00" + appId[2..], StringComparison.Ordinal);

        var result = Verify(quote, Encoding.UTF8.GetBytes(edited));

        result.Verified.Should().BeFalse();
        result.Errors.Should().HaveCount(2);
        result.Errors[0].Should().StartWith("event log: event 7 ('app-id', RTMR3): its digest").And.EndWith("the event was edited");
        result.Errors[1].Should().StartWith("RTMR3 does not match the event log: the quote has " + Convert.ToHexStringLower(_log.Rtmrs()[3]));
    }

    [Fact]
    public void A_consistently_rewritten_event_still_fails_on_its_register()
    {
        // The attacker recomputes the digest too: only the quote's RTMR3 can tell.
        var tampered = new SyntheticEventLog([.. _log.Events.Select(e => e.Name == "compose-hash" ? SyntheticEvent.DstackRuntime("compose-hash", new byte[32]) : e)]);
        var quote = QuoteFor(_log.Rtmrs());

        var result = Verify(quote, Encoding.UTF8.GetBytes(tampered.DstackJson()));

        result.Errors.Should().ContainSingle().Which.Should().StartWith("RTMR3 does not match the event log");
    }

    [Fact]
    public void Flipping_any_byte_of_the_dstack_log_fails_unless_it_changes_nothing_measured()
    {
        var body = BodyOf(QuoteFor(_log.Rtmrs()));
        var json = Encoding.UTF8.GetBytes(_log.DstackJson());
        var expected = AllRuntimeEvents(_log);
        var measured = Measured(Check(body, json, expected));

        var failed = 0;
        for (var i = 0; i < json.Length; i++)
        {
            var flipped = (byte[])json.Clone();
            flipped[i] ^= 0x01;

            var result = Check(body, flipped, expected);

            if (result.Errors.Count == 0)
            {
                // Only what the format does not measure may change: a boot event's type or data.
                Measured(result).Should().Be(measured, $"byte {i} ('{(char)json[i]}') of the JSON log was flipped and the log still verified");
            }
            else
            {
                failed++;
            }
        }
        failed.Should().BeGreaterThan(json.Length * 3 / 4, "every byte but a boot event's type and data is measured or structural");
    }

    [Fact]
    public void Flipping_any_byte_of_the_CCEL_fails_unless_it_changes_nothing_measured()
    {
        var body = BodyOf(QuoteFor(_log.Rtmrs()));
        byte[] ccel = [.. _log.Ccel(areaSize: 0), .. Enumerable.Repeat((byte)0xFF, 64)];
        var measured = Measured(Check(body, ccel));

        var failed = 0;
        for (var i = 0; i < ccel.Length; i++)
        {
            var flipped = (byte[])ccel.Clone();
            flipped[i] ^= 0x01;

            var result = Check(body, flipped);

            if (result.Errors.Count == 0)
            {
                // Unmeasured: the header's informational fields, event types, SHA-256 digests and event data.
                Measured(result).Should().Be(measured, $"byte {i} of the CCEL was flipped and the log still verified");
            }
            else
            {
                failed++;
            }
        }
        failed.Should().BeGreaterThan(ccel.Length / 3, "MR indexes, SHA-384 digests, lengths and padding are all checked");
    }

    [Fact]
    public void A_quote_with_any_RTMR_byte_changed_fails_and_names_that_register()
    {
        var rtmrs = _log.Rtmrs();
        var json = Encoding.UTF8.GetBytes(_log.DstackJson());
        for (var register = 0; register < 4; register++)
        {
            for (var offset = 0; offset < 48; offset += 5)
            {
                var changed = rtmrs.Select(r => (byte[])r.Clone()).ToArray();
                changed[register][offset] ^= 0x01;

                var result = Verify(QuoteFor(changed), json);

                result.Errors.Should().ContainSingle($"RTMR{register} byte {offset} differs").Which.Should().StartWith($"RTMR{register} does not match the event log: the quote has {Convert.ToHexStringLower(changed[register])}");
            }
        }
    }

    [Fact]
    public void Expected_registers_and_MRTD_are_checked_and_a_mismatch_says_what_differed()
    {
        var rtmrs = _log.Rtmrs();
        var quote = QuoteFor(rtmrs);
        var wrong = new byte[48];

        var good = EvidenceVerifier.Verify(quote, Options(new MeasurementExpectations { Rtmrs = new Dictionary<int, byte[]> { [0] = rtmrs[0], [3] = rtmrs[3] }, Mrtd = _mrtd }));
        var bad = EvidenceVerifier.Verify(quote, Options(new MeasurementExpectations { Rtmrs = new Dictionary<int, byte[]> { [2] = wrong }, Mrtd = wrong }));

        good.Errors.Should().BeEmpty();
        bad.Errors.Should().Equal(
            $"MRTD does not match the expected measurement (evidence has {Convert.ToHexStringLower(_mrtd)}, expected {Convert.ToHexStringLower(wrong)})",
            $"RTMR2 does not match the expected value (evidence has {Convert.ToHexStringLower(rtmrs[2])}, expected {Convert.ToHexStringLower(wrong)})");
    }

    [Fact]
    public void An_expected_event_must_be_present_and_every_namesake_must_carry_its_payload()
    {
        var doubled = new SyntheticEventLog([.. _log.Events, SyntheticEvent.DstackRuntime("app-id", [1, 2, 3])]);
        var quote = QuoteFor(doubled.Rtmrs());
        var appId = _log.Events.Single(e => e.Name == "app-id").Data;

        var result = Verify(quote, Encoding.UTF8.GetBytes(doubled.DstackJson()), new ExpectedEvent("app-id", appId), new ExpectedEvent("key-provider", [9]));

        result.Errors.Should().Equal(
            $"event 11 'app-id' has payload 010203, expected {Convert.ToHexStringLower(appId)}",
            "the event log has no runtime event named 'key-provider'");
    }

    [Fact]
    public void Expected_events_without_a_log_fail()
    {
        var result = EvidenceVerifier.Verify(QuoteFor(_log.Rtmrs()), Options(new MeasurementExpectations { Events = [new ExpectedEvent("app-id", [1])] }));

        result.Errors.Should().ContainSingle().Which.Should().StartWith("no event log to find the expected events in");
    }

    [Fact]
    public void An_unreadable_log_fails_with_its_reason()
    {
        var result = Verify(QuoteFor(_log.Rtmrs()), "{\"event_log\":[{\"imr\":9}]}"u8.ToArray());

        result.Errors.Should().Equal("event log: event 0 has no event_type");
    }

    [Fact]
    public void TDX_expectations_on_SEV_SNP_evidence_fail_rather_than_pass_unchecked()
    {
        using var amd = new FakeSnpReport();
        var report = amd.Create(new byte[64]);

        var result = EvidenceVerifier.Verify(report, new VerificationOptions
        {
            At = FakeTdxQuote.ValidAt,
            Anchors = amd.Anchors,
            ExtraCertificates = [amd.Vcek],
            Measurements = new MeasurementExpectations { EventLog = _log.Ccel() },
        });

        result.Errors.Should().Equal("an event log, RTMR, MRTD or event expectation applies to TDX quotes; this is SEV-SNP evidence");
    }

    /// <summary>
    /// The measurement checks alone, on the body of a quote whose signature chain other tests verify:
    /// a thousand-fold loop need not re-verify the same signatures for each flipped byte of the log.
    /// </summary>
    private static VerificationResult Check(TdReportBody body, byte[] eventLog, params ExpectedEvent[] events)
    {
        var result = new VerificationResult();
        TdxMeasurementChecks.Check(body, new MeasurementExpectations { EventLog = eventLog, Events = events }, result);
        return result;
    }

    private static TdReportBody BodyOf(byte[] quote) => new(quote[48..(48 + 584)]);

    private VerificationOptions Options(MeasurementExpectations measurements) =>
        new() { At = FakeTdxQuote.ValidAt, Anchors = _intel.Anchors, Measurements = measurements };

    /// <summary>What replay vouches for: each extended event's register and digest, and each runtime event's name and payload.</summary>
    private static string Measured(VerificationResult result) => string.Join('\n', result.EventLog!.Events
        .Where(e => e.IsExtended || e.Name is not null)
        .Select(e => $"{e.Rtmr}/{Convert.ToHexStringLower(e.Digest)}/{e.Name}/{(e.Name is null ? "" : Convert.ToHexStringLower(e.Data))}"));
}
