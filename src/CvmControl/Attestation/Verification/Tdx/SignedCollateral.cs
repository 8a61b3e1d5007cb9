using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace CvmControl.Attestation.Verification.Tdx;

/// <summary>
/// An Intel PCS collateral file, <c>{"tcbInfo":{...},"signature":"HEX"}</c> or
/// <c>{"enclaveIdentity":{...},"signature":"HEX"}</c>. The signature is ECDSA P-256 with SHA-256
/// over the body's exact bytes as they stand in the file (so it is checked before anything is
/// read from them), as 64 bytes r‖s. Its key is Intel's TCB Signing key, whose certificate is
/// pinned and embedded here and must be issued by a pinned Intel root.
/// </summary>
internal static class SignedCollateral
{
    private const int SignatureSize = 64;

    /// <summary>The signed body, parsed, or null with the reasons added to <paramref name="result"/>.</summary>
    public static JsonDocument? Open(byte[] file, string field, TrustAnchors anchors, DateTimeOffset at, VerificationResult result)
    {
        ReadOnlyMemory<byte> body;
        byte[] signature;
        try
        {
            (body, signature) = Split(file, field);
        }
        catch (Exception ex) when (ex is JsonException or CollateralFormatException or InvalidOperationException)
        {
            result.Fail($"{field}: not an Intel PCS collateral file ({ex.Message})");
            return null;
        }
        if (!SignatureVerifies(body.Span, signature, field, anchors, at, result))
        {
            return null;
        }
        try
        {
            return JsonDocument.Parse(body, CollateralJson.DocumentOptions);
        }
        catch (JsonException ex)
        {
            result.Fail($"{field}: the signed body is not valid JSON: {ex.Message}");
            return null;
        }
    }

    /// <summary>The exact bytes of <paramref name="field"/>'s object, and the signature beside it.</summary>
    private static (ReadOnlyMemory<byte> Body, byte[] Signature) Split(byte[] file, string field)
    {
        var start = file.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        var reader = new Utf8JsonReader(file.AsSpan(start), new JsonReaderOptions { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new CollateralFormatException("it is not a JSON object");
        }
        ReadOnlyMemory<byte>? body = null;
        byte[]? signature = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            if (name == field)
            {
                if (reader.TokenType != JsonTokenType.StartObject || body is not null)
                {
                    throw new CollateralFormatException($"{field} must appear once, as an object");
                }
                var bodyStart = start + (int)reader.TokenStartIndex;
                reader.Skip();
                body = file.AsMemory(bodyStart, start + (int)reader.BytesConsumed - bodyStart);
            }
            else if (name == "signature")
            {
                if (reader.TokenType != JsonTokenType.String || signature is not null)
                {
                    throw new CollateralFormatException("signature must appear once, as a string");
                }
                signature = DecodeSignature(reader.GetString()!);
            }
            else
            {
                reader.Skip();
            }
        }
        // The reader itself rejects anything but whitespace after the object (one JSON value per file).
        if (reader.Read())
        {
            throw new CollateralFormatException("there is more than one JSON value");
        }
        return (body ?? throw new CollateralFormatException($"there is no {field}"), signature ?? throw new CollateralFormatException("there is no signature"));
    }

    private static byte[] DecodeSignature(string hex)
    {
        try
        {
            var bytes = Convert.FromHexString(hex);
            return bytes.Length == SignatureSize ? bytes : throw new CollateralFormatException($"signature is {bytes.Length} bytes, not {SignatureSize} (r‖s)");
        }
        catch (FormatException)
        {
            throw new CollateralFormatException("signature is not hex");
        }
    }

    /// <summary>
    /// True when a pinned TCB Signing certificate, issued by a pinned Intel root and valid (with its
    /// root) at <paramref name="at"/>, verifies the signature. Intel renews the certificate with the
    /// same key, so more than one may be pinned; the one valid at <paramref name="at"/> counts.
    /// </summary>
    private static bool SignatureVerifies(ReadOnlySpan<byte> body, byte[] signature, string field, TrustAnchors anchors, DateTimeOffset at, VerificationResult result)
    {
        var signers = anchors.Embedded.Where(anchors.IsPinnedIntelTcbSigner).ToList();
        var verifiedBy = new List<X509Certificate2>();
        string? chainError = null;
        foreach (var signer in signers)
        {
            var roots = anchors.Embedded.Where(r => anchors.IsPinnedIntelRoot(r) && CertificateChecks.IsIssuedBy(signer, r));
            var root = CertificateChecks.FirstSigner(signer, roots, out var error);
            if (root is null)
            {
                chainError ??= error ?? $"TCB Signing certificate {CertificateChecks.Describe(signer)} has no pinned Intel root";
                continue;
            }
            using var key = signer.GetECDsaPublicKey();
            if (key is null || !key.VerifyData(body, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                continue;
            }
            verifiedBy.Add(signer);
            if (IsValidAt(signer, at) && IsValidAt(root, at))
            {
                return true;
            }
        }

        if (verifiedBy.Count > 0)
        {
            var validity = string.Join(", ", verifiedBy.Select(c => $"{c.NotBefore.ToUniversalTime():yyyy-MM-dd} to {c.NotAfter.ToUniversalTime():yyyy-MM-dd}"));
            result.Fail($"{field} is signed by Intel's TCB Signing key, but no TCB Signing certificate is valid at {at.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} ({validity})");
        }
        else
        {
            result.Fail(signers.Count == 0
                ? $"{field}: no Intel TCB Signing certificate is pinned to check its signature with"
                : $"{field}: the signature does not verify with Intel's TCB Signing key: the file was altered, or it is not Intel's{(chainError is null ? "" : $" ({chainError})")}");
        }
        return false;
    }

    private static bool IsValidAt(X509Certificate2 certificate, DateTimeOffset at) =>
        at >= new DateTimeOffset(certificate.NotBefore.ToUniversalTime()) && at <= new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
}
