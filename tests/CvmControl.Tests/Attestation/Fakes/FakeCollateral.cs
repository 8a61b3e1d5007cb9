namespace CvmControl.Tests.Attestation.Fakes;

/// <summary>A platform TCB level of fake TCB info: SGX component SVNs, PCESVN, TDX component SVNs, status.</summary>
internal sealed record FakeTcbLevel(byte[] Sgx, int PceSvn, byte[] Tdx, string Status, params string[] Advisories)
{
    /// <summary>Sixteen SVNs from the first few given, the rest zero.</summary>
    public static byte[] Svns(params byte[] first) => [.. first, .. new byte[16 - first.Length]];
}

/// <summary>A level of a TDX module identity or of the QE identity, keyed by ISVSVN.</summary>
internal sealed record FakeIsvSvnLevel(int IsvSvn, string Status, params string[] Advisories);

/// <summary>The JSON bodies of Intel PCS TDX TCB info (v3) and TD QE identity (v2), in Intel's layout, for the fake Intel to sign.</summary>
internal static class FakeCollateral
{
    public const string Issued = "2025-10-27T13:07:17Z";
    public const string NextUpdate = "2030-01-01T00:00:00Z";

    /// <summary>Levels the default <see cref="FakeQuoteSpec"/> (PCK SVNs 02 02 07 07 04 01 00 02, PCESVN 11, TEE_TCB_SVN 05 03 02) reaches in full at the first.</summary>
    public static readonly FakeTcbLevel[] DefaultLevels =
    [
        new(FakeTcbLevel.Svns(2, 2, 2, 2, 4, 1, 0, 2), 11, FakeTcbLevel.Svns(5, 0, 2), "UpToDate"),
        new(FakeTcbLevel.Svns(2, 2, 2, 2, 4, 1, 0, 2), 5, FakeTcbLevel.Svns(5, 0, 2), "OutOfDate", "INTEL-SA-00837"),
    ];

    public static readonly (string Id, FakeIsvSvnLevel[] Levels)[] DefaultModules =
    [
        ("TDX_03", [new(3, "UpToDate")]),
        ("TDX_01", [new(4, "UpToDate"), new(2, "OutOfDate")]),
    ];

    public static readonly FakeIsvSvnLevel[] DefaultQeLevels = [new(4, "UpToDate")];

    public static string TcbInfo(
        IEnumerable<FakeTcbLevel>? levels = null,
        IEnumerable<(string Id, FakeIsvSvnLevel[] Levels)>? modules = null,
        string fmspc = "00A06D080000",
        string pceId = "0000",
        string nextUpdate = NextUpdate,
        string id = "TDX",
        int version = 3,
        string moduleMrSigner = "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        string moduleAttributes = "0000000000000000")
    {
        var moduleIdentities = string.Join(',', (modules ?? DefaultModules).Select(m =>
            $$"""{"id":"{{m.Id}}","mrsigner":"{{moduleMrSigner}}","attributes":"{{moduleAttributes}}","attributesMask":"FFFFFFFFFFFFFFFF","tcbLevels":[{{IsvSvnLevels(m.Levels)}}]}"""));
        var tcbLevels = string.Join(',', (levels ?? DefaultLevels).Select(l =>
            $$"""{"tcb":{"sgxtcbcomponents":[{{Components(l.Sgx)}}],"pcesvn":{{l.PceSvn}},"tdxtcbcomponents":[{{Components(l.Tdx)}}]},"tcbDate":"2024-03-13T00:00:00Z","tcbStatus":"{{l.Status}}"{{Advisories(l.Advisories)}}}"""));
        return $$"""{"id":"{{id}}","version":{{version}},"issueDate":"{{Issued}}","nextUpdate":"{{nextUpdate}}","fmspc":"{{fmspc}}","pceId":"{{pceId}}","tcbType":0,"tcbEvaluationDataNumber":17,"tdxModule":{"mrsigner":"{{moduleMrSigner}}","attributes":"{{moduleAttributes}}","attributesMask":"FFFFFFFFFFFFFFFF"},"tdxModuleIdentities":[{{moduleIdentities}}],"tcbLevels":[{{tcbLevels}}]}""";
    }

    public static string QeIdentity(
        IEnumerable<FakeIsvSvnLevel>? levels = null,
        string mrSigner = "DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5",
        int isvProdId = 2,
        string attributes = "11000000000000000000000000000000",
        string miscSelect = "00000000",
        string nextUpdate = NextUpdate) =>
        $$"""{"id":"TD_QE","version":2,"issueDate":"{{Issued}}","nextUpdate":"{{nextUpdate}}","tcbEvaluationDataNumber":17,"miscselect":"{{miscSelect}}","miscselectMask":"FFFFFFFF","attributes":"{{attributes}}","attributesMask":"FBFFFFFFFFFFFFFF0000000000000000","mrsigner":"{{mrSigner}}","isvprodid":{{isvProdId}},"tcbLevels":[{{IsvSvnLevels(levels ?? DefaultQeLevels)}}]}""";

    private static string IsvSvnLevels(IEnumerable<FakeIsvSvnLevel> levels) => string.Join(',', levels.Select(l =>
        $$"""{"tcb":{"isvsvn":{{l.IsvSvn}}},"tcbDate":"2024-03-13T00:00:00Z","tcbStatus":"{{l.Status}}"{{Advisories(l.Advisories)}}}"""));

    private static string Components(byte[] svns) => string.Join(',', svns.Select(s => $$"""{"svn":{{s}}}"""));

    private static string Advisories(string[] ids) => ids.Length == 0 ? "" : ",\"advisoryIDs\":[" + string.Join(',', ids.Select(i => $"\"{i}\"")) + "]";
}
