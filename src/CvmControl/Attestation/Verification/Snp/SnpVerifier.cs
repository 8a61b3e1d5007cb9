using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Attestation.Verification.Snp;

/// <summary>
/// Verifies an AMD SEV-SNP attestation report offline: the VCEK→ASK→ARK or VLEK→ASVK→ARK chain to
/// a pinned ARK, the report's ECDSA P-384 signature, the certificate's TCB and chip identity
/// against the report, the signing-key kind, the debug policy and the caller's expectations.
/// Every failed check adds its own reason.
/// </summary>
internal static class SnpVerifier
{
    private const string OidBootloaderSpl = "1.3.6.1.4.1.3704.1.3.1";
    private const string OidTeeSpl = "1.3.6.1.4.1.3704.1.3.2";
    private const string OidSnpSpl = "1.3.6.1.4.1.3704.1.3.3";
    private const string OidMicrocodeSpl = "1.3.6.1.4.1.3704.1.3.8";
    private const string OidFmcSpl = "1.3.6.1.4.1.3704.1.3.9";
    private const string OidHardwareId = "1.3.6.1.4.1.3704.1.4";
    private const string OidCspId = "1.3.6.1.4.1.3704.1.5";

    public const string Vcek = "vcek";
    public const string Vlek = "vlek";

    public static void Verify(ReadOnlySpan<byte> evidence, VerificationOptions options, VerificationResult result)
    {
        var report = SnpReport.Parse(evidence, out var parseError);
        if (report is null)
        {
            result.Fail(parseError!);
            return;
        }
        result.ReportData = report.ReportData.ToArray();
        result.Measurement = report.Measurement.ToArray();
        result.Vmpl = report.Vmpl;

        if (report.SignatureAlgorithm != 1)
        {
            result.Fail($"SIGNATURE_ALGO is {report.SignatureAlgorithm}, expected 1 (ECDSA P-384 with SHA-384)");
        }

        string? cpuidProduct = null;
        if (report.Version >= 3)
        {
            var (family, model) = report.Cpuid;
            cpuidProduct = AmdProduct.FromCpuid(family, model);
            if (cpuidProduct is null)
            {
                result.Fail($"report CPUID family 0x{family:x2} model 0x{model:x2} is not a known SEV-SNP product (Milan, Genoa, Turin)");
            }
        }

        var signingKey = report.SigningKey switch
        {
            0 => Vcek,
            1 => Vlek,
            _ => null,
        };
        result.SigningKey = signingKey;
        if (signingKey is null)
        {
            result.Fail(report.SigningKey == 7
                ? "KEY_INFO says no key signed this report (SIGNING_KEY=7)"
                : $"KEY_INFO names an unknown signing key ({report.SigningKey})");
        }

        var pool = Candidates(options, result);
        string? product = cpuidProduct;
        var (leaf, signatureError) = signingKey is null ? (null, null) : ChooseLeaf(report, signingKey, pool, result);
        if (leaf is not null)
        {
            if (signatureError is not null)
            {
                result.Fail(signatureError);
            }
            var chainProduct = CheckChain(leaf, signingKey!, pool, options, result);
            if (cpuidProduct is not null && chainProduct is not null && chainProduct != cpuidProduct)
            {
                result.Fail($"the report's CPUID says {cpuidProduct}, but its certificate chain ends at ARK-{chainProduct}");
            }
            product ??= chainProduct;
            if (product is not null)
            {
                CheckTcb(report, leaf, product, result);
                if (signingKey == Vcek)
                {
                    CheckHardwareId(report, leaf, product, result);
                }
            }
        }
        result.Product = product;
        CheckMinimumTcb(report, product, options.Tcb.SnpMinimum, result);

        if ((report.Policy & SnpReport.DebugPolicyBit) != 0 && !options.AllowDebug)
        {
            result.Fail($"guest policy 0x{report.Policy:x} allows debugging (bit 19, DEBUG): the host can read and change guest memory (pass --allow-debug to accept it)");
        }
        ExpectationChecks.Compare("REPORT_DATA", "value", report.ReportData, options.ExpectedReportData, result);
        ExpectationChecks.Compare("MEASUREMENT", "measurement", report.Measurement, options.ExpectedMeasurement, result);
        if (report.Vmpl > SnpReport.MaxVmpl)
        {
            result.Fail($"VMPL is {report.Vmpl}; SEV-SNP has only VMPL 0 to {SnpReport.MaxVmpl}");
        }
        else if (options.ExpectedVmpl is uint vmpl && report.Vmpl != vmpl)
        {
            result.Fail($"VMPL is {report.Vmpl}, expected {vmpl}: the report was requested from another privilege level than the one expected");
        }
    }

