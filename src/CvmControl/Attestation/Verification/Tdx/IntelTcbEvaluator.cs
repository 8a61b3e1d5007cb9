using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace CvmControl.Attestation.Verification.Tdx;

/// <summary>
/// Judges a TDX platform's TCB from Intel's collateral, by the rules of Intel's TDX quote
/// verification (the DCAP Quote Verification Library's TCB level check):
/// <list type="number">
/// <item>both files carry a valid signature by Intel's TCB Signing key and are not past their
/// nextUpdate at the verification time;</item>
/// <item>the TCB info is for the PCK certificate's FMSPC and PCE-ID;</item>
/// <item>the TDX module is Intel's: MRSIGNERSEAM and SEAMATTRIBUTES as the TCB info's tdxModule
/// says, or, when TEE_TCB_SVN[1] (the module's major version) is not 0, its TDX_nn identity;</item>
/// <item>the QE report matches the QE identity (MRSIGNER, ISVPRODID, masked MISCSELECT and
/// ATTRIBUTES), and its ISVSVN picks the first QE level at or below it;</item>
/// <item>the platform level is the first (levels are listed highest first) whose SGX components and
/// PCESVN the PCK reaches and whose TDX components TEE_TCB_SVN reaches, bytes 0 and 1 left out
/// when TEE_TCB_SVN[1] is not 0 (those belong to the module, judged by its identity's levels
/// against TEE_TCB_SVN[0]);</item>
/// <item>the module's and then the QE's status are folded into the platform's: OutOfDate turns
/// UpToDate or SWHardeningNeeded into OutOfDate and either configuration status into
/// OutOfDateConfigurationNeeded; Revoked wins.</item>
/// </list>
/// TDX 1.5's "relaunch advised" refinement (TEE_TCB_SVN2) is not applied.
/// </summary>
internal static class IntelTcbEvaluator
{
    public static void Evaluate(TdReportBody body, byte[] qeReport, X509Certificate2 pck, VerificationOptions options, VerificationResult result)
    {
        var policy = options.Tcb;
        using var tcbInfoDocument = SignedCollateral.Open(policy.IntelTcbInfo!, "tcbInfo", options.Anchors, options.At, result);
        using var qeDocument = SignedCollateral.Open(policy.IntelQeIdentity!, "enclaveIdentity", options.Anchors, options.At, result);
        if (tcbInfoDocument is null || qeDocument is null)
        {
            return;
        }
        IntelTcbInfo tcbInfo;
        IntelQeIdentity qeIdentity;
        PckTcb pckTcb;
        try
        {
            tcbInfo = IntelTcbInfo.Read(tcbInfoDocument.RootElement);
            qeIdentity = IntelQeIdentity.Read(qeDocument.RootElement);
            pckTcb = PckTcb.Read(pck);
        }
        catch (Exception ex) when (ex is CollateralFormatException or AsnContentException or CryptographicException or InvalidOperationException)
        {
            result.Fail($"cannot judge the TCB: {ex.Message}");
            return;
        }

        // Stale collateral fails, but its verdict is still worth showing; a mismatch leaves none to show.
        CheckFreshness("tcbInfo", tcbInfo.NextUpdate, options, result);
        CheckFreshness("enclaveIdentity", qeIdentity.NextUpdate, options, result);
        var errors = result.Errors.Count;
        var samePlatform = CheckPlatformIdentity(tcbInfo, pckTcb, result);
        var teeTcbSvn = body.TeeTcbSvn;
        var moduleIdentity = CheckModuleIdentity(tcbInfo, body, teeTcbSvn, result);
        var qeLevel = CheckQuotingEnclave(qeIdentity, qeReport, result);
        // Another platform's levels say nothing about this one.
        var platformLevel = samePlatform ? MatchPlatformLevel(tcbInfo, pckTcb, teeTcbSvn, result) : null;
        var moduleLevel = moduleIdentity is null ? null : MatchModuleLevel(moduleIdentity, teeTcbSvn[0], result);
        if (result.Errors.Count > errors || platformLevel is null || qeLevel is null)
        {
            return;
        }

        var qeStatus = qeLevel.Status;
        var status = Converge(Converge(platformLevel.Status, moduleLevel?.Status), qeStatus);
        var assessment = new IntelTcbAssessment
        {
            Status = status,
            PlatformStatus = platformLevel.Status,
            ModuleStatus = moduleLevel?.Status,
            QeStatus = qeStatus,
            AdvisoryIds = [.. platformLevel.AdvisoryIds.Concat(moduleLevel?.AdvisoryIds ?? []).Concat(qeLevel.AdvisoryIds).Distinct(StringComparer.Ordinal)],
            Fmspc = tcbInfo.Fmspc,
            TcbDate = platformLevel.TcbDate,
            EvaluationDataNumber = tcbInfo.EvaluationDataNumber,
        };
        result.IntelTcb = assessment;
        CheckPolicy(assessment, policy.MinimumStatus, result);
    }

