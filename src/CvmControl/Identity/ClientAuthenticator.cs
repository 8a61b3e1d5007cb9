using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Identity;

/// <summary>
/// Decides, during each TLS handshake, what a client certificate is worth:
/// <list type="number">
/// <item>no certificate, more than <see cref="MaxPresentedCertificates"/>, or (in SPIFFE mode) a chain
/// that does not validate to the bundle or a leaf that breaks the X.509-SVID rules: the handshake is refused;</item>
/// <item>a pinned key: allowed, whatever its chain (self-signed is fine);</item>
/// <item>a valid SVID whose ID matches an <c>--allow-client</c> entry: allowed;</item>
/// <item>any other valid certificate: the handshake completes, and every request gets 403 naming it.</item>
/// </list>
/// </summary>
/// <remarks>
/// Chains are validated against the bundle alone: custom root trust (never the system roots), no
/// AIA downloads, no revocation fetches, at the time of <see cref="TimeProvider"/>. SslStream builds
/// the chain with <see cref="NewChainPolicy"/> before it calls the validation callback, with the
/// intermediates the client sent in <see cref="X509ChainPolicy.ExtraStore"/>.
/// </remarks>
internal sealed class ClientAuthenticator(ClientAuthPolicy policy, ClientTrustBundle? bundle, TimeProvider time)
{
    /// <summary>Leaf and intermediates together. SPIRE's deepest nesting needs a handful.</summary>
    public const int MaxPresentedCertificates = 8;

    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    public ClientAuthPolicy Policy => policy;

    public bool Enabled => policy.Enabled;

    /// <summary>A fresh policy per handshake: SslStream adds the client's intermediates to its extra store.</summary>
    public X509ChainPolicy NewChainPolicy()
    {
        var chainPolicy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
            VerificationTime = time.GetUtcNow().UtcDateTime,
            VerificationTimeIgnored = false,
        };
        // A leaf without extended key usage is valid for any purpose; one with it must allow client auth.
        chainPolicy.ApplicationPolicy.Add(ClientAuth);
        if (bundle is not null)
        {
            chainPolicy.CustomTrustStore.AddRange(bundle.Roots.ToArray());
        }
        return chainPolicy;
    }

    /// <param name="leaf">The client certificate, or null when none was presented.</param>
    /// <param name="chain">The chain SslStream built with <see cref="NewChainPolicy"/>.</param>
    public ClientCheck Check(X509Certificate2? leaf, X509Chain? chain)
    {
        if (leaf is null)
        {
            return ClientCheck.Refuse("no client certificate was presented", "no certificate");
        }
        var pin = KeyPin.Of(leaf);
        var presented = Describe(leaf, pin);
        var sent = (chain?.ChainPolicy.ExtraStore.Count ?? 0) + 1;
        if (sent > MaxPresentedCertificates)
        {
            return ClientCheck.Refuse($"it presented {sent} certificates; at most {MaxPresentedCertificates} are accepted", presented);
        }
        if (policy.AllowedKeys.Contains(pin))
        {
            return ClientCheck.Accept(new ClientIdentity(pin, null, Allowed: true));
        }
        if (!policy.Spiffe)
        {
            return ClientCheck.Accept(new ClientIdentity(pin, null, Allowed: false));
        }
        if (chain is null)
        {
            return ClientCheck.Refuse("its chain was not built", presented);
        }
        if (ChainProblem(chain, leaf) is { } problem)
        {
            return ClientCheck.Refuse(problem, presented);
        }
        if (X509Svid.IdOf(leaf, out var svidError) is not { } id)
        {
            return ClientCheck.Refuse($"it is not a valid X.509-SVID: {svidError}", presented);
        }
        if (!policy.TrustDomains.Contains(id.TrustDomain, StringComparer.Ordinal))
        {
            return ClientCheck.Refuse(
                $"its trust domain {id.TrustDomain} is not one that --allow-client names ({string.Join(", ", policy.TrustDomains)}), which the --client-ca bundle stands for",
                presented);
        }
        return ClientCheck.Accept(new ClientIdentity(pin, id, policy.AllowedIds.Any(p => p.Matches(id))));
    }

    /// <summary>The first thing wrong with a built chain, in words; null when it validated.</summary>
    private static string? ChainProblem(X509Chain chain, X509Certificate2 leaf)
    {
        var at = chain.ChainPolicy.VerificationTime.ToUniversalTime();
        for (var i = 0; i < chain.ChainElements.Count; i++)
        {
            var element = chain.ChainElements[i];
            if (Problem(Flags(element.ChainElementStatus), element.Certificate, i, at, element.ChainElementStatus) is { } problem)
            {
                return problem;
            }
        }
        return Problem(Flags(chain.ChainStatus), leaf, 0, at, chain.ChainStatus);
    }

    private static X509ChainStatusFlags Flags(X509ChainStatus[] statuses) =>
        statuses.Aggregate(X509ChainStatusFlags.NoError, (all, s) => all | s.Status);

    private static string? Problem(X509ChainStatusFlags flags, X509Certificate2 certificate, int index, DateTime at, X509ChainStatus[] statuses)
    {
        if (flags == X509ChainStatusFlags.NoError)
        {
            return null;
        }
        var what = index == 0 ? "the client certificate" : $"certificate {index + 1} of its chain ('{certificate.Subject}')";
        if ((flags & X509ChainStatusFlags.NotTimeValid) != 0)
        {
            var notAfter = certificate.NotAfter.ToUniversalTime();
            return notAfter < at
                ? $"{what} expired at {Time(notAfter)}"
                : $"{what} is not valid before {Time(certificate.NotBefore.ToUniversalTime())}";
        }
        if ((flags & X509ChainStatusFlags.InvalidBasicConstraints) != 0)
        {
            return $"{what} issued a certificate but is not a CA (basicConstraints)";
        }
        if ((flags & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0)
        {
            return "its chain does not lead to a root in the --client-ca bundle";
        }
        if ((flags & X509ChainStatusFlags.NotSignatureValid) != 0)
        {
            return $"the signature on {what} does not verify";
        }
        if ((flags & X509ChainStatusFlags.NotValidForUsage) != 0)
        {
            return $"{what} is not valid for client authentication (extended key usage)";
        }
        return $"{what} does not validate: {string.Join("; ", statuses.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct())} ({flags})";
    }

    private static string Time(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Key, subject and URI SANs: what a refused client presented, none of it secret.</summary>
    private static string Describe(X509Certificate2 leaf, KeyPin pin)
    {
        IReadOnlyList<string> uris;
        try
        {
            uris = X509Svid.UriSans(leaf);
        }
        catch (Exception ex) when (ex is System.Formats.Asn1.AsnContentException or CryptographicException)
        {
            uris = [];
        }
        var subject = X509Svid.Printable(leaf.Subject);
        return uris.Count == 0
            ? $"{pin}, subject '{subject}'"
            : $"{string.Join(" ", uris.Select(X509Svid.Printable))} ({pin}, subject '{subject}')";
    }
}
