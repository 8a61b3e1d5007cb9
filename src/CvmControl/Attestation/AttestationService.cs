using CvmControl.Attestation.Evidence;
using CvmControl.Attestation.Platform;
using CvmControl.Metrics;

namespace CvmControl.Attestation;

/// <summary>Evidence bound to the daemon's TLS key and the caller's nonce, with the inputs a verifier needs.</summary>
internal sealed record AttestationEvidence(string Provider, byte[] Evidence, byte[]? Certificates, byte[] ReportData, byte[] Nonce, byte[] TlsSpkiSha256)
{
    /// <summary>TDX: the guest's event log, when it has one.</summary>
    public byte[]? EventLog { get; init; }
}

/// <summary>Evidence, or a typed failure with a short error and a detail for the client.</summary>
internal sealed record AttestationOutcome(AttestationEvidence? Evidence, AttestationFailure? Failure, string? Error, string? Detail);

internal interface IAttestationService
{
    /// <summary>
    /// Evidence whose report data binds <paramref name="nonce"/> (16 to 64 bytes, already validated)
    /// to a TLS key: the SHA-256 of the SubjectPublicKeyInfo the caller's connection was served with.
    /// </summary>
    Task<AttestationOutcome> AttestAsync(byte[] nonce, byte[] tlsSpkiSha256, CancellationToken cancellationToken);
}

/// <summary>
/// One request at a time: attestation is rare, the PSP or quoting enclave behind the provider is a
/// shared and slow resource, and one writer per moment keeps configfs-tsm's generation check meaningful.
/// </summary>
internal sealed partial class AttestationService(
    IAttestationProvider provider,
    PlatformInfo platform,
    IEventLogSource eventLogs,
    ILogger<AttestationService> logger,
    CvmMetrics? metrics = null) : IAttestationService, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CvmMetrics _metrics = metrics ?? CvmMetrics.None;

    public async Task<AttestationOutcome> AttestAsync(byte[] nonce, byte[] tlsSpkiSha256, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nonce);
        ArgumentNullException.ThrowIfNull(tlsSpkiSha256);
        var reportData = AttestationBinding.ComputeReportData(nonce, tlsSpkiSha256);

        EvidenceResult result;
        var started = _metrics.Now();
        await _gate.WaitAsync(cancellationToken);
        try
        {
            result = provider.GetEvidence(reportData);
        }
        finally
        {
            _gate.Release();
        }

        if (result.Evidence is not { } evidence)
        {
            var failure = result.Failure ?? AttestationFailure.ProviderFailed;
            _metrics.AttestationFinished(failure == AttestationFailure.NoProvider ? "no_provider" : "provider_failed", started);
            var detail = failure == AttestationFailure.NoProvider ? $"{result.Detail} (platform: tee {platform.TeeName}, {platform.TeeSource})" : result.Detail;
            LogFailed(logger, failure, result.Error ?? "", detail ?? "");
            return new AttestationOutcome(null, failure, result.Error ?? "attestation failed", detail);
        }

        // Only a quote has RTMRs for the log to replay against.
        var eventLog = evidence.Provider == PlatformDetector.TdxGuestProvider ? eventLogs.Read() : null;
        _metrics.AttestationFinished("ok", started);
        LogAttested(logger, evidence.Provider, nonce.Length, eventLog?.Length ?? 0);
        return new AttestationOutcome(
            new AttestationEvidence(evidence.Provider, evidence.Report, evidence.AuxBlob, reportData, nonce, tlsSpkiSha256) { EventLog = eventLog },
            null,
            null,
            null);
    }

    public void Dispose() => _gate.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Attestation evidence from {Provider} for a {NonceBytes}-byte nonce, with {EventLogBytes} bytes of event log")]
    private static partial void LogAttested(ILogger logger, string provider, int nonceBytes, int eventLogBytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Attestation failed ({Failure}): {Error}: {Detail}")]
    private static partial void LogFailed(ILogger logger, AttestationFailure failure, string error, string detail);
}
