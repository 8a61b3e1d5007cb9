using System.Text.Json;
using static CvmControl.Attestation.Verification.Tdx.CollateralJson;

namespace CvmControl.Attestation.Verification.Tdx;

/// <summary>One platform TCB level: the SGX component SVNs and PCESVN of the PCK, and the TDX component SVNs of TEE_TCB_SVN.</summary>
internal sealed record PlatformTcbLevel(byte[] SgxSvns, int PceSvn, byte[] TdxSvns, DateTimeOffset TcbDate, TcbStatus Status, IReadOnlyList<string> AdvisoryIds);

/// <summary>One level of an enclave or TDX module identity, keyed by ISVSVN.</summary>
internal sealed record IsvSvnTcbLevel(int IsvSvn, DateTimeOffset TcbDate, TcbStatus Status, IReadOnlyList<string> AdvisoryIds);

/// <summary>Who may have signed the TDX module, and (for an identity of a module version) the levels of its SVN.</summary>
internal sealed record TdxModuleIdentity(string Id, byte[] MrSigner, byte[] Attributes, byte[] AttributesMask, IReadOnlyList<IsvSvnTcbLevel> Levels);

/// <summary>
/// Intel PCS TDX TCB info, version 3 (<c>GET /tdx/certification/v4/tcb?fmspc=</c>): the TCB
/// levels of one platform model (FMSPC), highest first, with the TDX module identities.
/// </summary>
internal sealed record IntelTcbInfo(
    DateTimeOffset IssueDate,
    DateTimeOffset NextUpdate,
    byte[] Fmspc,
    byte[] PceId,
    int EvaluationDataNumber,
    TdxModuleIdentity Module,
    IReadOnlyList<TdxModuleIdentity> ModuleIdentities,
    IReadOnlyList<PlatformTcbLevel> Levels)
{
    public const int ComponentCount = 16;

    public static IntelTcbInfo Read(JsonElement info)
    {
        const string Where = "tcbInfo";
        var id = Text(info, "id", Where);
        var version = Integer(info, "version", Where, int.MaxValue);
        if (id != "TDX" || version != 3)
        {
            throw new CollateralFormatException($"tcbInfo is id \"{Printable(id)}\" version {version}; Intel's TDX TCB info is id \"TDX\" version 3 (PCS /tdx/certification/v4/tcb)");
        }
        var tcbType = Integer(info, "tcbType", Where, int.MaxValue);
        if (tcbType != 0)
        {
            throw new CollateralFormatException($"tcbInfo.tcbType is {tcbType}; only type 0 is defined");
        }
        var levels = Array(info, "tcbLevels", Where).Select((l, i) => ReadLevel(l, $"tcbInfo.tcbLevels[{i}]")).ToList();
        if (levels.Count == 0)
        {
            throw new CollateralFormatException("tcbInfo.tcbLevels is empty");
        }
        return new IntelTcbInfo(
            Time(info, "issueDate", Where),
            Time(info, "nextUpdate", Where),
            Hex(info, "fmspc", Where, 6),
            Hex(info, "pceId", Where, 2),
            Integer(info, "tcbEvaluationDataNumber", Where, int.MaxValue),
            ReadModule(Property(info, "tdxModule", Where), "tcbInfo.tdxModule", withLevels: false),
            [.. Array(info, "tdxModuleIdentities", Where, required: false).Select((m, i) => ReadModule(m, $"tcbInfo.tdxModuleIdentities[{i}]", withLevels: true))],
            levels);
    }

    private static TdxModuleIdentity ReadModule(JsonElement module, string where, bool withLevels) => new(
        withLevels ? Text(module, "id", where) : "",
        Hex(module, "mrsigner", where, 48),
        Hex(module, "attributes", where, 8),
        Hex(module, "attributesMask", where, 8),
        withLevels ? ReadIsvSvnLevels(module, where) : []);

    public static List<IsvSvnTcbLevel> ReadIsvSvnLevels(JsonElement owner, string where) =>
        [.. Array(owner, "tcbLevels", where).Select((level, i) =>
        {
            var at = $"{where}.tcbLevels[{i}]";
            return new IsvSvnTcbLevel(
                Integer(Property(level, "tcb", at), "isvsvn", at + ".tcb", ushort.MaxValue),
                Time(level, "tcbDate", at),
                Status(level, at, TcbStatus.UpToDate, TcbStatus.OutOfDate, TcbStatus.Revoked),
                Advisories(level, at));
        })];

    private static PlatformTcbLevel ReadLevel(JsonElement level, string where)
    {
        var tcb = Property(level, "tcb", where);
        return new PlatformTcbLevel(
            Components(tcb, "sgxtcbcomponents", where + ".tcb"),
            Integer(tcb, "pcesvn", where + ".tcb", ushort.MaxValue),
            Components(tcb, "tdxtcbcomponents", where + ".tcb"),
            Time(level, "tcbDate", where),
            Status(level, where),
            Advisories(level, where));
    }

    private static byte[] Components(JsonElement tcb, string name, string where)
    {
        var components = Array(tcb, name, where);
        if (components.Count != ComponentCount)
        {
            throw new CollateralFormatException($"{where}.{name} has {components.Count} components, not {ComponentCount}");
        }
        return [.. components.Select((c, i) => (byte)Integer(c, "svn", $"{where}.{name}[{i}]", byte.MaxValue))];
    }
}
