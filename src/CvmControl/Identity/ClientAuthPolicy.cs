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
}
