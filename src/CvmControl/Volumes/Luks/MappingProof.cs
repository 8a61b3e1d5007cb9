using CvmControl.OS;
using CvmControl.Tools;
using CvmControl.Volumes.Devices;

namespace CvmControl.Volumes.Luks;

/// <summary>
/// Proves that a mapping (and a mount on it) that is already there is this volume before the daemon calls
/// the volume good. bootstrap.json can be gone while volumes stay mapped (a kill between mount and
/// record write), and then whoever bootstraps first becomes the owner: without this proof, any
/// passphrase would do. The mapping must sit on exactly the device the volume id resolves to, carry the
/// UUID of that device's checked header, and the given passphrase must open that checked header (one KDF
/// run, under the gate). A mismatch changes nothing.
/// </summary>
internal sealed class MappingProof(IBlockDevices blocks, HeaderGuard headers, Cryptsetup cryptsetup, KdfGate kdf)
{
    public const string NotThisVolume = "existing mapping is not this volume";
    public const string WrongPassphrase = "passphrase does not open the volume";

    /// <summary>The device-mapper limit on a UUID, without its NUL (cryptsetup truncates to it).</summary>
    private const int DmUuidLength = 128;

    /// <param name="mount">The mount at the volume's mount point, when there is one: it must be on this mapping.</param>
    /// <exception cref="VolumeOperationException">The mapping or mount is not this volume, or the passphrase does not open it.</exception>
    /// <exception cref="ToolFailure">cryptsetup could not copy the header or test the passphrase.</exception>
    public async Task ProveAsync(VolumeTarget volume, string mapper, string device, Passphrase passphrase, MountEntry? mount, CancellationToken cancellationToken)
    {
        var mapping = Number(mapper) ?? throw new VolumeOperationException(NotThisVolume, $"{mapper} is not a block device");
        if (mount is not null && mount.Device != mapping)
        {
            throw new VolumeOperationException(NotThisVolume, $"{mount.MountPoint} is mounted from device {mount.Device?.ToString() ?? "(unknown)"}, but {mapper} is {mapping}");
        }
        var dm = Read(() => blocks.MappingOf(mapping)) ?? throw new VolumeOperationException(NotThisVolume, $"{mapper} ({mapping}) is not a device-mapper device");
        if (dm.Name != volume.DmName)
        {
            throw new VolumeOperationException(NotThisVolume, $"{mapper} ({mapping}) is the mapping \"{dm.Name}\"");
        }
        var backing = Number(device) ?? throw new VolumeOperationException(NotThisVolume, $"{device} is not a block device");
        if (volume.Integrity)
        {
            // dm-crypt on <name>@integrity, on <name>@data, on the disk.
            var below = Below(dm, LayerNames.Integrity(volume.DmName), mapper);
            var window = Below(below, LayerNames.Data(volume.DmName), mapper);
            RequireOn(window, backing, volume, device, mapper);
        }
        else
        {
            RequireOn(dm, backing, volume, device, mapper);
        }

        CheckedHeader header;
        try
        {
            header = await headers.CheckAsync(device, cancellationToken);
        }
        catch (HeaderRejected rejected)
        {
            throw new VolumeOperationException("LUKS2 header rejected", $"{device}: {rejected.Message}");
        }
        using (header)
        {
            if (header.Verdict.DetachedData != volume.Integrity)
            {
                throw new VolumeOperationException(NotThisVolume, header.Verdict.DetachedData
                    ? $"the LUKS2 header of {device} was made for a volume with integrity, but the request has \"integrity\": false"
                    : $"the LUKS2 header of {device} was made for a volume without integrity, but the request has \"integrity\": true");
            }
            var expected = DmUuidOf(header.Verdict.Uuid, volume.DmName);
            if (dm.Uuid != expected)
            {
                throw new VolumeOperationException(NotThisVolume, $"{mapper} has the device-mapper UUID \"{dm.Uuid}\", but the LUKS2 header of {device} gives \"{expected}\"");
            }
            var slot = await kdf.RunAsync(header.Verdict.KdfMemoryBytes, () => cryptsetup.TestPassphraseAsync(header.Path, passphrase, cancellationToken));
            if (slot is null)
            {
                throw new VolumeOperationException(WrongPassphrase, $"{mapper} is already open, and the passphrase opens no keyslot of the LUKS2 header of {device}");
            }
        }
    }

    /// <summary>The UUID cryptsetup gives a LUKS2 mapping: <c>CRYPT-LUKS2-&lt;header UUID without dashes&gt;-&lt;name&gt;</c>, cut to 128 characters.</summary>
    public static string DmUuidOf(string headerUuid, string dmName)
    {
        var uuid = $"CRYPT-LUKS2-{headerUuid.Replace("-", "", StringComparison.Ordinal)}-{dmName}";
        return uuid.Length > DmUuidLength ? uuid[..DmUuidLength] : uuid;
    }

    private DeviceNumber? Number(string path) => Read(() => blocks.NumberOf(path));

    /// <summary>The one mapping <paramref name="upper"/> sits on, which must be named <paramref name="name"/>.</summary>
    private DmDevice Below(DmDevice upper, string name, string mapper)
    {
        var lower = upper.Slaves is [var only] ? Read(() => blocks.MappingOf(only)) : null;
        if (lower is null || lower.Name != name)
        {
            var sits = upper.Slaves.Count == 0 ? "nothing" : string.Join(", ", upper.Slaves);
            throw new VolumeOperationException(NotThisVolume, $"{mapper}: the mapping \"{upper.Name}\" sits on {sits}{(lower is null ? "" : $" (\"{lower.Name}\")")}, not on the mapping \"{name}\"");
        }
        return lower;
    }

    private static void RequireOn(DmDevice lowest, DeviceNumber backing, VolumeTarget volume, string device, string mapper)
    {
        if (lowest.Slaves is not [var only] || only != backing)
        {
            var sits = lowest.Slaves.Count == 0 ? "nothing" : string.Join(", ", lowest.Slaves);
            var what = lowest.Name == volume.DmName ? mapper : $"{mapper} (through \"{lowest.Name}\")";
            throw new VolumeOperationException(NotThisVolume, $"{what} sits on {sits}, but volume {volume.VolumeId} is {device} ({backing})");
        }
    }

    private static T Read<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VolumeOperationException("cannot identify the existing mapping", ex.Message);
        }
    }
}
