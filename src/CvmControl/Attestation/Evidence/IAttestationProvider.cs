namespace CvmControl.Attestation.Evidence;

/// <summary>A source of hardware evidence over caller-chosen report data.</summary>
internal interface IAttestationProvider
{
    /// <summary>
    /// Evidence whose report data is exactly <paramref name="reportData"/> (64 bytes). Blocks while
    /// the hardware works (milliseconds on SNP, up to seconds for a TDX quote); never throws for an
    /// I/O failure, which comes back as a value.
    /// </summary>
    EvidenceResult GetEvidence(ReadOnlySpan<byte> reportData);
}
