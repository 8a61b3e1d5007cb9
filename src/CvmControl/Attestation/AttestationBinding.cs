using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace CvmControl.Attestation;

/// <summary>
/// Ties evidence to one TLS key and one client challenge: the 64 bytes of report data are
/// <c>SHA-512(label || nonce || SHA-256(SPKI))</c>. The daemon computes them before asking for
/// evidence; a verifier recomputes them from its own nonce and the key it saw in the handshake.
/// Only the label and the nonce vary in length, and the label is fixed, so the input is unambiguous.
/// </summary>
internal static class AttestationBinding
{
    /// <summary>Domain separation: these bytes mean nothing outside this protocol and version.</summary>
    public const string Label = "cvm-control-attestation-v1";

    public const int ReportDataLength = 64;

    public const int SpkiSha256Length = 32;

    public const int MinNonceLength = 16;

    public const int MaxNonceLength = 64;

    public static byte[] ComputeReportData(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> spkiSha256)
    {
        if (nonce.Length is < MinNonceLength or > MaxNonceLength)
        {
            throw new ArgumentOutOfRangeException(nameof(nonce), nonce.Length, $"a nonce is {MinNonceLength} to {MaxNonceLength} bytes");
        }
        if (spkiSha256.Length != SpkiSha256Length)
        {
            throw new ArgumentOutOfRangeException(nameof(spkiSha256), spkiSha256.Length, $"a SHA-256 digest is {SpkiSha256Length} bytes");
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        hash.AppendData(Encoding.ASCII.GetBytes(Label));
        hash.AppendData(nonce);
        hash.AppendData(spkiSha256);
        return hash.GetHashAndReset();
    }

    /// <summary>SHA-256 of the DER SubjectPublicKeyInfo: the key, whatever certificate carries it.</summary>
    public static byte[] SpkiSha256(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo());
    }
}
