namespace CvmControl.Attestation.Verification;

/// <summary>
/// The outcome of verifying one piece of evidence. Checks keep going after a failure where that
/// is meaningful, so <see cref="Errors"/> lists every reason, not just the first.
/// </summary>
internal sealed class VerificationResult
{
    public EvidenceKind? Kind { get; set; }

    /// <summary>Milan, Genoa or Turin for SEV-SNP; null for TDX or when no product could be established.</summary>
    public string? Product { get; set; }

    /// <summary><c>vcek</c>, <c>vlek</c> or <c>pck</c>.</summary>
    public string? SigningKey { get; set; }

    public byte[]? Measurement { get; set; }

    public byte[]? ReportData { get; set; }

    /// <summary>TDX: RTMR0 to RTMR3 as the quote has them.</summary>
    public byte[][]? Rtmrs { get; set; }

    /// <summary>TDX: the event log read, when one was given; it counts only if no error says it failed to replay.</summary>
    public EventLog.ParsedEventLog? EventLog { get; set; }

    /// <summary>TDX: the platform's TCB status judged from Intel's collateral, when it was given and could be read.</summary>
    public Tdx.IntelTcbAssessment? IntelTcb { get; set; }

    /// <summary>SEV-SNP: REPORTED_TCB split by the product's layout, once the product is known.</summary>
    public Snp.TcbVersion? ReportedTcb { get; set; }

    /// <summary>SEV-SNP only: the VMPL the report was requested from.</summary>
    public uint? Vmpl { get; set; }

    public List<string> Errors { get; } = [];

    public bool Verified => Kind is not null && Errors.Count == 0;

    public void Fail(string reason) => Errors.Add(reason);
}
