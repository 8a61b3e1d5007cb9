namespace CvmControl.Attestation.Evidence;

/// <summary>The guest's boot event log, sent beside a TDX quote so that a verifier can replay the RTMRs.</summary>
internal interface IEventLogSource
{
    /// <summary>The log up to its last event; null when the guest has none or it cannot be read (logged, never thrown).</summary>
    byte[]? Read();
}
