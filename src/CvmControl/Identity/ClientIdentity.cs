namespace CvmControl.Identity;

/// <summary>
/// The client of one connection, as its TLS handshake established it: its key, its SPIFFE ID when
/// it presented a valid X.509-SVID, and whether the allow-lists let it in.
/// </summary>
internal sealed record ClientIdentity(KeyPin Key, SpiffeId? SpiffeId, bool Allowed)
{
    /// <summary>What the client presented, for logs and the 403 body; neither is a secret.</summary>
    public string Presented => SpiffeId is { } id ? id.ToString() : Key.ToString();
}

/// <summary>
/// The outcome of checking a client certificate: the handshake is refused (with the reason and
/// what was presented), or it goes ahead with an identity that may or may not be allowed.
/// </summary>
internal sealed record ClientCheck(ClientIdentity? Identity, string? Refusal, string Presented)
{
    public static ClientCheck Refuse(string reason, string presented) => new(null, reason, presented);

    public static ClientCheck Accept(ClientIdentity identity) => new(identity, null, identity.Presented);
}
