using CvmControl.Attestation.Evidence;

namespace CvmControl.Tests.Fakes;

/// <summary>A provider that answers with whatever the test says (NSubstitute cannot take span arguments).</summary>
internal sealed class StubAttestationProvider(Func<byte[], EvidenceResult> answer) : IAttestationProvider
{
    public EvidenceResult GetEvidence(ReadOnlySpan<byte> reportData) => answer(reportData.ToArray());
}