    private static void CheckFreshness(string field, DateTimeOffset nextUpdate, VerificationOptions options, VerificationResult result)
    {
        if (options.At > nextUpdate && !options.Tcb.AllowStaleCollateral)
        {
            result.Fail($"{field} is stale: its nextUpdate {nextUpdate.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} is before the verification time {options.At.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}; fetch it again from Intel PCS (or pass --allow-stale-collateral)");
        }
    }

    /// <summary>True when the TCB info is for the PCK's platform model (FMSPC) and provisioning enclave (PCE-ID).</summary>
    private static bool CheckPlatformIdentity(IntelTcbInfo tcbInfo, PckTcb pck, VerificationResult result)
    {
        var same = true;
        if (!tcbInfo.Fmspc.AsSpan().SequenceEqual(pck.Fmspc))
        {
            result.Fail($"tcbInfo is for FMSPC {Hex(tcbInfo.Fmspc)}, but the PCK certificate's FMSPC is {Hex(pck.Fmspc)}: fetch the TCB info for this platform (PCS /tdx/certification/v4/tcb?fmspc={Hex(pck.Fmspc)})");
            same = false;
        }
        if (!tcbInfo.PceId.AsSpan().SequenceEqual(pck.PceId))
        {
            result.Fail($"tcbInfo is for PCE-ID {Hex(tcbInfo.PceId)}, but the PCK certificate's PCE-ID is {Hex(pck.PceId)}");
            same = false;
        }
        return same;
    }

