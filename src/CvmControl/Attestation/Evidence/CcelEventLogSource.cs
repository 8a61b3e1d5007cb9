using CvmControl.Attestation.Verification.EventLog;
using CvmControl.OS;

namespace CvmControl.Attestation.Evidence;

/// <summary>
/// The TDX event log the firmware leaves in the ACPI CCEL table, read from
/// <c>/sys/firmware/acpi/tables/data/CCEL</c> (<c>--ccel-path</c>). The table is the whole log
/// area, mostly padding, so only the part up to the last event is sent. The host can write this
/// table, so a log that cannot be parsed is sent whole, for the verifier to refuse with a reason;
/// one larger than <see cref="CcelParser.MaxLogBytes"/> is not sent at all.
/// </summary>
internal sealed partial class CcelEventLogSource(string path, ILogger<CcelEventLogSource> logger) : IEventLogSource
{
    public byte[]? Read()
    {
        byte[] table;
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }
            table = BoundedFile.Read(path, CcelParser.MaxLogBytes, "the CCEL table");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogUnreadable(logger, path, ex.Message);
            return null;
        }
        try
        {
            return table.AsSpan(0, CcelParser.ContentLength(table)).ToArray();
        }
        catch (EventLogException ex)
        {
            LogUnparsable(logger, path, ex.Message);
            return table;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "TDX event log {Path} is not sent: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TDX event log {Path} cannot be parsed, so it is sent whole: {Reason}")]
    private static partial void LogUnparsable(ILogger logger, string path, string reason);
}
