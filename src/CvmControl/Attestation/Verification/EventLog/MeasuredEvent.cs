namespace CvmControl.Attestation.Verification.EventLog;

/// <summary>
/// One event of a TDX event log, as read; nothing in it is trusted until the log replays to the
/// quote's RTMRs. For a dstack runtime event the digest is the one recomputed from its name and
/// payload, never the one the log claims.
/// </summary>
internal sealed record MeasuredEvent
{
    /// <summary>Position in the log, from 0.</summary>
    public required int Index { get; init; }

    public required uint Type { get; init; }

    /// <summary>The RTMR (0 to 3) the event names; null when it names none (the CCEL's spec-ID header, or MR index 0).</summary>
    public int? Rtmr { get; init; }

    /// <summary>The digest extended into <see cref="Rtmr"/> (SHA-384); the recorded digest for an event that is not extended.</summary>
    public required byte[] Digest { get; init; }

    /// <summary>The event data (CCEL) or <c>event_payload</c> (dstack).</summary>
    public byte[] Data { get; init; } = [];

    /// <summary>The event name of a dstack runtime event; null for any other event.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// Whether replay extends an RTMR with it: EV_NO_ACTION events carry information, not
    /// measurements, and an event naming no RTMR has no register to extend.
    /// </summary>
    public bool IsExtended => Type != EventTypes.NoAction && Rtmr is not null;
}
