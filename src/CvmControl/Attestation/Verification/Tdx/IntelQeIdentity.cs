using System.Text.Json;
using static CvmControl.Attestation.Verification.Tdx.CollateralJson;

namespace CvmControl.Attestation.Verification.Tdx;

/// <summary>
/// Intel PCS identity of the TD quoting enclave, version 2 (<c>GET /tdx/certification/v4/qe/identity</c>):
/// the MRSIGNER, ISVPRODID, masked MISCSELECT and ATTRIBUTES its report must show, and the TCB
/// levels of its ISVSVN, highest first.
/// </summary>
internal sealed record IntelQeIdentity(
    DateTimeOffset IssueDate,
    DateTimeOffset NextUpdate,
    int EvaluationDataNumber,
    byte[] MiscSelect,
    byte[] MiscSelectMask,
    byte[] Attributes,
    byte[] AttributesMask,
    byte[] MrSigner,
    int IsvProdId,
    IReadOnlyList<IsvSvnTcbLevel> Levels)
{
    public static IntelQeIdentity Read(JsonElement identity)
    {
        const string Where = "enclaveIdentity";
        var id = Text(identity, "id", Where);
        var version = Integer(identity, "version", Where, int.MaxValue);
        if (id != "TD_QE" || version != 2)
        {
            throw new CollateralFormatException($"enclaveIdentity is id \"{Printable(id)}\" version {version}; the TD quoting enclave's identity is id \"TD_QE\" version 2 (PCS /tdx/certification/v4/qe/identity)");
        }
        var levels = IntelTcbInfo.ReadIsvSvnLevels(identity, Where);
        if (levels.Count == 0)
        {
            throw new CollateralFormatException("enclaveIdentity.tcbLevels is empty");
        }
        return new IntelQeIdentity(
            Time(identity, "issueDate", Where),
            Time(identity, "nextUpdate", Where),
            Integer(identity, "tcbEvaluationDataNumber", Where, int.MaxValue),
            Hex(identity, "miscselect", Where, 4),
            Hex(identity, "miscselectMask", Where, 4),
            Hex(identity, "attributes", Where, 16),
            Hex(identity, "attributesMask", Where, 16),
            Hex(identity, "mrsigner", Where, 32),
            Integer(identity, "isvprodid", Where, ushort.MaxValue),
            levels);
    }
}
