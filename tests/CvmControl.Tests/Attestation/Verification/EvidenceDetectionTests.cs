using CvmControl.Attestation.Verification;

namespace CvmControl.Tests.Attestation.Verification;

/// <summary>Evidence is told apart by its own first eight bytes, and anything else is refused by name.</summary>
public sealed class EvidenceDetectionTests
{
    [Theory]
    [InlineData("0400020081000000", "Tdx")]
    [InlineData("0500020081000000", "Tdx")]
    [InlineData("0200000000000000", "SevSnp")]
    [InlineData("0500000000000000", "SevSnp")]
    [InlineData("0400030081000000", null)] // a TDX version, but attestation key type 3
    [InlineData("0400020000000000", null)] // key type 2, but TEE type 0 (SGX)
    [InlineData("0100000000000000", null)]
    [InlineData("0600000000000000", null)]
    [InlineData("04000200810000", null)]   // seven bytes
    public void Evidence_is_recognised_by_its_first_eight_bytes_alone(string hex, string? kind) =>
        (EvidenceVerifier.Detect(Convert.FromHexString(hex))?.ToString()).Should().Be(kind);

    [Fact]
    public void Unrecognised_evidence_is_refused_with_its_length()
    {
        var result = EvidenceVerifier.Verify(new byte[12], new VerificationOptions { At = DateTimeOffset.UnixEpoch });

        result.Verified.Should().BeFalse();
        result.Kind.Should().BeNull();
        result.Errors.Should().Equal("unrecognised evidence (12 bytes): neither an SEV-SNP attestation report nor a TDX quote");
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Intel_collateral_given_for_SEV_SNP_evidence_is_refused_even_when_only_one_file_is_given(bool tcbInfo, bool qeIdentity)
    {
        var tcb = new TcbPolicy { IntelTcbInfo = tcbInfo ? [1] : null, IntelQeIdentity = qeIdentity ? [1] : null };

        var result = EvidenceVerifier.Verify(new byte[16] { 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, new VerificationOptions { At = DateTimeOffset.UnixEpoch, Tcb = tcb });

        result.Errors.Should().Contain("Intel TCB info and QE identity apply to TDX quotes; this is SEV-SNP evidence (use --min-tcb)");
    }
}
