using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Attestation.Verification.Tdx;

/// <summary>
/// Verifies an Intel TDX quote (v4, v5) offline against the pinned Intel SGX Root CA. The trust
/// path is: pinned root → PCK CA → PCK leaf → QE report → attestation key → quote. Every check
/// that can still run after a failure does, so the result lists every reason.
/// </summary>
internal static class TdxVerifier
{
    /// <summary>Intel's QE vendor id.</summary>
    public static readonly byte[] IntelQeVendorId = Convert.FromHexString("939a7233f79c4ca9940a0db3957f0607");

    /// <summary>MRSIGNER of Intel's TDX quoting enclave.</summary>
    public static readonly byte[] IntelQeMrSigner = Convert.FromHexString("dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5");

    /// <summary>ISVPRODID of the TDX quoting enclave (the SGX quoting enclave is 1).</summary>
    public const ushort TdxQeIsvProdId = 2;

    public static void Verify(ReadOnlySpan<byte> quote, VerificationOptions options, VerificationResult result)
    {
        result.SigningKey = "pck";
        result.Product = null;

        var parsed = TdxQuote.Parse(quote, result);
        if (parsed is null)
        {
            return;
        }
        result.Measurement = parsed.Body.Mrtd;
        result.ReportData = parsed.Body.ReportData;

        if (!parsed.QeVendorId.AsSpan().SequenceEqual(IntelQeVendorId))
        {
            result.Fail($"QE vendor id is {Hex(parsed.QeVendorId)}, expected {Hex(IntelQeVendorId)} (Intel)");
        }
        var tcbJudged = false;
        if (parsed.SignatureData is { } signatureData)
        {
            CheckQuoteSignature(parsed.SignedRegion, signatureData, result);
            if (signatureData.QeCertification is { } qe)
            {
                tcbJudged = CheckQuotingEnclave(signatureData.AttestationKey, qe, parsed.Body, options, result);
            }
        }
        if (options.Tcb.IntelTcbInfo is not null && !tcbJudged)
        {
            result.Fail("cannot judge the TCB: the quote carries no readable PCK certificate chain");
        }
        CheckPolicy(parsed.Body, options, result);
        TdxMeasurementChecks.Check(parsed.Body, options.Measurements, result);
    }

