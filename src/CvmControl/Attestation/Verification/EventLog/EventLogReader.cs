namespace CvmControl.Attestation.Verification.EventLog;

/// <summary>
/// Reads either format, told apart by content rather than by file name: a CCEL always opens with
/// the spec-ID event (MR index 0, then EV_NO_ACTION as u32 0x00000003), whose first byte is 0x00;
/// dstack's JSON opens with <c>{</c> or <c>[</c> after optional whitespace and a UTF-8 byte-order mark.
/// </summary>
internal static class EventLogReader
{
    public static ParsedEventLog Parse(ReadOnlySpan<byte> data)
    {
        if (CcelParser.LooksLikeCcel(data))
        {
            return CcelParser.Parse(data);
        }
        var text = data.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? data[3..] : data;
        var start = text.IndexOfAnyExcept(" \t\r\n"u8);
        if (start >= 0 && text[start] is (byte)'{' or (byte)'[')
        {
            return DstackEventLogParser.Parse(text);
        }
        throw new EventLogException(data.IsEmpty
            ? "event log is empty"
            : $"event log is neither a CCEL (TCG2 binary, starting with the spec-ID event) nor dstack JSON (it starts with 0x{Convert.ToHexStringLower(data[..Math.Min(8, data.Length)])})");
    }
}
