using CvmControl.OS;
using CvmControl.Tools;
using CvmControl.Volumes.Devices;
using CvmControl.Volumes.Luks;
using Microsoft.Extensions.Options;

namespace CvmControl.Volumes;

/// <summary>
/// Checks passphrases and adds new keyslots. Both act on the checked header copy, never on the live
/// device: the new keyslot is added to a private copy of the checked header, proven to open there, and
/// written back only if the device still holds exactly what was checked. The old keyslot is kept unless
/// the owner asks to revoke it, which is a second, separate write-back.
/// </summary>
internal sealed partial class LuksPassphraseRotator(
    IDeviceResolver devices,
    Cryptsetup cryptsetup,
    KdfGate kdf,
    KeyDirectory keys,
    HeaderGuard headers,
    HeaderWriteBack writeBack,
    IOptions<VolumeOptions> options,
    ILogger<LuksPassphraseRotator> logger) : IPassphraseRotator
{
    public async Task<PassphraseCheck> CheckAsync(VolumeTarget volume, Passphrase passphrase, CancellationToken cancellationToken)
    {
        try
        {
            var device = await devices.ResolveAsync(volume.VolumeId, cancellationToken);
            using var header = await headers.CheckAsync(device, cancellationToken);
            var slot = await kdf.RunAsync(header.Verdict.KdfMemoryBytes, () => cryptsetup.TestPassphraseAsync(header.Path, passphrase, cancellationToken));
            return slot is null ? PassphraseCheck.DoesNotOpen : PassphraseCheck.Opens;
        }
        catch (ToolFailure failure)
        {
            throw new VolumeOperationException(failure.Message, failure.Detail);
        }
        catch (HeaderRejected rejected)
        {
            throw new VolumeOperationException("LUKS2 header rejected", rejected.Message);
        }
    }

    public Task<VolumeOutcome> AddPassphraseAsync(VolumeTarget volume, Passphrase oldPassphrase, Passphrase newPassphrase, CancellationToken stopping, Action<string>? step = null) =>
        AsOutcomeAsync(() => AddAsync(volume, oldPassphrase, newPassphrase, step ?? (_ => { }), stopping));

    private async Task<VolumeOutcome> AddAsync(VolumeTarget volume, Passphrase oldPassphrase, Passphrase newPassphrase, Action<string> step, CancellationToken stopping)
    {
        using var header = await CheckedHeaderAsync(volume, step, stopping);
        var added = await AddOnAsync(volume, header, oldPassphrase, newPassphrase, step);
        added.Committed?.Dispose();
        return added.Outcome;
    }

    /// <summary>
    /// A whole rotation of one volume on one checked header copy. The new passphrase is tested on it
    /// first: a retry after a crash finds it already opening and skips the add. Otherwise it is added and
    /// written back, and the copy written back (which the device then holds, verified) is the checked
    /// header the revocation acts on, with the new passphrase's keyslot already known. So a revoking
    /// rotation copies the device's header once, not three times, and spends no KDF run on finding the
    /// new keyslot again. The two write-backs stay separate: the old passphrase's slots are only touched
    /// once the new passphrase is on disk.
    /// </summary>
    public async Task<VolumeOutcome> RotateAsync(VolumeTarget volume, Passphrase oldPassphrase, Passphrase newPassphrase, bool revokeOld, CancellationToken stopping, Action<string>? step = null)
    {
        if (oldPassphrase.SameAs(newPassphrase))
        {
            // Its slots are the new passphrase's slots: nothing is added, and nothing may go.
            return revokeOld ? VolumeOutcome.Success with { RevokedSlots = [] } : VolumeOutcome.Success;
        }
        step ??= _ => { };
        int? keep = null;
        try
        {
            return await AsOutcomeAsync(async () =>
            {
                using var header = await CheckedHeaderAsync(volume, step, stopping);
                step(VolumeStep.TestPassphrase);
                keep = await kdf.RunAsync(header.Verdict.KdfMemoryBytes, () => cryptsetup.TestPassphraseAsync(header.Path, newPassphrase, CancellationToken.None));
                CheckedHeader? committed = null;
                try
                {
                    if (keep is null)
                    {
                        stopping.ThrowIfCancellationRequested();
                        var added = await AddOnAsync(volume, header, oldPassphrase, newPassphrase, step);
                        (committed, keep) = (added.Committed, added.Slot);
                        if (!added.Outcome.Ok || !revokeOld)
                        {
                            return added.Outcome;
                        }
                    }
                    if (!revokeOld)
                    {
                        return VolumeOutcome.Success;
                    }
                    stopping.ThrowIfCancellationRequested();
                    return await RevokeOnAsync(volume, committed ?? header, keep!.Value, oldPassphrase, newPassphrase, step, stopping);
                }
                finally
                {
                    committed?.Dispose();
                }
            });
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested && keep is not null && revokeOld)
        {
            return Interrupted;
        }
    }

    /// <summary>The volume's device and its checked header copy (the allow-list comes before any change).</summary>
    private async Task<CheckedHeader> CheckedHeaderAsync(VolumeTarget volume, Action<string> step, CancellationToken stopping)
    {
        step(VolumeStep.Device);
        var device = await devices.ResolveAsync(volume.VolumeId, stopping);
        step(VolumeStep.CheckHeader);
        return await headers.CheckAsync(device, stopping);
    }

    /// <summary>
    /// Adds the new passphrase on a private copy of <paramref name="header"/>, proves it opens there, and
    /// writes the copy back. On success, the written copy as the device's checked header (the caller
    /// disposes it) and the new passphrase's keyslot.
    /// </summary>
    private async Task<(VolumeOutcome Outcome, CheckedHeader? Committed, int? Slot)> AddOnAsync(VolumeTarget volume, CheckedHeader header, Passphrase oldPassphrase, Passphrase newPassphrase, Action<string> step)
    {
        var keyDirectory = keys.Prepare();
        var edit = header.Edit();
        try
        {
            step(VolumeStep.LuksAddKey);
            // Unlocking with the old passphrase costs what the header's slots cost; the new slot, what new slots cost.
            var cost = Math.Max(header.Verdict.KdfMemoryBytes, kdf.NewSlotCostBytes);
            await kdf.RunAsync(cost, () => cryptsetup.AddKeyAsync(edit.Path, oldPassphrase, newPassphrase, options.Value.Cost, keyDirectory, CancellationToken.None));
            step(VolumeStep.TestPassphrase);
            var slot = await kdf.RunAsync(cost, () => cryptsetup.TestPassphraseAsync(edit.Path, newPassphrase, CancellationToken.None));
            if (slot is null)
            {
                edit.Dispose();
                return (VolumeOutcome.Failure("new passphrase does not open the volume", "luksAddKey succeeded, but a test open of the changed header with the new passphrase failed; nothing was written"), null, null);
            }
            step(VolumeStep.WriteHeader);
            // Crash safety: nothing is removed, and the write-back puts the new keyslot's material on
            // disk before either header copy names it, one header copy at a time. A power cut at any
            // point leaves a header that still holds the old keyslot.
            var verdict = await writeBack.CommitAsync(header, edit, CancellationToken.None);
            LogAdded(logger, volume.DmName, slot.Value);
            return (VolumeOutcome.Success, header.Committed(edit, verdict), slot);
        }
        catch
        {
            edit.Dispose();
            throw;
        }
    }

    /// <summary>Failures of a header change as the volume's result: the short error and the scrubbed detail.</summary>
    private static async Task<VolumeOutcome> AsOutcomeAsync(Func<Task<VolumeOutcome>> change)
    {
        try
        {
            return await change();
        }
        catch (ToolFailure failure)
        {
            return VolumeOutcome.Failure(failure.Message, failure.Detail);
        }
        catch (VolumeOperationException failure)
        {
            return VolumeOutcome.Failure(failure.Message, failure.Detail);
        }
        catch (HeaderRejected rejected)
        {
            return VolumeOutcome.Failure("LUKS2 header rejected", rejected.Message);
        }
        catch (IOException ex)
        {
            return VolumeOutcome.Failure("cannot copy the LUKS2 header", ex.Message);
        }
    }

    /// <summary>
    /// The old passphrase's keyslots go only after the new passphrase is on disk: this runs after
    /// <see cref="AddPassphraseAsync"/> committed (or a retry found the new one already opening). It proves
    /// the new passphrase's slot on the checked header, finds each slot the old passphrase opens (one KDF
    /// run per slot, with --key-slot), and kills exactly those on a private copy, authenticated by the new
    /// passphrase (cryptsetup checks it against the slots other than the victim). The copy is written back
    /// only if the device still holds what was checked, key material first. So a power cut at any moment
    /// leaves the new slot in place: before the write-back both passphrases open, after it the new one.
    /// </summary>
    public async Task<VolumeOutcome> RevokeAsync(VolumeTarget volume, Passphrase oldPassphrase, Passphrase newPassphrase, CancellationToken stopping, Action<string>? step = null)
    {
        if (oldPassphrase.SameAs(newPassphrase))
        {
            // Its slots are the new passphrase's slots: nothing may go.
            return VolumeOutcome.Success with { RevokedSlots = [] };
        }
        try
        {
            return await AsOutcomeAsync(() => RevokeSlotsAsync(volume, oldPassphrase, newPassphrase, step ?? (_ => { }), stopping));
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return Interrupted;
        }
    }

    private static VolumeOutcome Interrupted =>
        VolumeOutcome.Failure("interrupted", "the daemon is shutting down before the old passphrase was revoked; both passphrases open the volume");

    private async Task<VolumeOutcome> RevokeSlotsAsync(VolumeTarget volume, Passphrase oldPassphrase, Passphrase newPassphrase, Action<string> step, CancellationToken stopping)
    {
        using var header = await CheckedHeaderAsync(volume, step, stopping);
        step(VolumeStep.TestPassphrase);
        var keep = await kdf.RunAsync(header.Verdict.KdfMemoryBytes, () => cryptsetup.TestPassphraseAsync(header.Path, newPassphrase, CancellationToken.None));
        if (keep is null)
        {
            return VolumeOutcome.Failure("new passphrase does not open the volume", "nothing was revoked: the old passphrase's keyslots stay until the new one opens the volume");
        }
        return await RevokeOnAsync(volume, header, keep.Value, oldPassphrase, newPassphrase, step, stopping);
    }

    /// <summary>Revokes on <paramref name="header"/>, whose keyslot <paramref name="keep"/> the new passphrase is proven to open.</summary>
    private async Task<VolumeOutcome> RevokeOnAsync(VolumeTarget volume, CheckedHeader header, int keep, Passphrase oldPassphrase, Passphrase newPassphrase, Action<string> step, CancellationToken stopping)
    {
        var victims = new List<int>();
        foreach (var slot in header.Verdict.Keyslots.Where(s => s != keep).Order())
        {
            if (await kdf.RunAsync(header.Verdict.KdfMemoryBytes, () => cryptsetup.OpensSlotAsync(header.Path, oldPassphrase, slot, CancellationToken.None)))
            {
                victims.Add(slot);
            }
        }
        // Never the new slot, never the last: the kept slot is checked to be in the header and not a victim.
        if (victims.Count == 0 || victims.Contains(keep) || !header.Verdict.Keyslots.Contains(keep))
        {
            return VolumeOutcome.Success with { RevokedSlots = [] };
        }
        stopping.ThrowIfCancellationRequested();
        using var edit = header.Edit();
        step(VolumeStep.LuksKillSlot);
        foreach (var slot in victims)
        {
            await kdf.RunAsync(header.Verdict.KdfMemoryBytes, () => cryptsetup.KillSlotAsync(edit.Path, slot, newPassphrase, CancellationToken.None));
        }
        step(VolumeStep.WriteHeader);
        await writeBack.CommitAsync(header, edit, CancellationToken.None);
        foreach (var slot in victims)
        {
            LogRevoked(logger, volume.DmName, slot);
        }
        return VolumeOutcome.Success with { RevokedSlots = victims };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {DmName}: revoked key slot {Slot} of the old passphrase")]
    private static partial void LogRevoked(ILogger logger, string dmName, int slot);

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {DmName}: new passphrase added in key slot {Slot}")]
    private static partial void LogAdded(ILogger logger, string dmName, int slot);
}
