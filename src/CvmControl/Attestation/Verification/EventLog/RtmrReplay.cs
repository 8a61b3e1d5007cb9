using System.Security.Cryptography;

namespace CvmControl.Attestation.Verification.EventLog;

/// <summary>
/// Recomputes RTMR0–3 from a log: each register starts as 48 zero bytes, and every extended event
/// sets its register to <c>SHA-384(register ‖ digest)</c>, which is what the TDX module's
/// TDG.MR.RTMR.EXTEND does.
/// </summary>
internal static class RtmrReplay
{
    public const int RegisterCount = 4;
    public const int RegisterSize = 48;

    public static byte[][] Replay(IEnumerable<MeasuredEvent> events)
    {
        var registers = new byte[RegisterCount][];
        for (var i = 0; i < RegisterCount; i++)
        {
            registers[i] = new byte[RegisterSize];
        }
        var buffer = new byte[RegisterSize * 2];
        foreach (var e in events.Where(e => e.IsExtended))
        {
            // The parsers guarantee a register and a 48-byte digest for every extended event.
            var rtmr = e.Rtmr!.Value;
            registers[rtmr].CopyTo(buffer, 0);
            e.Digest.CopyTo(buffer, RegisterSize);
            registers[rtmr] = SHA384.HashData(buffer);
        }
        return registers;
    }
}
