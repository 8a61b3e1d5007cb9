using System.Text;

namespace CvmControl.Identity;

/// <summary>
/// A SPIFFE ID, <c>spiffe://trust-domain/path</c>, checked against the SPIFFE ID standard
/// (github.com/spiffe/spiffe, standards/SPIFFE-ID.md): scheme <c>spiffe</c>; a trust domain of
/// lowercase letters, digits, <c>.</c>, <c>-</c> and <c>_</c>; no user info, port, query or fragment;
/// path segments of letters, digits, <c>.</c>, <c>-</c> and <c>_</c>, none empty, <c>.</c> or
/// <c>..</c>, and no trailing slash; at most 2048 bytes in all. Nothing is normalised: an ID that
/// would need normalising is refused, so that two spellings can never name one workload.
/// </summary>
internal sealed record SpiffeId
{
    public const string Prefix = "spiffe://";

    public const int MaxLength = 2048;

    /// <summary>RFC 3986 limits a host to 255 characters.</summary>
    public const int MaxTrustDomainLength = 255;

    private SpiffeId(string trustDomain, string path)
    {
        TrustDomain = trustDomain;
        Path = path;
    }

    /// <summary>The authority part, e.g. <c>example.org</c>.</summary>
    public string TrustDomain { get; }

    /// <summary>Empty, or <c>/</c>-led segments such as <c>/ns/prod/sa/owner</c>.</summary>
    public string Path { get; }

    public override string ToString() => Prefix + TrustDomain + Path;

    public static SpiffeId? TryParse(string? text, out string? error)
    {
        error = Check(text, out var trustDomain, out var path);
        return error is null ? new SpiffeId(trustDomain!, path!) : null;
    }

    public static SpiffeId Parse(string text) =>
        TryParse(text, out var error) ?? throw new FormatException($"\"{text}\" is not a SPIFFE ID: {error}");

    private static string? Check(string? text, out string? trustDomain, out string? path)
    {
        trustDomain = path = null;
        if (string.IsNullOrEmpty(text))
        {
            return "is empty";
        }
        if (Encoding.UTF8.GetByteCount(text) > MaxLength)
        {
            return $"is longer than {MaxLength} bytes";
        }
        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return text.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)
                ? "the scheme must be lowercase spiffe://"
                : "does not start with spiffe://";
        }
        var rest = text.AsSpan(Prefix.Length);
        var slash = rest.IndexOf('/');
        var authority = slash < 0 ? rest : rest[..slash];
        if (authority.IsEmpty)
        {
            return "has no trust domain";
        }
        if (authority.Length > MaxTrustDomainLength)
        {
            return $"has a trust domain longer than {MaxTrustDomainLength} bytes";
        }
        foreach (var c in authority)
        {
            if (IsTrustDomainChar(c))
            {
                continue;
            }
            return c switch
            {
                >= 'A' and <= 'Z' => $"has an uppercase letter ('{c}') in its trust domain; trust domains are lowercase",
                ':' => "has a port in its trust domain",
                '@' => "has user info in its trust domain",
                _ => Special(c) ?? $"has a character the trust domain may not hold ({Show(c)})",
            };
        }
        var pathSpan = slash < 0 ? ReadOnlySpan<char>.Empty : rest[slash..];
        var pathError = CheckPath(pathSpan);
        if (pathError is not null)
        {
            return pathError;
        }
        trustDomain = authority.ToString();
        path = pathSpan.ToString();
        return null;
    }

    /// <summary>Each segment after a <c>/</c>: not empty, not <c>.</c> or <c>..</c>, only [A-Za-z0-9._-].</summary>
    private static string? CheckPath(ReadOnlySpan<char> path)
    {
        while (!path.IsEmpty)
        {
            path = path[1..];
            var next = path.IndexOf('/');
            var segment = next < 0 ? path : path[..next];
            if (segment.IsEmpty)
            {
                return next < 0 ? "ends with '/'" : "has an empty path segment ('//')";
            }
            if (segment is ".")
            {
                return "has a '.' path segment";
            }
            if (segment is "..")
            {
                return "has a '..' path segment";
            }
            foreach (var c in segment)
            {
                if (!IsPathChar(c))
                {
                    return Special(c) ?? $"has a character a path segment may not hold ({Show(c)})";
                }
            }
            path = next < 0 ? ReadOnlySpan<char>.Empty : path[next..];
        }
        return null;
    }

    private static string? Special(char c) => c switch
    {
        '?' => "has a query ('?')",
        '#' => "has a fragment ('#')",
        '%' => "has a percent-encoded character; SPIFFE IDs are plain ASCII",
        _ => null,
    };

    private static string Show(char c) => char.IsControl(c) || c > '~' ? $"U+{(int)c:X4}" : $"'{c}'";

    private static bool IsTrustDomainChar(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-' or '_';

    private static bool IsPathChar(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '-' or '_';
}
