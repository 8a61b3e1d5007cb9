namespace CvmControl.Identity;

/// <summary>
/// One <c>--allow-client</c> entry: a SPIFFE ID to match exactly, or <c>spiffe://td/path/*</c>,
/// which matches every ID in trust domain <c>td</c> below <c>/path</c> (at least one more segment;
/// <c>spiffe://td/*</c> matches any workload of the trust domain).
/// </summary>
internal sealed record SpiffeIdPattern
{
    private SpiffeIdPattern(SpiffeId id, bool prefix)
    {
        Id = id;
        IsPrefix = prefix;
    }

    /// <summary>The exact ID, or the ID the prefix stands for (without <c>/*</c>).</summary>
    public SpiffeId Id { get; }

    public bool IsPrefix { get; }

    public string TrustDomain => Id.TrustDomain;

    public override string ToString() => IsPrefix ? Id + "/*" : Id.ToString();

    public static SpiffeIdPattern? TryParse(string text, out string? error)
    {
        var prefix = text.EndsWith("/*", StringComparison.Ordinal);
        var id = SpiffeId.TryParse(prefix ? text[..^2] : text, out error);
        if (id is null)
        {
            if (text.Contains('*', StringComparison.Ordinal) && !prefix)
            {
                error = "'*' may only end the ID, as in spiffe://example.org/path/*";
            }
            return null;
        }
        return new SpiffeIdPattern(id, prefix);
    }

    public bool Matches(SpiffeId id) =>
        id.TrustDomain == Id.TrustDomain
        && (IsPrefix
            ? id.Path.Length > Id.Path.Length + 1 && id.Path.StartsWith(Id.Path, StringComparison.Ordinal) && id.Path[Id.Path.Length] == '/'
            : id.Path == Id.Path);
}
