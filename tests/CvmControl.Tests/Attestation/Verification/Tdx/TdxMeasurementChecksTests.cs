using CvmControl.Attestation.Verification;
using CvmControl.Attestation.Verification.Tdx;
using CvmControl.Tests.Attestation.Fakes;

namespace CvmControl.Tests.Attestation.Verification.Tdx;

/// <summary>What the measurement checks report about a body's RTMRs, on a bare TD report body (no quote to verify).</summary>
public sealed class TdxMeasurementChecksTests
{
    /// <summary>A TDX 1.0 report body holding <paramref name="rtmrs"/> and zeros elsewhere.</summary>
    private static TdReportBody BodyWith(byte[][] rtmrs)
    {
        var raw = new byte[TdxQuote.Tdx10BodySize];
        for (var i = 0; i < rtmrs.Length; i++)
        {
            rtmrs[i].CopyTo(raw, TdReportBody.Rtmr0Offset + (48 * i));
        }
        return new TdReportBody(raw);
    }

    [Fact]
    public void Expected_RTMRs_that_differ_are_reported_in_register_order()
    {
        var body = BodyWith([new byte[48], new byte[48], new byte[48], new byte[48]]);
        var wrong = Enumerable.Repeat((byte)0xaa, 48).ToArray();
        var expected = new MeasurementExpectations { Rtmrs = new Dictionary<int, byte[]> { [2] = wrong, [0] = wrong } };
        var result = new VerificationResult();

        TdxMeasurementChecks.Check(body, expected, result);

        result.Errors.Should().HaveCount(2);
        result.Errors[0].Should().StartWith("RTMR0 does not match the expected value");
        result.Errors[1].Should().StartWith("RTMR2 does not match the expected value");
    }

    [Fact]
    public void A_register_that_does_not_replay_counts_only_its_own_extended_events()
    {
        // RTMR0 gets three extended boot events and one EV_NO_ACTION, which is logged but not extended.
        var dstack = SyntheticEventLog.Dstack();
        var log = new SyntheticEventLog([SyntheticEvent.Boot(0, SyntheticEvent.NoAction, [1, 2, 3, 4]), .. dstack.Events]);
        var rtmrs = log.Rtmrs();
        var replayed0 = rtmrs[0];
        rtmrs[0] = new byte[48];
        var result = new VerificationResult();

        TdxMeasurementChecks.Check(BodyWith(rtmrs), new MeasurementExpectations { EventLog = log.Ccel() }, result);

        result.Errors.Should().Equal(
            $"RTMR0 does not match the event log: the quote has {Convert.ToHexStringLower(new byte[48])}, its 3 events replay to {Convert.ToHexStringLower(replayed0)}");
    }
}
