using CvmControl.Attestation.Client;

namespace CvmControl.Client;

/// <summary>One owner command, as its flags and request file describe it: the same for every target.</summary>
internal sealed record OwnerPlan
{
    /// <summary>How often a running operation is polled.</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long one status read may take; a POST may take until the deadline (a rotation checks old passphrases first).</summary>
    public static readonly TimeSpan DefaultReadTimeout = TimeSpan.FromSeconds(30);

    public required OwnerOperation Operation { get; init; }

    /// <summary><c>bootstrap</c> and <c>rotate</c>: the body, passphrases resolved.</summary>
    public OwnerRequest? Request { get; init; }

    /// <summary><c>shutdown</c>: the bootstrap user (needed once the daemon is ready).</summary>
    public string? UserId { get; init; }

    public bool Reboot { get; init; }

    /// <summary><c>status --wait</c>: poll until no operation runs.</summary>
    public bool Wait { get; init; }

    /// <summary>Pin the first key seen instead of attesting (development VMs without a TEE).</summary>
    public bool SkipAttestation { get; init; }

    /// <summary>What the evidence must show, and the client certificate for every connection.</summary>
    public required VerifyInputs Inputs { get; init; }

    /// <summary>Per target: attestation, request and following together.</summary>
    public required TimeSpan Timeout { get; init; }

    public TimeSpan PollInterval { get; init; } = DefaultPollInterval;

    public TimeSpan ReadTimeout { get; init; } = DefaultReadTimeout;
}