    /// <summary>
    /// Every certificate that may take part: the table's, the caller's, then the embedded vendor
    /// certificates. Which one is a VCEK or an ASK is decided by its content, never by the host's GUID.
    /// </summary>
    private static List<X509Certificate2> Candidates(VerificationOptions options, VerificationResult result)
    {
        var pool = new List<X509Certificate2>();
        if (options.CertificateTable is { } table)
        {
            pool.AddRange(SnpCertificateTable.Parse(table, result).Select(e => e.Certificate));
        }
        pool.AddRange(options.ExtraCertificates);
        pool.AddRange(options.Anchors.Embedded);
        return pool;
    }

    /// <summary>vcek or vlek for an endorsement-key certificate; null for anything else.</summary>
    private static string? LeafKind(X509Certificate2 certificate)
    {
        if (CertificateChecks.Extension(certificate, OidHardwareId) is not null)
        {
            return Vcek;
        }
        if (CertificateChecks.Extension(certificate, OidCspId) is not null)
        {
            return Vlek;
        }
        return certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false) switch
        {
            "SEV-VCEK" => Vcek,
            "SEV-VLEK" => Vlek,
            _ => null,
        };
    }

    /// <summary>The endorsement-key certificate meant, and why the report's signature fails with it (null when it verifies).</summary>
    private static (X509Certificate2? Leaf, string? SignatureError) ChooseLeaf(SnpReport report, string signingKey, List<X509Certificate2> pool, VerificationResult result)
    {
        var leaves = pool.Where(c => LeafKind(c) is not null).ToList();
        var matching = leaves.Where(c => LeafKind(c) == signingKey).ToList();
        if (matching.Count == 0)
        {
            var name = signingKey.ToUpperInvariant();
            result.Fail(leaves.Count == 0
                ? $"no {name} certificate: pass it with --cert (from AMD's KDS) or --certificates (the SNP certificate table)"
                : $"KEY_INFO says a {name} signed this report, but the certificate supplied is a {LeafKind(leaves[0])!.ToUpperInvariant()}");
            return (null, null);
        }
        // With several candidates (a table plus --cert, say), the one whose key signed the report is meant.
        string? firstError = null;
        foreach (var candidate in matching)
        {
            if (ReportSignatureVerifies(report, candidate, out var error))
            {
                return (candidate, null);
            }
            firstError ??= error;
        }
        return (matching[0], firstError);
    }

    private static bool ReportSignatureVerifies(SnpReport report, X509Certificate2 leaf, out string? error)
    {
        var signature = report.SignatureP1363();
        if (signature is null)
        {
            error = "report signature is malformed: R or S has non-zero bytes above 48";
            return false;
        }
        using var key = leaf.GetECDsaPublicKey();
        if (key is null || key.KeySize != 384)
        {
            error = $"{CertificateChecks.Describe(leaf)} does not hold an ECDSA P-384 key";
            return false;
        }
        var ok = key.VerifyData(report.SignedBytes, signature, HashAlgorithmName.SHA384, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        error = ok ? null : $"report signature does not verify with the key of {CertificateChecks.Describe(leaf)}";
        return ok;
    }

    /// <summary>Checks leaf→intermediate→ARK and returns the product of the pinned ARK, or null.</summary>
    private static string? CheckChain(X509Certificate2 leaf, string signingKey, List<X509Certificate2> pool, VerificationOptions options, VerificationResult result)
    {
        CertificateChecks.CheckValidity(leaf, options.At, result);
        if (CertificateChecks.IsCa(leaf))
        {
            result.Fail($"{CertificateChecks.Describe(leaf)} is a CA certificate, not an endorsement key");
        }

        var intermediate = FindIssuer(leaf, pool, preferPinned: null, result);
        if (intermediate is null)
        {
            return null;
        }
        var intermediateName = intermediate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        var vlekSigner = intermediateName.StartsWith("SEV-VLEK-", StringComparison.Ordinal);
        if (vlekSigner != (signingKey == Vlek))
        {
            result.Fail($"a {signingKey.ToUpperInvariant()} must be issued by {(signingKey == Vlek ? "an ASVK (SEV-VLEK-<product>)" : "an ASK (SEV-<product>)")}, not by '{intermediateName}'");
        }
        if (!CertificateChecks.IsCa(intermediate))
        {
            result.Fail($"{CertificateChecks.Describe(intermediate)} is not a CA certificate");
        }
        CertificateChecks.CheckValidity(intermediate, options.At, result);

        var ark = FindIssuer(intermediate, pool, options.Anchors, result);
        if (ark is null)
        {
            return null;
        }
        var product = options.Anchors.AmdProductOf(ark);
        if (product is null)
        {
            result.Fail($"{CertificateChecks.Describe(ark)} is not a pinned AMD root (SHA-256 of its DER is {TrustAnchors.Sha256Hex(ark.RawData)})");
            return null;
        }
        if (!CertificateChecks.IsSignedBy(ark, ark, out var selfError))
        {
            result.Fail(selfError!);
        }
        CertificateChecks.CheckValidity(ark, options.At, result);
        return product;
    }

    /// <summary>
    /// The certificate whose subject is <paramref name="child"/>'s issuer and whose key verifies its
    /// signature. For the root, pinned candidates are tried first, so a look-alike supplied by the
    /// host cannot shadow the real ARK.
    /// </summary>
    private static X509Certificate2? FindIssuer(X509Certificate2 child, List<X509Certificate2> pool, TrustAnchors? preferPinned, VerificationResult result)
    {
        var candidates = pool
            .Where(c => CertificateChecks.IsIssuedBy(child, c))
            .OrderBy(c => preferPinned?.AmdProductOf(c) is null ? 1 : 0);
        var issuer = CertificateChecks.FirstSigner(child, candidates, out var error);
        if (issuer is null)
        {
            result.Fail(error ?? $"no issuer certificate for {CertificateChecks.Describe(child)}: nothing supplied or embedded is named '{child.Issuer}'");
        }
        return issuer;
    }

    /// <summary>The VCEK/VLEK is issued for one TCB; its SPL extensions must equal REPORTED_TCB.</summary>
    private static void CheckTcb(SnpReport report, X509Certificate2 leaf, string product, VerificationResult result)
    {
        var tcb = AmdProduct.SplitTcb(report.ReportedTcb, product);
        CompareSpl(leaf, OidBootloaderSpl, "bootloader", tcb.Bootloader, result);
        CompareSpl(leaf, OidTeeSpl, "TEE", tcb.Tee, result);
        CompareSpl(leaf, OidSnpSpl, "SNP", tcb.Snp, result);
        CompareSpl(leaf, OidMicrocodeSpl, "microcode", tcb.Microcode, result);
        if (tcb.Fmc is { } fmc)
        {
            CompareSpl(leaf, OidFmcSpl, "FMC", fmc, result);
        }
    }

    /// <summary>
    /// REPORTED_TCB is what the VCEK or VLEK was issued for (its SPL extensions must equal it), so
    /// once the chain verifies it is the TCB the platform vouches for. Each level must reach the minimum.
    /// </summary>
    private static void CheckMinimumTcb(SnpReport report, string? product, TcbVersion? minimum, VerificationResult result)
    {
        if (product is null)
        {
            if (minimum is not null)
            {
                result.Fail("cannot check --min-tcb: the report's product, and so the layout of REPORTED_TCB, is unknown");
            }
            return;
        }
        var reported = AmdProduct.SplitTcb(report.ReportedTcb, product);
        result.ReportedTcb = reported;
        if (minimum is not { } min)
        {
            return;
        }
        var below = new List<string>();
        AddIfBelow(below, "bootloader", reported.Bootloader, min.Bootloader);
        AddIfBelow(below, "TEE", reported.Tee, min.Tee);
        AddIfBelow(below, "SNP", reported.Snp, min.Snp);
        AddIfBelow(below, "microcode", reported.Microcode, min.Microcode);
        if (min.Fmc is { } fmc)
        {
            if (reported.Fmc is { } reportedFmc)
            {
                AddIfBelow(below, "FMC", reportedFmc, fmc);
            }
            else
            {
                below.Add($"{product} has no FMC level, but the minimum names one ({fmc})");
            }
        }
        if (below.Count > 0)
        {
            result.Fail($"REPORTED_TCB {reported} (bl:tee:snp:ucode{(reported.Fmc is null ? "" : ":fmc")}) is below the minimum {min}: {string.Join("; ", below)}");
        }
    }

    private static void AddIfBelow(List<string> below, string name, byte reported, byte minimum)
    {
        if (reported < minimum)
        {
            below.Add($"{name} SPL {reported} < {minimum}");
        }
    }

    private static void CompareSpl(X509Certificate2 leaf, string oid, string name, byte reported, VerificationResult result)
    {
        var raw = CertificateChecks.Extension(leaf, oid);
        if (raw is null)
        {
            result.Fail($"{CertificateChecks.Describe(leaf)} has no {name} SPL extension ({oid})");
            return;
        }
        try
        {
            var certified = AsnDecoder.ReadInteger(raw, AsnEncodingRules.DER, out var consumed);
            if (consumed != raw.Length)
            {
                throw new AsnContentException("trailing bytes after the INTEGER");
            }
            if (certified != reported)
            {
                result.Fail($"{name} SPL is {certified} in {CertificateChecks.Describe(leaf)} but {reported} in REPORTED_TCB");
            }
        }
        catch (AsnContentException ex)
        {
            result.Fail($"{CertificateChecks.Describe(leaf)} has a malformed {name} SPL extension: {ex.Message}");
        }
    }

    /// <summary>
    /// A VCEK belongs to one chip: its hwID extension (raw bytes, not DER) equals CHIP_ID. Turin
    /// uses 8-byte chip IDs, stored left-aligned in the 64-byte field with the rest zero.
    /// </summary>
    private static void CheckHardwareId(SnpReport report, X509Certificate2 vcek, string product, VerificationResult result)
    {
        var hardwareId = CertificateChecks.Extension(vcek, OidHardwareId);
        var chipId = report.ChipId;
        var matches = hardwareId switch
        {
            null => false,
            { Length: 64 } => chipId.SequenceEqual(hardwareId),
            { Length: 8 } when product == AmdProduct.Turin => chipId[..8].SequenceEqual(hardwareId) && !chipId[8..].ContainsAnyExcept((byte)0),
            _ => false,
        };
        if (!matches)
        {
            result.Fail(hardwareId is null
                ? $"{CertificateChecks.Describe(vcek)} has no hwID extension"
                : $"the VCEK's hwID {Convert.ToHexStringLower(hardwareId)} does not match the report's CHIP_ID {Convert.ToHexStringLower(chipId)}");
        }
    }
}
