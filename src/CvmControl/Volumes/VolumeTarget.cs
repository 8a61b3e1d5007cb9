namespace CvmControl.Volumes;

/// <summary>Where one volume lives and where it goes: the non-secret part of a bootstrap volume.</summary>
/// <param name="DmName">Device-mapper name, <c>/dev/mapper/&lt;DmName&gt;</c>.</param>
/// <param name="VolumeId">Cloud volume id, e.g. <c>vol-0abc…</c>.</param>
/// <param name="MountPoint">Absolute, normalised mount point.</param>
/// <param name="Integrity">
/// Whether the volume has a keyed dm-integrity layer under dm-crypt (opt-in, fixed at format time): a
/// volume is opened only the way it was formatted.
/// </param>
internal sealed record VolumeTarget(string DmName, string VolumeId, string MountPoint, bool Integrity = false);

/// <summary>The outcome of one volume's bootstrap or rotation.</summary>
internal sealed record VolumeOutcome(bool Ok, string? Error = null, string? Detail = null)
{
    public static readonly VolumeOutcome Success = new(true);

    /// <summary>What went wrong without failing the volume, e.g. a stale keyslot that survived cleanup.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>A rotation with revoke_old: the keyslots it removed; null when it was not asked to revoke.</summary>
    public IReadOnlyList<int>? RevokedSlots { get; init; }

    public static VolumeOutcome Failure(string error, string? detail = null) => new(false, error, detail);
}

/// <summary>Whether a passphrase opens a volume.</summary>
internal enum PassphraseCheck
{
    Opens,
    DoesNotOpen,
}
