using System.Security.Cryptography;
using System.Text;
using CvmControl.OS;
using CvmControl.Tools;
using CvmControl.Volumes.Devices;
using CvmControl.Volumes.Luks;
using Microsoft.Extensions.Options;

namespace CvmControl.Volumes.Integrity;

/// <summary>
/// The two mappings under the dm-crypt mapping of a volume with integrity. The raw disk holds the LUKS2
/// header in its first 16 MiB; <c>&lt;name&gt;@data</c> is a linear window onto the rest, and
/// <c>&lt;name&gt;@integrity</c> is dm-integrity (journal mode, HMAC-SHA256) on that window. dm-crypt sits on
/// the integrity device and reads its header from the raw disk's first 16 MiB (through the checked copy).
/// </summary>
/// <remarks>
/// The HMAC keys are derived from the LUKS2 volume key with HKDF-SHA256, so there is no second secret:
/// the volume key is the same across passphrase rotations, and only the caller's passphrase unlocks it.
/// </remarks>
internal sealed class IntegrityLayers(Dmsetup dmsetup, Integritysetup integritysetup, Dmesg dmesg, IBlockDevices blocks, NodeSizes sizes, KeyDirectory keys, BlankCheck blank, IOptions<DeviceOptions> deviceOptions)
{
    /// <summary>The HKDF label of the data-tag key; the journal key's adds <c>/journal</c>.</summary>
    public const string KeyLabel = "cvm-control/dm-integrity/v1";

    /// <summary>Where the dm-integrity device starts on the raw disk: after the 16 MiB LUKS2 header area.</summary>
    public const long DataStartBytes = BlankCheck.HeaderAreaBytes;

    private const int SectorBytes = 512;

    public string IntegrityPath(string dmName) => DeviceMapper.PathOf(deviceOptions.Value.DevRoot, LayerNames.Integrity(dmName));

    public string DataPath(string dmName) => DeviceMapper.PathOf(deviceOptions.Value.DevRoot, LayerNames.Data(dmName));

    /// <summary>The tag and journal HMAC keys of a volume, from its 64-byte LUKS2 volume key.</summary>
    public static IntegrityKeys DeriveKeys(ReadOnlySpan<byte> volumeKey)
    {
        var tags = new byte[IntegrityKeys.KeyBytes];
        var journal = new byte[IntegrityKeys.KeyBytes];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, volumeKey, tags, salt: [], info: Encoding.ASCII.GetBytes(KeyLabel));
        HKDF.DeriveKey(HashAlgorithmName.SHA256, volumeKey, journal, salt: [], info: Encoding.ASCII.GetBytes(KeyLabel + "/journal"));
        return new IntegrityKeys(tags, journal);
    }

    /// <summary>
    /// Removes this volume's integrity and window mappings when they are left over from an earlier run
    /// (the dm-crypt mapping above them is not open, so nothing uses them). Only names derived from the
    /// volume's own name are touched.
    /// </summary>
    public async Task RemoveLeftoversAsync(string dmName, CancellationToken cancellationToken)
    {
        if (IsLive(IntegrityPath(dmName), LayerNames.Integrity(dmName)))
        {
            await integritysetup.CloseAsync(LayerNames.Integrity(dmName), cancellationToken);
        }
        if (IsLive(DataPath(dmName), LayerNames.Data(dmName)))
        {
            await dmsetup.RemoveAsync(LayerNames.Data(dmName), cancellationToken);
        }
        else if (File.Exists(DataPath(dmName)))
        {
            await dmsetup.RemoveStaleNodeAsync(LayerNames.Data(dmName), cancellationToken);
        }
    }

    /// <summary>
    /// Whether the node at <paramref name="path"/> is the live mapping <paramref name="name"/>. A node can
    /// outlive its mapping (no udev), and its device number may since belong to another mapping.
    /// </summary>
    private bool IsLive(string path, string name)
    {
        try
        {
            return blocks.NumberOf(path) is { } number && blocks.MappingOf(number)?.Name == name;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// Maps the window after the header area of <paramref name="device"/> and, when <paramref name="format"/>,
    /// makes a new dm-integrity device there (superblock, journal, and a wipe that makes every tag valid),
    /// then opens it. An existing device is grown to the window's size, which is what makes a grown disk's
    /// new space usable. Returns the integrity device's path.
    /// </summary>
    public async Task<string> OpenAsync(string dmName, string device, ReadOnlyMemory<byte> volumeKey, bool format, CancellationToken cancellationToken)
    {
        var size = blank.SizeOf(device);
        if (size < DataStartBytes + MinimumDataBytes)
        {
            throw new VolumeOperationException("device too small for integrity", $"{device} has {size} bytes; a volume with integrity needs at least {DataStartBytes + MinimumDataBytes}");
        }
        var directory = keys.Prepare();
        using var hmac = DeriveKeys(volumeKey.Span);
        await dmsetup.CreateLinearAsync(LayerNames.Data(dmName), device, DataStartBytes / SectorBytes, (size - DataStartBytes) / SectorBytes, cancellationToken);
        var window = DataPath(dmName);
        if (format)
        {
            await integritysetup.FormatAsync(window, hmac, directory, cancellationToken);
        }
        await integritysetup.OpenAsync(window, LayerNames.Integrity(dmName), hmac, directory, cancellationToken);
        if (!format)
        {
            await integritysetup.ResizeAsync(LayerNames.Integrity(dmName), hmac, directory, cancellationToken);
        }
        return IntegrityPath(dmName);
    }

    /// <summary>
    /// After dm-crypt is open on an existing volume: finishes a growth a power cut interrupted (see
    /// <see cref="GrowthTail"/>). Returns the bytes written, 0 when there was nothing to finish.
    /// </summary>
    public long FinishInterruptedGrowth(string mapping)
    {
        try
        {
            return GrowthTail.Finish(mapping, sizes.SizeOf(mapping));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VolumeOperationException("cannot finish the growth of the integrity device", $"{mapping}: {ex.Message}");
        }
    }

    /// <summary>At most this many kernel lines go into a volume's error detail.</summary>
    public const int MaxKernelLines = 8;

    /// <summary>
    /// The kernel's messages about this volume's dm-integrity device, oldest first (e.g. "Checksum failed at
    /// sector …", which is what a block the host changed produces), for the log and the error detail.
    /// A device-mapper device is <c>dm-&lt;minor&gt;</c> to the kernel.
    /// </summary>
    public async Task<IReadOnlyList<string>> KernelMessagesAsync(string dmName, CancellationToken cancellationToken)
    {
        DeviceNumber? number;
        try
        {
            number = blocks.NumberOf(IntegrityPath(dmName));
        }
        catch (IOException)
        {
            return [];
        }
        if (number is not { } device)
        {
            return [];
        }
        return await dmesg.LinesWithAsync(["integrity", $"dm-{device.Minor}:"], cancellationToken);
    }

    /// <summary>dm-integrity needs room for its superblock, journal and at least some data; 16 MiB is a floor well above that.</summary>
    public const long MinimumDataBytes = 16L * 1024 * 1024;
}
