namespace CvmControl.Identity;

/// <summary>
/// Who may call: SPIFFE IDs (<c>--allow-client</c>, checked against the <c>--client-ca</c> bundle)
/// and pinned keys (<c>--allow-client-key</c>). Client authentication is on when either list has an entry.
/// </summary>
internal sealed record ClientAuthPolicy(IReadOnlyList<SpiffeIdPattern> AllowedIds, IReadOnlyList<KeyPin> AllowedKeys)
{
    public static readonly ClientAuthPolicy Off = new([], []);

    public bool Enabled => AllowedIds.Count > 0 || AllowedKeys.Count > 0;

    /// <summary>SPIFFE mode: client chains are validated against the bundle.</summary>
    public bool Spiffe => AllowedIds.Count > 0;

    /// <summary>The trust domains the bundle stands for: those the allowed IDs name.</summary>
    public IEnumerable<string> TrustDomains => AllowedIds.Select(p => p.TrustDomain).Distinct();

    /// <summary>One phrase for the start line, e.g. "2 pinned keys".</summary>
    public string Describe(string? bundle)
    {
        var spiffe = $"SPIFFE, {Count(AllowedIds.Count, "allowed ID pattern")}, bundle {bundle}";
        var pins = Count(AllowedKeys.Count, "pinned key");
        return (AllowedIds.Count, AllowedKeys.Count) switch
        {
            (0, 0) => "off",
            (_, 0) => spiffe,
            (0, _) => pins,
            _ => $"{spiffe}; {pins}",
        };
    }

    private static string Count(int n, string what) => $"{n} {what}{(n == 1 ? "" : "s")}";
}
