namespace CvmControl.Attestation.Evidence;

/// <summary>What a provider produced: its name, the report or quote, and its auxiliary blob if any.</summary>
internal sealed record TeeEvidence(string Provider, byte[] Report, byte[]? AuxBlob);

/// <summary>Evidence, or why there is none: a short error and the underlying message in the detail.</summary>
internal sealed record EvidenceResult(TeeEvidence? Evidence, AttestationFailure? Failure, string? Error, string? Detail)
{
    public static EvidenceResult Ok(TeeEvidence evidence) => new(evidence, null, null, null);

    public static EvidenceResult NoProvider(string error, string? detail = null) => new(null, AttestationFailure.NoProvider, error, detail);

    public static EvidenceResult Failed(string error, string? detail = null) => new(null, AttestationFailure.ProviderFailed, error, detail);
}
