using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Attestation.Verification;

/// <summary>
/// The vendor roots a verification may end at, pinned by the SHA-256 of their DER, plus the public
/// vendor certificates embedded in the binary (AMD ASK/ASVK/ARK per product, the Intel SGX Root CA
/// and the Intel SGX TCB Signing certificate)
/// so that evidence verifies offline. An embedded certificate is only a candidate: a chain is
/// accepted only if its top certificate's hash is pinned here.
/// </summary>
internal sealed class TrustAnchors
{
    public TrustAnchors(IReadOnlyDictionary<string, string> amdArkSha256ByProduct, IEnumerable<string> intelRootSha256, IReadOnlyList<X509Certificate2> embedded, IEnumerable<string>? intelTcbSigningSha256 = null)
    {
        AmdArkProductBySha256 = amdArkSha256ByProduct.ToFrozenDictionary(p => p.Value.ToLowerInvariant(), p => p.Key, StringComparer.Ordinal);
        IntelRootSha256 = intelRootSha256.Select(h => h.ToLowerInvariant()).ToFrozenSet(StringComparer.Ordinal);
        IntelTcbSigningSha256 = (intelTcbSigningSha256 ?? []).Select(h => h.ToLowerInvariant()).ToFrozenSet(StringComparer.Ordinal);
        Embedded = embedded;
    }

    /// <summary>Pinned ARK hashes, mapping each to its product name.</summary>
    public FrozenDictionary<string, string> AmdArkProductBySha256 { get; }

    public FrozenSet<string> IntelRootSha256 { get; }

    /// <summary>Pinned Intel SGX TCB Signing certificates: the signer of TCB info and QE identity collateral.</summary>
    public FrozenSet<string> IntelTcbSigningSha256 { get; }

    /// <summary>Candidate issuers that need not travel with the evidence.</summary>
    public IReadOnlyList<X509Certificate2> Embedded { get; }

    public static readonly IReadOnlyDictionary<string, string> AmdArkPins = new Dictionary<string, string>
    {
        ["Milan"] = "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
        ["Genoa"] = "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
        ["Turin"] = "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
    };

    public const string IntelSgxRootCaPin = "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3";

    /// <summary>
    /// Intel SGX TCB Signing, both issues of one key: 2018-05-21 to 2025-05-21, and its renewal from
    /// 2025-05-06 to 2032-05-06. Collateral is judged at <c>--at</c>, so the older one still serves
    /// collateral from before the renewal.
    /// </summary>
    public static readonly IReadOnlyList<string> IntelTcbSigningPins =
    [
        "c0575e76d0303b61d09cde8cbdb70db34a74f38318300d7c0e6ba8cf4bf45aea",
        "ec37d98107bfb7dab6ff8de4d4dda6fde30a6f50b0d7b03eefb5652f1e652969",
    ];

    private static readonly Lazy<TrustAnchors> VendorAnchors = new(() => new TrustAnchors(AmdArkPins, [IntelSgxRootCaPin], LoadEmbedded(), IntelTcbSigningPins));

    /// <summary>The production anchors: AMD's three ARKs, Intel's SGX root and Intel's TCB Signing certificate.</summary>
    public static TrustAnchors Vendor => VendorAnchors.Value;

    public string? AmdProductOf(X509Certificate2 certificate) =>
        AmdArkProductBySha256.GetValueOrDefault(Sha256Hex(certificate.RawData));

    public bool IsPinnedIntelRoot(X509Certificate2 certificate) => IntelRootSha256.Contains(Sha256Hex(certificate.RawData));

    public bool IsPinnedIntelTcbSigner(X509Certificate2 certificate) => IntelTcbSigningSha256.Contains(Sha256Hex(certificate.RawData));

    public static string Sha256Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static X509Certificate2[] LoadEmbedded()
    {
        var assembly = typeof(TrustAnchors).Assembly;
        var all = new List<X509Certificate2>();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("roots/", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            var collection = new X509Certificate2Collection();
            collection.ImportFromPem(reader.ReadToEnd());
            all.AddRange(collection);
        }
        return [.. all];
    }
}
