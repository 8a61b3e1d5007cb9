using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CvmControl.Api.V1;
using CvmControl.Attestation.Verification;
using CvmControl.Identity;

namespace CvmControl.Attestation.Client;

/// <summary>What the caller of <c>verify</c> supplies besides the evidence itself.</summary>
internal sealed record VerifyInputs
{
    public byte[]? CertificateTable { get; init; }

    public IReadOnlyList<X509Certificate2> ExtraCertificates { get; init; } = [];

    public byte[]? ExpectedReportData { get; init; }

    public byte[]? ExpectedMeasurement { get; init; }

    public uint? ExpectedVmpl { get; init; }

    public DateTimeOffset? At { get; init; }

    public bool AllowDebug { get; init; }

    /// <summary>TDX: the event log (online, the daemon's when none is given) and what it and the registers must show.</summary>
    public MeasurementExpectations Measurements { get; init; } = MeasurementExpectations.None;

    /// <summary>Intel collateral and the status it must give, or SEV-SNP's TCB minimum.</summary>
    public TcbPolicy Tcb { get; init; } = TcbPolicy.None;

    /// <summary>Online: the certificate to present to a daemon that requires client authentication.</summary>
    public CertificateWithKey? ClientCertificate { get; init; }
}

/// <summary>
/// The client side of attested TLS. Offline it checks saved evidence. Online it sends its own fresh
/// nonce, and accepts the daemon only if the evidence's signed report data equals the binding of
/// that nonce to the TLS key this client saw in its own handshake.
/// </summary>
internal sealed class VerifyRunner(TrustAnchors anchors, TimeProvider time, AttestationFetcher fetcher)
{
    public VerifyReport VerifyOffline(ReadOnlySpan<byte> evidence, VerifyInputs inputs) =>
        ToReport(EvidenceVerifier.Verify(evidence, Options(inputs, inputs.CertificateTable, inputs.ExpectedReportData)), null);

    public async Task<VerifyReport> VerifyOnlineAsync(Uri server, VerifyInputs inputs, CancellationToken cancellationToken) =>
        (await AttestAsync(server, inputs, cancellationToken)).Report;

    /// <summary>
    /// <see cref="VerifyOnlineAsync"/> for a caller that acts on the answer: it also says whether the
    /// daemon could not be reached at all, which is worth another try, unlike evidence that fails.
    /// </summary>
    public async Task<OnlineVerification> AttestAsync(Uri server, VerifyInputs inputs, CancellationToken cancellationToken)
    {
        var nonce = RandomNumberGenerator.GetBytes(32);
        FetchedEvidence fetched;
        try
        {
            fetched = await fetcher.FetchAsync(server, nonce, inputs.ClientCertificate, cancellationToken);
        }
        catch (AttestationFetchException ex)
        {
            return new(new VerifyReport { Verified = false, Errors = [ex.Message] }, ex.Unreachable);
        }

        var spkiSha256 = AttestationBinding.SpkiSha256(fetched.ServerCertificate);
        var binding = AttestationBinding.ComputeReportData(nonce, spkiSha256);
        var options = Options(inputs, inputs.CertificateTable ?? fetched.CertificateTable, binding) with
        {
            Measurements = inputs.Measurements with { EventLog = inputs.Measurements.EventLog ?? fetched.EventLog },
        };
        var result = EvidenceVerifier.Verify(fetched.Evidence, options);

        // The JSON fields are unsigned, so they decide nothing on their own; but an honest daemon
        // never gets them wrong, and a mismatch names the likely cause better than REPORT_DATA can.
        var spkiHex = Convert.ToHexStringLower(spkiSha256);
        if (!string.Equals(fetched.ClaimedSpkiSha256, spkiHex, StringComparison.OrdinalIgnoreCase))
        {
            result.Fail($"the daemon says its TLS key is {fetched.ClaimedSpkiSha256 ?? "(not given)"}, but this connection presented {spkiHex}: something between client and daemon terminates TLS");
        }
        if (!string.Equals(fetched.ClaimedNonce, Convert.ToHexStringLower(nonce), StringComparison.OrdinalIgnoreCase))
        {
            result.Fail("the daemon echoed a different nonce from the one this client sent");
        }
        return new(ToReport(result, spkiSha256), Unreachable: false);
    }

    private VerificationOptions Options(VerifyInputs inputs, byte[]? certificateTable, byte[]? expectedReportData) => new()
    {
        At = inputs.At ?? time.GetUtcNow(),
        AllowDebug = inputs.AllowDebug,
        ExpectedReportData = expectedReportData,
        ExpectedMeasurement = inputs.ExpectedMeasurement,
        ExpectedVmpl = inputs.ExpectedVmpl,
        CertificateTable = certificateTable,
        ExtraCertificates = inputs.ExtraCertificates,
        Measurements = inputs.Measurements,
        Tcb = inputs.Tcb,
        Anchors = anchors,
    };

    private static VerifyReport ToReport(VerificationResult result, byte[]? spkiSha256) => new()
    {
        Verified = result.Verified,
        Kind = result.Kind switch
        {
            EvidenceKind.SevSnp => "sev-snp",
            EvidenceKind.Tdx => "tdx",
            _ => null,
        },
        Product = result.Product,
        SigningKey = result.SigningKey,
        Measurement = result.Measurement is null ? null : Convert.ToHexStringLower(result.Measurement),
        ReportData = result.ReportData is null ? null : Convert.ToHexStringLower(result.ReportData),
        Rtmrs = result.Rtmrs?.Select(Convert.ToHexStringLower).ToList(),
        EventLog = VerifyReports.EventLog(result.EventLog),
        Tcb = VerifyReports.Tcb(result.IntelTcb),
        ReportedTcb = result.ReportedTcb?.ToString(),
        Vmpl = result.Vmpl,
        Errors = [.. result.Errors],
        TlsSpkiSha256 = spkiSha256 is null ? null : Convert.ToHexStringLower(spkiSha256),
        PinnedPubkey = spkiSha256 is null ? null : $"sha256//{Convert.ToBase64String(spkiSha256)}",
    };
}
