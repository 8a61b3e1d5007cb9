using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Attestation.Verification;

/// <summary>What a caller expects of a piece of evidence, and what it trusts.</summary>
internal sealed record VerificationOptions
{
    /// <summary>The instant certificates must be valid at; a fixed value lets expired test chains verify.</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>Accept a guest whose policy lets the host debug it (SNP policy bit 19, TDX TD attribute DEBUG).</summary>
    public bool AllowDebug { get; init; }

    /// <summary>The 64 bytes REPORT_DATA / REPORTDATA must hold, when the caller knows them.</summary>
    public byte[]? ExpectedReportData { get; init; }

    /// <summary>The launch measurement (SNP MEASUREMENT, TDX MRTD) the image builder published, when known.</summary>
    public byte[]? ExpectedMeasurement { get; init; }

    /// <summary>
    /// The VMPL an SEV-SNP report must show: the privilege level of the guest software that asked for it
    /// (0 is the most privileged; a guest OS under an SVSM usually runs at 2). TDX has no VMPL, so
    /// expecting one fails a TDX quote.
    /// </summary>
    public uint? ExpectedVmpl { get; init; }

    /// <summary>An SEV-SNP certificate table (configfs-tsm <c>auxblob</c>), when the evidence came with one.</summary>
    public byte[]? CertificateTable { get; init; }

    /// <summary>Further certificates the caller supplies (a VCEK or VLEK fetched from AMD's KDS, say).</summary>
    public IReadOnlyList<X509Certificate2> ExtraCertificates { get; init; } = [];

    /// <summary>TDX: the event log to replay and the measurements and events the guest must show.</summary>
    public MeasurementExpectations Measurements { get; init; } = MeasurementExpectations.None;

    /// <summary>How current the platform's TCB must be, and the collateral to judge it by.</summary>
    public TcbPolicy Tcb { get; init; } = TcbPolicy.None;

    /// <summary>The pinned vendor roots. Tests swap them to prove that an unpinned root fails.</summary>
    public TrustAnchors Anchors { get; init; } = TrustAnchors.Vendor;
}
