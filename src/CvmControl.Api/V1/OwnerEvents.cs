namespace CvmControl.Api.V1;

/// <summary>The values of <see cref="OwnerEvent.Event"/>, in the order a target goes through them.</summary>
public static class OwnerEvents
{
    /// <summary>The evidence verified; every later connection is pinned to <c>pinned_pubkey</c>.</summary>
    public const string Attested = "attested";

    /// <summary><c>--insecure-skip-attestation</c>: the first key seen is pinned, unverified.</summary>
    public const string AttestationSkipped = "attestation_skipped";

    /// <summary>The evidence did not verify (see <c>attestation.errors</c>); nothing was sent.</summary>
    public const string Refused = "refused";

    /// <summary>The daemon accepted the request.</summary>
    public const string Accepted = "accepted";

    /// <summary>The operation's state changed (status, a volume's status or step).</summary>
    public const string Progress = "progress";

    /// <summary><c>status</c>: the daemon's status and both operations.</summary>
    public const string Status = "status";

    /// <summary>The target is finished; <c>exit_code</c> says how.</summary>
    public const string Done = "done";

    /// <summary>The last line of a run over several targets.</summary>
    public const string Summary = "summary";
}