    /// <summary>Checks who signed the TDX module; returns the identity whose levels judge its SVN, or null when there is none (major version 0).</summary>
    private static TdxModuleIdentity? CheckModuleIdentity(IntelTcbInfo tcbInfo, TdReportBody body, byte[] teeTcbSvn, VerificationResult result)
    {
        var expected = tcbInfo.Module;
        TdxModuleIdentity? identity = null;
        var majorVersion = teeTcbSvn[1];
        if (majorVersion > 0)
        {
            var id = $"TDX_{majorVersion:X2}";
            identity = tcbInfo.ModuleIdentities.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.OrdinalIgnoreCase));
            if (identity is null)
            {
                result.Fail($"TEE_TCB_SVN names TDX module major version {majorVersion}, but tcbInfo has no {id} module identity (it has {(tcbInfo.ModuleIdentities.Count == 0 ? "none" : string.Join(", ", tcbInfo.ModuleIdentities.Select(m => m.Id)))})");
                return null;
            }
            expected = identity;
        }
        var what = identity is null ? "tcbInfo.tdxModule" : $"TDX module identity {identity.Id}";
        if (!body.MrSignerSeam.AsSpan().SequenceEqual(expected.MrSigner))
        {
            result.Fail($"MRSIGNERSEAM is {Hex(body.MrSignerSeam)}, but {what} expects {Hex(expected.MrSigner)}: not Intel's TDX module");
        }
        // As Intel's library does: SEAMATTRIBUTES must be all zero and equal the identity's attributes.
        var attributes = body.SeamAttributes;
        if (attributes.AsSpan().ContainsAnyExcept((byte)0) || !attributes.AsSpan().SequenceEqual(expected.Attributes))
        {
            result.Fail($"SEAMATTRIBUTES is {Hex(attributes)}; {what} expects {Hex(expected.Attributes)}, and only zero is accepted");
        }
        return identity;
    }

    private static IsvSvnTcbLevel? MatchModuleLevel(TdxModuleIdentity identity, byte moduleSvn, VerificationResult result)
    {
        var level = identity.Levels.FirstOrDefault(l => moduleSvn >= l.IsvSvn);
        if (level is null)
        {
            result.Fail($"TDX module SVN {moduleSvn} (TEE_TCB_SVN[0]) is below every level of module identity {identity.Id}: Intel does not support it");
        }
        return level;
    }

    /// <summary>Checks the QE report against the identity; returns the level its ISVSVN falls in.</summary>
    private static IsvSvnTcbLevel? CheckQuotingEnclave(IntelQeIdentity identity, byte[] qeReport, VerificationResult result)
    {
        var miscSelect = qeReport.AsSpan(QeCertificationData.QeMiscSelectOffset, 4);
        var attributes = qeReport.AsSpan(QeCertificationData.QeAttributesOffset, 16);
        var mrSigner = qeReport.AsSpan(QeCertificationData.QeMrSignerOffset, 32);
        var isvProdId = BinaryPrimitives.ReadUInt16LittleEndian(qeReport.AsSpan(QeCertificationData.QeIsvProdIdOffset));
        var isvSvn = BinaryPrimitives.ReadUInt16LittleEndian(qeReport.AsSpan(QeCertificationData.QeIsvSvnOffset));

        if (!mrSigner.SequenceEqual(identity.MrSigner))
        {
            result.Fail($"QE MRSIGNER is {Convert.ToHexStringLower(mrSigner)}, but the QE identity expects {Hex(identity.MrSigner)}");
        }
        if (isvProdId != identity.IsvProdId)
        {
            result.Fail($"QE ISVPRODID is {isvProdId}, but the QE identity expects {identity.IsvProdId}");
        }
        if (!Masked(miscSelect, identity.MiscSelectMask).AsSpan().SequenceEqual(identity.MiscSelect))
        {
            result.Fail($"QE MISCSELECT {Convert.ToHexStringLower(miscSelect)} masked with {Hex(identity.MiscSelectMask)} is not the QE identity's {Hex(identity.MiscSelect)}");
        }
        if (!Masked(attributes, identity.AttributesMask).AsSpan().SequenceEqual(identity.Attributes))
        {
            result.Fail($"QE ATTRIBUTES {Convert.ToHexStringLower(attributes)} masked with {Hex(identity.AttributesMask)} are not the QE identity's {Hex(identity.Attributes)}");
        }
        var level = identity.Levels.FirstOrDefault(l => isvSvn >= l.IsvSvn);
        if (level is null)
        {
            result.Fail($"QE ISVSVN {isvSvn} is below every level of the QE identity: Intel does not support it");
        }
        return level;
    }

    /// <summary>The first level the platform reaches in full; Intel lists levels highest first.</summary>
    private static PlatformTcbLevel? MatchPlatformLevel(IntelTcbInfo tcbInfo, PckTcb pck, byte[] teeTcbSvn, VerificationResult result)
    {
        var sgxLevels = tcbInfo.Levels.Where(l => pck.PceSvn >= l.PceSvn && AllAtLeast(pck.ComponentSvns, l.SgxSvns, from: 0)).ToList();
        if (sgxLevels.Count == 0)
        {
            result.Fail($"the PCK's SGX TCB (components {Hex(pck.ComponentSvns)}, PCESVN {pck.PceSvn}) is below every level of tcbInfo: Intel does not support this platform's TCB");
            return null;
        }
        // Bytes 0 and 1 of TEE_TCB_SVN are the module's SVN and major version once the module has an identity of its own.
        var from = teeTcbSvn[1] > 0 ? 2 : 0;
        var level = sgxLevels.FirstOrDefault(l => AllAtLeast(teeTcbSvn, l.TdxSvns, from));
        if (level is null)
        {
            result.Fail($"TEE_TCB_SVN {Hex(teeTcbSvn)} is below the TDX components of every level the PCK's SGX TCB reaches: Intel does not support this platform's TDX TCB");
        }
        return level;
    }

    private static bool AllAtLeast(byte[] actual, byte[] required, int from)
    {
        for (var i = from; i < required.Length; i++)
        {
            if (actual[i] < required[i])
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Intel's rule for folding a module or QE status into the platform's.</summary>
    internal static TcbStatus Converge(TcbStatus platform, TcbStatus? other) => (other, platform) switch
    {
        (TcbStatus.Revoked, _) => TcbStatus.Revoked,
        (TcbStatus.OutOfDate, TcbStatus.UpToDate or TcbStatus.SWHardeningNeeded) => TcbStatus.OutOfDate,
        (TcbStatus.OutOfDate, TcbStatus.ConfigurationNeeded or TcbStatus.ConfigurationAndSWHardeningNeeded) => TcbStatus.OutOfDateConfigurationNeeded,
        _ => platform,
    };

    private static void CheckPolicy(IntelTcbAssessment assessment, TcbStatus minimum, VerificationResult result)
    {
        if (assessment.Status <= minimum && assessment.Status != TcbStatus.Revoked)
        {
            return;
        }
        var parts = $"platform {assessment.PlatformStatus}{(assessment.ModuleStatus is { } module ? $", TDX module {module}" : "")}, QE {assessment.QeStatus}";
        var advisories = assessment.AdvisoryIds.Count == 0 ? "no advisories" : $"advisories {string.Join(", ", assessment.AdvisoryIds)}";
        result.Fail(assessment.Status == TcbStatus.Revoked
            ? $"the TCB is Revoked ({parts}; {advisories})"
            : $"the TCB status is {assessment.Status} ({parts}; {advisories}), worse than the minimum {minimum}: update the platform, or accept it with --min-tcb-status {assessment.Status}");
    }

    private static byte[] Masked(ReadOnlySpan<byte> value, byte[] mask)
    {
        var masked = new byte[mask.Length];
        for (var i = 0; i < mask.Length; i++)
        {
            masked[i] = (byte)(value[i] & mask[i]);
        }
        return masked;
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
