using CvmControl.OS;
using CvmControl.Tools;
using CvmControl.Volumes.Devices;
using CvmControl.Volumes.Luks;
using Microsoft.Extensions.Options;

namespace CvmControl.Volumes;

/// <summary>
/// Checks passphrases and adds new keyslots. Both act on the checked header copy, never on the live
/// device: the new keyslot is added to a private copy of the checked header, proven to open there, and
/// written back only if the device still holds exactly what was checked. The old keyslot is kept.
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
            var slot = await kdf.RunAsync(() => cryptsetup.TestPassphraseAsync(header.Path, passphrase, cancellationToken));
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

    public async Task<VolumeOutcome> AddPassphraseAsync(VolumeTarget volume, Passphrase oldPassphrase, Passphrase newPassphrase, CancellationToken stopping)
    {
        try
        {
            var device = await devices.ResolveAsync(volume.VolumeId, stopping);
            var keyDirectory = keys.Prepare();
            // Only a header that passes the allow-list gets a new keyslot (whose own cipher is pinned).
            using var header = await headers.CheckAsync(device, stopping);
            using var edit = header.Edit();
            await kdf.RunAsync(() => cryptsetup.AddKeyAsync(edit.Path, oldPassphrase, newPassphrase, options.Value.Cost, keyDirectory, CancellationToken.None));
            var slot = await kdf.RunAsync(() => cryptsetup.TestPassphraseAsync(edit.Path, newPassphrase, CancellationToken.None));
            if (slot is null)
            {
                return VolumeOutcome.Failure("new passphrase does not open the volume", "luksAddKey succeeded, but a test open of the changed header with the new passphrase failed; nothing was written");
            }
            // Crash safety: nothing is removed, and the write-back puts the new keyslot's material on
            // disk before either header copy names it, one header copy at a time. A power cut at any
            // point leaves a header that still holds the old keyslot.
            await writeBack.CommitAsync(header, edit, CancellationToken.None);
            LogAdded(logger, volume.DmName, slot.Value);
            return VolumeOutcome.Success;
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {DmName}: new passphrase added in key slot {Slot}")]
    private static partial void LogAdded(ILogger logger, string dmName, int slot);
}
