using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Attestation.Client;

/// <summary>Evidence as a daemon returned it, with the certificate its TLS handshake presented.</summary>
internal sealed record FetchedEvidence(
    byte[] Evidence,
    byte[]? CertificateTable,
    X509Certificate2 ServerCertificate,
    string? ClaimedNonce,
    string? ClaimedSpkiSha256)
{
    /// <summary>TDX: the guest's CCEL, when the daemon sent one; unsigned until it replays.</summary>
    public byte[]? EventLog { get; init; }
}

/// <summary>The daemon could not be reached or did not answer with evidence.</summary>
/// <param name="unreachable">No answer at all (connection, TLS handshake or timeout), as opposed to a refusal or bad evidence.</param>
internal sealed class AttestationFetchException(string message, bool unreachable = false) : Exception(message)
{
    public bool Unreachable { get; } = unreachable;
}
