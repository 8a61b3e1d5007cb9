namespace CvmControl.Attestation.Verification;

/// <summary>
/// What the caller expects of the software a TDX guest booted: a log to replay against the quote's
/// RTMRs, the events it must hold, and register values published by the image builder.
/// </summary>
internal sealed record MeasurementExpectations
{
    public static readonly MeasurementExpectations None = new();

    /// <summary>A CCEL or a dstack JSON event log, as read from a file or a daemon; unparsed and untrusted.</summary>
    public byte[]? EventLog { get; init; }

    /// <summary>dstack runtime events every one of whose namesakes must carry the given payload.</summary>
    public IReadOnlyList<ExpectedEvent> Events { get; init; } = [];

    /// <summary>RTMR index (0 to 3) to the 48 bytes the quote must hold.</summary>
    public IReadOnlyDictionary<int, byte[]> Rtmrs { get; init; } = new Dictionary<int, byte[]>();

    /// <summary>The 48-byte MRTD the quote must hold.</summary>
    public byte[]? Mrtd { get; init; }

    /// <summary>True when nothing here asks anything of the evidence.</summary>
    public bool IsEmpty => EventLog is null && Events.Count == 0 && Rtmrs.Count == 0 && Mrtd is null;
}

/// <summary>A dstack runtime event (such as <c>app-id</c> or <c>compose-hash</c>) and the payload it must carry.</summary>
internal sealed record ExpectedEvent(string Name, byte[] Payload);
