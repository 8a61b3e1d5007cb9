using CvmControl.OS;
using CvmControl.Tools;
using CvmControl.Volumes.Devices;
using CvmControl.Volumes.Luks;
using Microsoft.Extensions.Options;

namespace CvmControl.Volumes;

/// <summary>Checks passphrases and adds new keyslots on the real LUKS2 device. The old keyslot is kept.</summary>
internal sealed partial class LuksPassphraseRotator(
    IDeviceResolver devices,
    Cryptsetup cryptsetup,
    KdfGate kdf,
    KeyDirectory keys,
    HeaderGuard headers,
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
            using (await headers.CheckAsync(device, stopping))
            {
            }
            // Crash safety: nothing is removed. A power cut at any point leaves the old keyslot intact,
            // and LUKS2's two header copies make the keyslot addition itself all-or-nothing.
            await kdf.RunAsync(() => cryptsetup.AddKeyAsync(device, oldPassphrase, newPassphrase, options.Value.Cost, keyDirectory, CancellationToken.None));
            var slot = await kdf.RunAsync(() => cryptsetup.TestPassphraseAsync(device, newPassphrase, CancellationToken.None));
            if (slot is null)
            {
                return VolumeOutcome.Failure("new passphrase does not open the volume", "luksAddKey succeeded, but a test open with the new passphrase failed");
            }
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
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {DmName}: new passphrase added in key slot {Slot}")]
    private static partial void LogAdded(ILogger logger, string dmName, int slot);
}
