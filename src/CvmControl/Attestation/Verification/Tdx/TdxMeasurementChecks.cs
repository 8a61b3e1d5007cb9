using System.Security.Cryptography;
using CvmControl.Attestation.Verification.EventLog;

namespace CvmControl.Attestation.Verification.Tdx;

/// <summary>
/// What booted: the event log replayed against the quote's RTMRs, the dstack runtime events the
/// caller expects, and the MRTD and RTMR values the image builder published. An event log proves
/// nothing by itself; once it replays to the signed RTMRs, every digest in it is as good as the
/// quote, and so is the name and payload of every runtime event, whose digest is recomputed.
/// </summary>
internal static class TdxMeasurementChecks
{
    public static void Check(TdReportBody body, MeasurementExpectations expected, VerificationResult result)
    {
        var rtmrs = Enumerable.Range(0, RtmrReplay.RegisterCount).Select(body.Rtmr).ToArray();
        result.Rtmrs = rtmrs;

        ExpectationChecks.Compare("MRTD", "measurement", body.Mrtd, expected.Mrtd, result);
        foreach (var (index, value) in expected.Rtmrs.OrderBy(r => r.Key))
        {
            ExpectationChecks.Compare($"RTMR{index}", "value", rtmrs[index], value, result);
        }

        if (expected.EventLog is not { } log)
        {
            if (expected.Events.Count > 0)
            {
                result.Fail("no event log to find the expected events in: pass --event-log FILE (a daemon sends its CCEL when the guest has one)");
            }
            return;
        }
        ParsedEventLog parsed;
        try
        {
            parsed = EventLogReader.Parse(log);
        }
        catch (EventLogException ex)
        {
            result.Fail($"event log: {ex.Message}");
            return;
        }
        result.EventLog = parsed;
        foreach (var problem in parsed.Problems)
        {
            result.Fail($"event log: {problem}");
        }
        CheckReplay(parsed, rtmrs, result);
        CheckEvents(parsed, expected.Events, result);
    }

    private static void CheckReplay(ParsedEventLog log, byte[][] quoted, VerificationResult result)
    {
        var replayed = RtmrReplay.Replay(log.Events);
        for (var i = 0; i < RtmrReplay.RegisterCount; i++)
        {
            if (!CryptographicOperations.FixedTimeEquals(replayed[i], quoted[i]))
            {
                var count = log.Events.Count(e => e.IsExtended && e.Rtmr == i);
                result.Fail($"RTMR{i} does not match the event log: the quote has {Convert.ToHexStringLower(quoted[i])}, its {count} events replay to {Convert.ToHexStringLower(replayed[i])}");
            }
        }
    }

    /// <summary>
    /// Every runtime event of each expected name must carry the expected payload, and there must be
    /// at least one: a second event of the same name with another value would otherwise go unseen.
    /// </summary>
    private static void CheckEvents(ParsedEventLog log, IReadOnlyList<ExpectedEvent> expected, VerificationResult result)
    {
        foreach (var (name, payload) in expected)
        {
            var found = log.Events.Where(e => e.Name == name).ToList();
            if (found.Count == 0)
            {
                result.Fail($"the event log has no runtime event named {DstackEventLogParser.Quoted(name)}");
            }
            foreach (var e in found.Where(e => !e.Data.AsSpan().SequenceEqual(payload)))
            {
                result.Fail($"event {e.Index} {DstackEventLogParser.Quoted(name)} has payload {Convert.ToHexStringLower(e.Data)}, expected {Convert.ToHexStringLower(payload)}");
            }
        }
    }
}