    private static void CheckQuoteSignature(byte[] signedRegion, QuoteSignatureData signatureData, VerificationResult result)
    {
        var key = signatureData.AttestationKey;
        var parameters = new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = key[..32], Y = key[32..] },
        };
        try
        {
            using var ecdsa = ECDsa.Create(parameters);
            if (!ecdsa.VerifyData(signedRegion, signatureData.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                result.Fail("quote signature does not verify with the attestation key");
            }
        }
        catch (CryptographicException ex)
        {
            result.Fail($"attestation key is not a valid P-256 public key: {ex.Message}");
        }
    }

    /// <summary>Checks the QE and its PCK chain; false when there was no PCK certificate to check (or to judge the TCB by).</summary>
    private static bool CheckQuotingEnclave(byte[] attestationKey, QeCertificationData qe, TdReportBody body, VerificationOptions options, VerificationResult result)
    {
        // The QE vouches for the attestation key by hashing it, with its auth data, into its report.
        var expected = new byte[64];
        SHA256.HashData([.. attestationKey, .. qe.AuthData], expected);
        if (!qe.ReportData.AsSpan().SequenceEqual(expected))
        {
            result.Fail($"QE report REPORTDATA does not bind the attestation key: it is {Hex(qe.ReportData)}, expected SHA-256(attestation key ‖ QE auth data) followed by 32 zero bytes, {Hex(expected)}");
        }
        if (!qe.MrSigner.AsSpan().SequenceEqual(IntelQeMrSigner))
        {
            result.Fail($"QE MRSIGNER is {Hex(qe.MrSigner)}, expected {Hex(IntelQeMrSigner)} (Intel's quoting enclave)");
        }
        if (qe.IsvProdId != TdxQeIsvProdId)
        {
            result.Fail($"QE ISVPRODID is {qe.IsvProdId}, expected {TdxQeIsvProdId} (the TDX quoting enclave)");
        }
        if (qe.PckChain is null)
        {
            return false;
        }

        var certificates = LoadChain(qe.PckChain, result);
        try
        {
            if (certificates.Count == 0)
            {
                return false;
            }
            CheckQeReportSignature(qe, certificates[0], result);
            CheckPckChain(certificates, options, result);
            if (options.Tcb.IntelTcbInfo is not null)
            {
                IntelTcbEvaluator.Evaluate(body, qe.QeReport, certificates[0], options, result);
            }
            return true;
        }
        catch (Exception ex) when (ex is CryptographicException or AsnContentException)
        {
            // A certificate that loads can still hold an undecodable extension.
            result.Fail($"cannot check the PCK certificate chain: {ex.Message}");
            return true;
        }
        finally
        {
            foreach (var certificate in certificates)
            {
                certificate.Dispose();
            }
        }
    }

    private static List<X509Certificate2> LoadChain(byte[] pem, VerificationResult result)
    {
        var blocks = pem.AsSpan().Count("-----BEGIN CERTIFICATE-----"u8);
        if (blocks == 0)
        {
            result.Fail("PCK certification data holds no PEM certificate");
            return [];
        }
        try
        {
            // Load refuses a chain with an unreadable block rather than promoting the next one to leaf.
            return [.. CertificateChecks.Load(pem)];
        }
        catch (Exception ex) when (ex is CryptographicException or AsnContentException or ArgumentException or FormatException)
        {
            result.Fail($"cannot read the PCK certificate chain: {ex.Message}");
            return [];
        }
    }

    private static void CheckQeReportSignature(QeCertificationData qe, X509Certificate2 leaf, VerificationResult result)
    {
        try
        {
            using var key = leaf.GetECDsaPublicKey();
            if (key is null)
            {
                result.Fail($"PCK certificate {CertificateChecks.Describe(leaf)} has no ECDSA public key to check the QE report signature with");
            }
            else if (!key.VerifyData(qe.QeReport, qe.QeReportSignature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                result.Fail($"QE report signature does not verify with the key of PCK certificate {CertificateChecks.Describe(leaf)}");
            }
        }
        catch (CryptographicException ex)
        {
            result.Fail($"cannot check the QE report signature with PCK certificate {CertificateChecks.Describe(leaf)}: {ex.Message}");
        }
    }

    /// <summary>
    /// PCK leaf (first in the PEM) → PCK Platform/Processor CA → Intel SGX Root CA. The root may be
    /// the quote's own copy when pinned, or else a pinned embedded one.
    /// </summary>
    private static void CheckPckChain(List<X509Certificate2> certificates, VerificationOptions options, VerificationResult result)
    {
        var leaf = certificates[0];
        CertificateChecks.CheckValidity(leaf, options.At, result);

        var intermediate = certificates.Skip(1).FirstOrDefault(c => CertificateChecks.IsIssuedBy(leaf, c));
        if (intermediate is null)
        {
            result.Fail($"PCK chain has no certificate for the issuer of PCK certificate {CertificateChecks.Describe(leaf)} ('{leaf.Issuer}')");
            return;
        }
        if (!CertificateChecks.IsSignedBy(leaf, intermediate, out var leafError))
        {
            result.Fail(leafError!);
        }
        if (CertificateChecks.IsIssuedBy(intermediate, intermediate))
        {
            result.Fail($"PCK chain has no intermediate CA: PCK certificate {CertificateChecks.Describe(leaf)} is issued by the self-signed {CertificateChecks.Describe(intermediate)}");
            return;
        }
        if (!CertificateChecks.IsCa(intermediate))
        {
            result.Fail($"PCK intermediate {CertificateChecks.Describe(intermediate)} is not a CA certificate");
        }
        CertificateChecks.CheckValidity(intermediate, options.At, result);

        var root = FindPinnedRoot(intermediate, certificates, options.Anchors, result);
        if (root is null)
        {
            return;
        }
        if (!CertificateChecks.IsSignedBy(root, root, out var rootError))
        {
            result.Fail(rootError!);
        }
        if (!CertificateChecks.IsCa(root))
        {
            result.Fail($"Intel root {CertificateChecks.Describe(root)} is not a CA certificate");
        }
        CertificateChecks.CheckValidity(root, options.At, result);
    }

    /// <summary>
    /// The pinned root that signed <paramref name="intermediate"/>: the quote's copy when it is pinned,
    /// otherwise an embedded pinned one. Adds an error and returns null when there is none.
    /// </summary>
    private static X509Certificate2? FindPinnedRoot(X509Certificate2 intermediate, List<X509Certificate2> certificates, TrustAnchors anchors, VerificationResult result)
    {
        var carried = certificates.FirstOrDefault(c => !ReferenceEquals(c, intermediate) && CertificateChecks.IsIssuedBy(intermediate, c) && CertificateChecks.IsIssuedBy(c, c));
        var candidates = new List<X509Certificate2>();
        if (carried is not null && anchors.IsPinnedIntelRoot(carried))
        {
            candidates.Add(carried);
        }
        candidates.AddRange(anchors.Embedded.Where(c => CertificateChecks.IsIssuedBy(intermediate, c) && anchors.IsPinnedIntelRoot(c)));

        if (candidates.Count == 0)
        {
            result.Fail(carried is null
                ? $"no pinned Intel root issued PCK intermediate {CertificateChecks.Describe(intermediate)} ('{intermediate.Issuer}'), and the quote carries no root"
                : $"PCK chain ends at root {CertificateChecks.Describe(carried)} with SHA-256 {TrustAnchors.Sha256Hex(carried.RawData)}, which is not a pinned Intel root");
            return null;
        }
        var root = CertificateChecks.FirstSigner(intermediate, candidates, out var error);
        if (root is null)
        {
            result.Fail(error!);
        }
        return root;
    }

    private static void CheckPolicy(TdReportBody body, VerificationOptions options, VerificationResult result)
    {
        if (body.IsDebug && !options.AllowDebug)
        {
            result.Fail($"TD attribute DEBUG is set (TDATTRIBUTES 0x{body.TdAttributes:x16}): the host can read and change the guest's state");
        }
        ExpectationChecks.Compare("REPORTDATA", "value", body.ReportData, options.ExpectedReportData, result);
        ExpectationChecks.Compare("MRTD", "measurement", body.Mrtd, options.ExpectedMeasurement, result);
        if (options.ExpectedVmpl is uint vmpl)
        {
            result.Fail($"VMPL {vmpl} was expected, but a TDX quote has no VMPL (an SEV-SNP field)");
        }
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
