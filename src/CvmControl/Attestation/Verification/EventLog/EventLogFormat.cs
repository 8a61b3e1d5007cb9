namespace CvmControl.Attestation.Verification.EventLog;

internal enum EventLogFormat
{
    /// <summary>The ACPI CCEL: a TCG2 crypto-agile log (TCG PC Client Platform Firmware Profile).</summary>
    Ccel,

    /// <summary>dstack's JSON: an <c>event_log</c> array of <c>{imr, event_type, digest, event, event_payload}</c>.</summary>
    DstackJson,
}
