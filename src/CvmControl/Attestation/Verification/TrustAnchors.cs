using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Attestation.Verification;

/// <summary>
/// The vendor roots a verification may end at, pinned by the SHA-256 of their DER, plus the public
/// vendor certificates embedded in the binary (AMD ASK/ASVK/ARK per product, the Intel SGX Root CA)
/// so that evidence verifies offline. An embedded certificate is only a candidate: a chain is
/// accepted only if its top certificate's hash is pinned here.
/// </summary>
internal sealed class TrustAnchors
{
    public TrustAnchors(IReadOnlyDictionary<string, string> amdArkSha256ByProduct, IEnumerable<string> intelRootSha256, IReadOnlyList<X509Certificate2> embedded)
    {
        AmdArkProductBySha256 = amdArkSha256ByProduct.ToFrozenDictionary(p => p.Value.ToLowerInvariant(), p => p.Key, StringComparer.Ordinal);
        IntelRootSha256 = intelRootSha256.Select(h => h.ToLowerInvariant()).ToFrozenSet(StringComparer.Ordinal);
        Embedded = embedded;
    }

    /// <summary>Pinned ARK hashes, mapping each to its product name.</summary>
    public FrozenDictionary<string, string> AmdArkProductBySha256 { get; }

    public FrozenSet<string> IntelRootSha256 { get; }

    /// <summary>Candidate issuers that need not travel with the evidence.</summary>
    public IReadOnlyList<X509Certificate2> Embedded { get; }

    public static readonly IReadOnlyDictionary<string, string> AmdArkPins = new Dictionary<string, string>
    {
        ["Milan"] = "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
        ["Genoa"] = "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
        ["Turin"] = "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
    };

    public const string IntelSgxRootCaPin = "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3";

    private static readonly Lazy<TrustAnchors> VendorAnchors = new(() => new TrustAnchors(AmdArkPins, [IntelSgxRootCaPin], LoadEmbedded()));

    /// <summary>The production anchors: AMD's three ARKs and Intel's SGX root.</summary>
    public static TrustAnchors Vendor => VendorAnchors.Value;

    public string? AmdProductOf(X509Certificate2 certificate) =>
        AmdArkProductBySha256.GetValueOrDefault(Sha256Hex(certificate.RawData));

    public bool IsPinnedIntelRoot(X509Certificate2 certificate) => IntelRootSha256.Contains(Sha256Hex(certificate.RawData));

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
