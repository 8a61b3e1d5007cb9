using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Attestation.Client;

/// <summary>Evidence as a daemon returned it, with the certificate its TLS handshake presented.</summary>
internal sealed record FetchedEvidence(
    byte[] Evidence,
    byte[]? CertificateTable,
    X509Certificate2 ServerCertificate,
    string? ClaimedNonce,
    string? ClaimedSpkiSha256);

/// <summary>The daemon could not be reached or did not answer with evidence.</summary>
internal sealed class AttestationFetchException(string message) : Exception(message);
