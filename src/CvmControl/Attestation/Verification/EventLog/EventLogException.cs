namespace CvmControl.Attestation.Verification.EventLog;

/// <summary>The log cannot be read at all; the message says where and why.</summary>
internal sealed class EventLogException(string message) : Exception(message);
