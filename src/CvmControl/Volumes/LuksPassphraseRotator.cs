using CvmControl.Tools;
using CvmControl.Volumes.Devices;
using Microsoft.Extensions.Options;

namespace CvmControl.Volumes;

/// <summary>Checks passphrases and adds new keyslots on the real LUKS2 device. The old keyslot is kept.</summary>
internal sealed partial class LuksPassphraseRotator(
    IDeviceResolver devices,
    Cryptsetup cryptsetup,
    KdfGate kdf,
    KeyDirectory keys,
    IOptions<VolumeOptions> options,
    ILogger<LuksPassphraseRotator> logger) : IPassphraseRotator
{
    public async Task<PassphraseCheck> CheckAsync(VolumeTarget volume, Passphrase passphrase, CancellationToken cancellationToken)
    {
        try
        {
            var device = await devices.ResolveAsync(volume.VolumeId, cancellationToken);
            var slot = await kdf.RunAsync(() => cryptsetup.TestPassphraseAsync(device, passphrase, cancellationToken));
            return slot is null ? PassphraseCheck.DoesNotOpen : PassphraseCheck.Opens;
        }
        catch (ToolFailure failure)
        {
            throw new VolumeOperationException(failure.Message, failure.Detail);
        }
    }

    public async Task<VolumeOutcome> AddPassphraseAsync(VolumeTarget volume, Passphrase oldPassphrase, Passphrase newPassphrase, CancellationToken stopping)
    {
        try
        {
            var device = await devices.ResolveAsync(volume.VolumeId, stopping);
            var keyDirectory = keys.Prepare();
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
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {DmName}: new passphrase added in key slot {Slot}")]
    private static partial void LogAdded(ILogger logger, string dmName, int slot);
}
