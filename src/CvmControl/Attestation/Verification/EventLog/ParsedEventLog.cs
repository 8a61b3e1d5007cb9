namespace CvmControl.Attestation.Verification.EventLog;

/// <summary>
/// A whole log: its events and the problems that do not stop a replay (a runtime event whose
/// claimed digest is not the one its name and payload give).
/// </summary>
internal sealed record ParsedEventLog(EventLogFormat Format, IReadOnlyList<MeasuredEvent> Events, IReadOnlyList<string> Problems);
