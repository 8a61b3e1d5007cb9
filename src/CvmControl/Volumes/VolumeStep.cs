namespace CvmControl.Volumes;

/// <summary>
/// The names of the steps a volume goes through, as <c>GET /api/v1/bootstrap</c> and
/// <c>GET /api/v1/passphrase</c> report them while the operation runs. Tool steps carry the tool's own
/// command name (<c>luksFormat</c>, <c>mkfs</c>), so an owner can match them with the daemon's log.
/// </summary>
internal static class VolumeStep
{
    /// <summary>Accepted, not yet started (e.g. waiting for a thread).</summary>
    public const string Pending = "pending";

    /// <summary>Finding the block device behind volume_id; this waits for a slow attach.</summary>
    public const string Device = "device";

    /// <summary>Proving that an existing mapping or mount is this volume.</summary>
    public const string VerifyMapping = "verify_mapping";

    /// <summary>Reading and checking the LUKS2 header against the allow-list.</summary>
    public const string CheckHeader = "check_header";

    public const string LuksFormat = "luksFormat";

    /// <summary>A volume with integrity: making its dm-integrity device, which wipes the whole disk once.</summary>
    public const string IntegrityFormat = "integrity_format";

    /// <summary>A volume with integrity: opening (and, after the disk grew, growing) its dm-integrity device.</summary>
    public const string IntegrityOpen = "integrity_open";
    public const string LuksOpen = "luksOpen";

    /// <summary>Removing stale keyslots (bootstrap) or the old passphrase's keyslots (revoke_old).</summary>
    public const string LuksKillSlot = "luksKillSlot";

    public const string Fsck = "fsck";
    public const string Resize = "resize2fs";
    public const string Mkfs = "mkfs";
    public const string Mount = "mount";

    /// <summary>Testing which keyslots a passphrase opens.</summary>
    public const string TestPassphrase = "test_passphrase";

    public const string LuksAddKey = "luksAddKey";

    /// <summary>Writing the changed header copy back to the device.</summary>
    public const string WriteHeader = "write_header";
}
