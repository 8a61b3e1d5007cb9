using CvmControl.Metrics;
using CvmControl.OS;
using CvmControl.Tools;
using CvmControl.Volumes.Devices;
using CvmControl.Volumes.Integrity;
using CvmControl.Volumes.Luks;
using Microsoft.Extensions.Options;

namespace CvmControl.Volumes;

/// <summary>
/// The real per-volume bootstrap: find the device, set up LUKS2, make or check ext4, mount.
/// Every step is idempotent, so a retry after any failure or crash picks up where the last run stopped.
/// </summary>
internal sealed partial class LuksVolumePipeline(
    IDeviceResolver devices,
    Cryptsetup cryptsetup,
    Blkid blkid,
    E2fsprogs e2fsprogs,
    Mounter mounter,
    IMountTable mounts,
    KdfGate kdf,
    HeaderGuard headers,
    HeaderWriteBack writeBack,
    MappingProof mappings,
    BlankCheck blank,
    IntegrityLayers integrity,
    KeyDirectory keyDirectory,
    NodeSizes sizes,
    TimeProvider time,
    IOptions<VolumeOptions> volumeOptions,
    IOptions<DeviceOptions> deviceOptions,
    ILogger<LuksVolumePipeline> logger,
    CvmMetrics? metrics = null) : IVolumePipeline
{
    private readonly CvmMetrics _metrics = metrics ?? CvmMetrics.None;

    public async Task<VolumeOutcome> BootstrapAsync(VolumeTarget volume, Passphrase passphrase, CancellationToken stopping, Action<string>? step = null)
    {
        var warnings = new List<string>();
        try
        {
            await RunAsync(volume, passphrase, warnings, step ?? (_ => { }), stopping);
            return warnings.Count == 0 ? VolumeOutcome.Success : VolumeOutcome.Success with { Warnings = warnings };
        }
        catch (ToolFailure failure)
        {
            return VolumeOutcome.Failure(failure.Message, failure.Detail);
        }
        catch (VolumeOperationException failure)
        {
            return VolumeOutcome.Failure(failure.Message, failure.Detail);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return VolumeOutcome.Failure("interrupted", "the daemon is shutting down; a new bootstrap resumes where this one stopped");
        }
    }

    private async Task RunAsync(VolumeTarget volume, Passphrase passphrase, List<string> warnings, Action<string> step, CancellationToken stopping)
    {
        var mapper = MapperPath(volume.DmName);

        // 1. Already mounted from our mapping: done, once the mapping is proven to be this volume and the
        //    passphrase opens it. Mounted from anything else: not ours to touch.
        if (mounts.Find(volume.MountPoint) is { } mounted)
        {
            if (!DeviceMapper.IsSource(mounted, mapper))
            {
                throw new VolumeOperationException("mount point is in use", $"{volume.MountPoint} is mounted from {mounted.Source}, not {mapper}");
            }
            stopping.ThrowIfCancellationRequested();
            step(VolumeStep.Device);
            var mountedDevice = await devices.ResolveAsync(volume.VolumeId, stopping);
            step(VolumeStep.VerifyMapping);
            await mappings.ProveAsync(volume, mapper, mountedDevice, passphrase, mounted, stopping);
            LogAlreadyMounted(logger, volume.DmName, volume.MountPoint);
            return;
        }

        // 2. An open mapping means the LUKS part is done (e.g. a crash after open), once it is proven to be
        //    this volume's.
        stopping.ThrowIfCancellationRequested();
        step(VolumeStep.Device);
        var device = await devices.ResolveAsync(volume.VolumeId, stopping);
        var formatted = false;
        if (File.Exists(mapper))
        {
            step(VolumeStep.VerifyMapping);
            await mappings.ProveAsync(volume, mapper, device, passphrase, mount: null, stopping);
            LogMappingExists(logger, volume.DmName);
        }
        else if (volume.Integrity)
        {
            formatted = await SetUpWithIntegrityAsync(volume, device, passphrase, warnings, step, stopping);
        }
        else
        {
            formatted = await SetUpLuksAsync(volume, device, passphrase, warnings, step, stopping);
        }

        // 7. Filesystem: make one on a blank mapping, check and grow ext4, refuse anything else. A mapping
        //    this run has just formatted needs no probe: its volume key is new, so it reads as noise.
        stopping.ThrowIfCancellationRequested();
        // Kernel lines about the integrity device from before this point (an earlier attempt in this
        // boot, a repair already made) are not news to the steps below.
        var kernelBaseline = await KernelBaselineAsync(volume);
        var type = formatted ? null : await blkid.ProbeTypeAsync(mapper, stopping);
        switch (type)
        {
            case null:
                if (!formatted)
                {
                    // blkid reports "nothing found" even when its reads failed: a volume whose blocks do
                    // not read (a host's changes under integrity, a failing disk) must never get mkfs.
                    await WithKernelAccountAsync(volume, kernelBaseline, () => Task.Run(() => RequireReadable(mapper), stopping));
                    if (volume.Integrity && await KernelAccountAsync(volume, kernelBaseline) is { Count: > 0 } lines)
                    {
                        throw new ToolFailure("cannot read the volume", $"blkid found no filesystem on {mapper}, but blocks failed their integrity check while it looked, so nothing was formatted; kernel: {string.Join(" | ", lines)}", null);
                    }
                }
                LogMakingFileSystem(logger, volume.DmName);
                step(VolumeStep.Mkfs);
                await WithKernelAccountAsync(volume, kernelBaseline, () => _metrics.TimeStepAsync(VolumeSteps.Mkfs, volume.DmName, () => e2fsprogs.MakeExt4Async(mapper, stopping)));
                break;
            case "ext4":
                step(VolumeStep.Fsck);
                var fsck = await WithKernelAccountAsync(volume, kernelBaseline, () => _metrics.TimeStepAsync(VolumeSteps.E2fsck, volume.DmName, () => e2fsprogs.CheckAsync(mapper, stopping)));
                if (fsck == 1)
                {
                    LogFsckCorrected(logger, volume.DmName);
                }
                if (volume.Integrity)
                {
                    // e2fsck -y gets past a block it cannot read (it rewrites it), so a pass can still
                    // have met blocks the host changed: the kernel's account of them becomes a warning.
                    var lines = await KernelAccountAsync(volume, kernelBaseline);
                    if (lines.Count > 0)
                    {
                        warnings.Add($"e2fsck met blocks that failed their integrity check; kernel: {string.Join(" | ", lines)}");
                    }
                }
                stopping.ThrowIfCancellationRequested();
                step(VolumeStep.Resize);
                await WithKernelAccountAsync(volume, kernelBaseline, () => _metrics.TimeStepAsync(VolumeSteps.Resize2fs, volume.DmName, () => e2fsprogs.ResizeAsync(mapper, stopping)));
                break;
            default:
                throw new VolumeOperationException("unsupported filesystem", $"{mapper} holds {type}; only ext4 is supported and nothing is formatted over existing data");
        }

        // 8. Mount.
        stopping.ThrowIfCancellationRequested();
        step(VolumeStep.Mount);
        Directory.CreateDirectory(volume.MountPoint, (UnixFileMode)0b111_101_101);
        await WithKernelAccountAsync(volume, kernelBaseline, () => _metrics.TimeStepAsync(VolumeSteps.Mount, volume.DmName, () => mounter.MountAsync(mapper, volume.MountPoint, "ext4", stopping)));
        LogMounted(logger, volume.DmName, volume.MountPoint);
    }

    /// <summary>Steps 4 to 6; returns whether this run formatted the device.</summary>
    private async Task<bool> SetUpLuksAsync(VolumeTarget volume, string device, Passphrase passphrase, List<string> warnings, Action<string> step, CancellationToken stopping)
    {
        // 4. Format only a device that is provably blank: luksFormat from a daemon never asks, and a disk
        //    restored from a snapshot or with a wiped header holds data that must never be destroyed.
        if (!await IsLuksOrBlankAsync(volume, device, stopping))
        {
            LogOpened(logger, volume.DmName, await FormatAsync(volume, device, passphrase, step, stopping));
            return true;
        }

        // 5. Check the header, then open through the checked copy; -v tells which slot the passphrase
        //    opened, so finding it costs no extra KDF run.
        stopping.ThrowIfCancellationRequested();
        step(VolumeStep.CheckHeader);
        using var header = await CheckHeaderAsync(device, stopping);
        RequireLayout(volume, device, header.Verdict);
        LogExisting(logger, volume.DmName, header.Verdict.HasMarker ? "initialised by cvm-control" : "not marked by cvm-control");
        step(VolumeStep.LuksOpen);
        var slot = await kdf.RunAsync(header.Verdict.KdfMemoryBytes, () => _metrics.TimeStepAsync(VolumeSteps.Open, volume.DmName, () => cryptsetup.OpenAsync(device, header.Path, volume.DmName, passphrase, stopping)));
        LogOpened(logger, volume.DmName, slot);

        // 6. Drop every other keyslot of a pre-existing volume, best effort, on the checked header.
        step(VolumeStep.LuksKillSlot);
        await RemoveOtherKeyslotsAsync(volume, header, slot, passphrase, warnings);
        return false;
    }

    /// <summary>
    /// Steps 4 and 5 for a blank device; returns the keyslot the passphrase opened. The header is
    /// formatted into a tmpfs file, with the layout luksFormat would give it on the device, marked, and
    /// checked like any other; only then is it written over the device's first 16 MiB, and the device is
    /// opened through that same file. So the header that is opened is the one that was checked, as for an
    /// existing volume, without copying it back off the device (luksHeaderBackup) first. A power cut
    /// before the write leaves the device blank, and a bootstrap formats it again.
    /// </summary>
    private async Task<int> FormatAsync(VolumeTarget volume, string device, Passphrase passphrase, Action<string> step, CancellationToken stopping)
    {
        // luksFormat into a file does not check the data device's size (on the device it refused one too
        // small for its header); a 16 MiB header must never be written over a device it does not fit.
        var size = blank.SizeOf(device);
        if (size <= BlankCheck.HeaderAreaBytes)
        {
            throw new VolumeOperationException("device too small", $"{device} has {size} bytes; a LUKS2 volume needs more than its {BlankCheck.HeaderAreaBytes}-byte header area. Nothing was written");
        }
        LogFormatting(logger, volume.DmName, device);
        var headerFile = Path.Combine(keyDirectory.Prepare(), "new-header-" + Guid.NewGuid().ToString("N"));
        try
        {
            step(VolumeStep.LuksFormat);
            await kdf.RunAsync(kdf.NewSlotCostBytes, () => _metrics.TimeStepAsync(VolumeSteps.LuksFormat, volume.DmName,
                () => cryptsetup.FormatHeaderFileAsync(headerFile, device, passphrase, volumeOptions.Value.Cost, stopping)));
            stopping.ThrowIfCancellationRequested();
            var verdict = await MarkCheckAndWriteAsync(volume, device, headerFile, step, stopping);
            step(VolumeStep.LuksOpen);
            return await kdf.RunAsync(verdict.KdfMemoryBytes, () => _metrics.TimeStepAsync(VolumeSteps.Open, volume.DmName,
                () => cryptsetup.OpenAsync(device, headerFile, volume.DmName, passphrase, stopping)));
        }
        finally
        {
            HeaderGuard.Delete(headerFile);
        }
    }

    public const string NotBlank = "device is not blank; refusing to format";
    public const string IntegrityMismatch = "integrity setting does not match the volume";

    /// <summary>
    /// Whether <paramref name="device"/> is LUKS; when it is not, it must be provably blank (else this throws).
    /// The blank read comes first, in-process; it stops at the first non-zero byte, which for a LUKS
    /// device is its first one. Zeros across the first 16 MiB leave no room for a LUKS header (both
    /// copies of a LUKS2 header and all their alternative offsets lie there), so isLuks runs only when
    /// the read finds data. blkid's probe, which also looks where the read does not (the end-of-device
    /// superblocks), runs whenever the device is not LUKS. The read's first sample after the header area
    /// is the first block at 16 MiB, where a volume with integrity keeps its dm-integrity superblock: a
    /// disk whose header was wiped but whose integrity layer is still there is never blank.
    /// </summary>
    private async Task<bool> IsLuksOrBlankAsync(VolumeTarget volume, string device, CancellationToken stopping)
    {
        // A first block of zeros is what a new disk shows (a LUKS2 device has its magic there): blkid's
        // probe, which a device that is not LUKS always needs, then runs beside the rest of the blank read.
        var probe = await Task.Run(() => ReadDevice(device, BlankCheck.FirstBlockIsZeros), stopping) ? blkid.ProbeAnySignatureAsync(device, stopping) : null;
        string? found;
        try
        {
            found = await Task.Run(() => ReadDevice(device, blank.FindData), stopping);
            if (found is not null && await cryptsetup.IsLuksAsync(device, stopping))
            {
                await ObserveAsync(probe);
                return true;
            }
        }
        catch
        {
            await ObserveAsync(probe);
            throw;
        }
        var signature = await (probe ?? blkid.ProbeAnySignatureAsync(device, stopping));
        var data = signature is null ? found : $"blkid found: {signature}";
        if (data is not null)
        {
            LogRefusedFormat(logger, volume.DmName, device, data);
            throw new VolumeOperationException(NotBlank, $"{device} is not LUKS and not blank: {data}. A new disk reads as zeros; this one may hold data or a damaged header, so it is left untouched");
        }
        stopping.ThrowIfCancellationRequested();
        return false;
    }

    /// <summary>Waits for a probe whose answer is no longer needed, so that no child outlives the step and no failure goes unobserved.</summary>
    private static async Task ObserveAsync(Task<string?>? probe)
    {
        if (probe is null)
        {
            return;
        }
        try
        {
            await probe;
        }
        catch (Exception ex) when (ex is ToolFailure or OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// A volume is opened only the way it was formatted. A header made for integrity keeps its data on
    /// the dm-integrity device (data offset 0); opened straight on the disk, its data would overlap the
    /// header, and the integrity layer would be read as ciphertext. The reverse would put dm-integrity
    /// over existing ciphertext. Either way nothing is changed.
    /// </summary>
    private static void RequireLayout(VolumeTarget volume, string device, LuksHeaderPolicy.Verdict verdict)
    {
        if (verdict.DetachedData != volume.Integrity)
        {
            throw new VolumeOperationException(IntegrityMismatch, verdict.DetachedData
                ? $"{device} was formatted with integrity (its LUKS2 header keeps the data on a dm-integrity device); the request has \"integrity\": false. Nothing was changed"
                : $"{device} was formatted without integrity; the request has \"integrity\": true, and an existing volume never gets an integrity layer. Nothing was changed");
        }
    }

    /// <summary>
    /// Steps 4 to 6 for a volume with integrity; returns whether this run formatted the device. Leftover
    /// lower mappings of an earlier, interrupted run are removed first (the dm-crypt mapping is not open,
    /// so nothing uses them), and they are removed again if this run fails before dm-crypt is open.
    /// </summary>
    private async Task<bool> SetUpWithIntegrityAsync(VolumeTarget volume, string device, Passphrase passphrase, List<string> warnings, Action<string> step, CancellationToken stopping)
    {
        await integrity.RemoveLeftoversAsync(volume.DmName, stopping);
        if (!await IsLuksOrBlankAsync(volume, device, stopping))
        {
            await FormatWithIntegrityAsync(volume, device, passphrase, step, stopping);
            return true;
        }

        step(VolumeStep.CheckHeader);
        using var header = await CheckHeaderAsync(device, stopping);
        RequireLayout(volume, device, header.Verdict);
        LogExisting(logger, volume.DmName, header.Verdict.HasMarker ? "initialised by cvm-control" : "not marked by cvm-control");

        // One KDF run gives both the volume key (for the HMAC keys and dm-crypt) and the keyslot it came from.
        step(VolumeStep.LuksOpen);
        var directory = keyDirectory.Prepare();
        var unlocked = await kdf.RunAsync(header.Verdict.KdfMemoryBytes, () => cryptsetup.VolumeKeyAsync(header.Path, passphrase, directory, stopping))
            ?? throw new VolumeOperationException("luksOpen failed", $"the passphrase opens no key slot of the LUKS2 header of {device}");
        var (slot, volumeKey) = unlocked;
        try
        {
            await OpenLayersAsync(volume, device, header.Path, volumeKey, step, stopping);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(volumeKey);
        }
        LogOpened(logger, volume.DmName, slot);
        var finished = await Task.Run(() => integrity.FinishInterruptedGrowth(MapperPath(volume.DmName)), stopping);
        if (finished > 0)
        {
            LogGrowthFinished(logger, volume.DmName, finished);
        }

        step(VolumeStep.LuksKillSlot);
        await RemoveOtherKeyslotsAsync(volume, header, slot, passphrase, warnings);
        return false;
    }

    /// <summary>
    /// A new volume with integrity. The volume key is drawn here, so the HMAC keys derive from it before
    /// LUKS2 exists. The order makes a power cut safe to retry or plainly visible: the dm-integrity
    /// device is made and wiped first, then the LUKS2 header is formatted into a tmpfs file, checked like
    /// any other, and only then written to the disk's first 16 MiB. A cut before that write leaves zeros
    /// there and a dm-integrity superblock at 16 MiB, which the blank guard refuses with the offset it
    /// found (the disk holds no data yet, so an operator can zero its first 17 MiB and retry).
    /// </summary>
    private async Task FormatWithIntegrityAsync(VolumeTarget volume, string device, Passphrase passphrase, Action<string> step, CancellationToken stopping)
    {
        LogFormattingWithIntegrity(logger, volume.DmName, device);
        var volumeKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(LuksParameters.KeyBytes);
        var directory = keyDirectory.Prepare();
        var headerFile = Path.Combine(directory, "new-header-" + Guid.NewGuid().ToString("N"));
        try
        {
            try
            {
                step(VolumeStep.IntegrityFormat);
                var below = await _metrics.TimeStepAsync(VolumeSteps.IntegrityFormat, volume.DmName, () => integrity.OpenAsync(volume.DmName, device, volumeKey, format: true, stopping));
                step(VolumeStep.LuksFormat);
                await kdf.RunAsync(kdf.NewSlotCostBytes, () => _metrics.TimeStepAsync(VolumeSteps.LuksFormat, volume.DmName,
                    () => cryptsetup.FormatDetachedAsync(headerFile, below, passphrase, volumeKey, volumeOptions.Value.Cost, directory, stopping)));
                await MarkCheckAndWriteAsync(volume, device, headerFile, step, stopping);
                step(VolumeStep.LuksOpen);
                await _metrics.TimeStepAsync(VolumeSteps.Open, volume.DmName, () => cryptsetup.OpenWithVolumeKeyAsync(below, headerFile, volume.DmName, volumeKey, directory, stopping));
            }
            catch
            {
                await RemoveLayersQuietlyAsync(volume);
                throw;
            }
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(volumeKey);
            HeaderGuard.Delete(headerFile);
        }
    }

    /// <summary>
    /// A new header file, before anything opens it: the marker token goes in (best effort), the file is
    /// checked like any header, and only then written over the disk's first 16 MiB.
    /// </summary>
    private async Task<LuksHeaderPolicy.Verdict> MarkCheckAndWriteAsync(VolumeTarget volume, string device, string headerFile, Action<string> step, CancellationToken stopping)
    {
        try
        {
            await cryptsetup.ImportTokenAsync(headerFile, MarkerToken(), CancellationToken.None);
        }
        catch (ToolFailure failure)
        {
            LogMarkerFailed(logger, volume.DmName, failure.Detail);
        }
        stopping.ThrowIfCancellationRequested();
        step(VolumeStep.CheckHeader);
        LuksHeaderPolicy.Verdict verdict;
        try
        {
            verdict = await headers.CheckCopyAsync(headerFile, stopping);
        }
        catch (HeaderRejected rejected)
        {
            throw new VolumeOperationException("LUKS2 header rejected", $"the header just formatted for {device}: {rejected.Message}");
        }
        RequireLayout(volume, device, verdict);
        step(VolumeStep.WriteHeader);
        await Task.Run(() => WriteHeaderArea(device, headerFile), stopping);
        return verdict;
    }

    /// <summary>Opens dm-integrity (growing it to the disk) and dm-crypt on it with the volume key; undoes the lower layers if dm-crypt does not open.</summary>
    private async Task OpenLayersAsync(VolumeTarget volume, string device, string header, byte[] volumeKey, Action<string> step, CancellationToken stopping)
    {
        step(VolumeStep.IntegrityOpen);
        string below;
        try
        {
            below = await _metrics.TimeStepAsync(VolumeSteps.IntegrityOpen, volume.DmName, () => integrity.OpenAsync(volume.DmName, device, volumeKey, format: false, stopping));
            step(VolumeStep.LuksOpen);
            await _metrics.TimeStepAsync(VolumeSteps.Open, volume.DmName, () => cryptsetup.OpenWithVolumeKeyAsync(below, header, volume.DmName, volumeKey, keyDirectory.Prepare(), stopping));
        }
        catch
        {
            await RemoveLayersQuietlyAsync(volume);
            throw;
        }
    }

    private async Task RemoveLayersQuietlyAsync(VolumeTarget volume)
    {
        try
        {
            await integrity.RemoveLeftoversAsync(volume.DmName, CancellationToken.None);
        }
        catch (ToolFailure failure)
        {
            LogLayersLeft(logger, volume.DmName, failure.Detail);
        }
    }

    /// <summary>The first MiB and the last 4 KiB of a mapping must read before anything is formatted over it.</summary>
    private void RequireReadable(string mapper)
    {
        try
        {
            var size = sizes.SizeOf(mapper);
            using var stream = new FileStream(mapper, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
            var head = new byte[(int)Math.Min(size, 1024 * 1024)];
            stream.ReadExactly(head);
            var tail = new byte[(int)Math.Min(size, 4096)];
            stream.Position = size - tail.Length;
            stream.ReadExactly(tail);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ToolFailure("cannot read the volume", $"{mapper}: {ex.Message}; blkid found no filesystem, but with blocks that do not read that proves nothing, so nothing was formatted", null);
        }
    }

    /// <summary>Writes a new header file over the disk's first 16 MiB and flushes it to the device.</summary>
    private static void WriteHeaderArea(string device, string headerFile)
    {
        var bytes = File.ReadAllBytes(headerFile);
        if (bytes.Length > BlankCheck.HeaderAreaBytes)
        {
            throw new VolumeOperationException("LUKS2 header too large", $"the new header has {bytes.Length} bytes; the header area is {BlankCheck.HeaderAreaBytes}");
        }
        try
        {
            using var stream = new FileStream(device, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1, FileOptions.WriteThrough);
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VolumeOperationException("cannot write the LUKS2 header", $"{device}: {ex.Message}");
        }
    }

    /// <summary>
    /// Runs a filesystem step; when it fails on a volume with integrity, the kernel's dm-integrity
    /// messages about the volume (checksum mismatches: blocks the host changed) are logged and added to
    /// the error detail.
    /// </summary>
    private async Task<T> WithKernelAccountAsync<T>(VolumeTarget volume, int baseline, Func<Task<T>> run)
    {
        try
        {
            return await run();
        }
        catch (ToolFailure failure) when (volume.Integrity)
        {
            var lines = await KernelAccountAsync(volume, baseline);
            if (lines.Count == 0)
            {
                throw;
            }
            throw new ToolFailure(failure.Message, $"{failure.Detail}; kernel: {string.Join(" | ", lines)}", failure.ExitCode);
        }
    }

    private async Task WithKernelAccountAsync(VolumeTarget volume, int baseline, Func<Task> run) => await WithKernelAccountAsync(volume, baseline, Unit(run));

    private static Func<Task<bool>> Unit(Func<Task> run) => async () =>
    {
        await run();
        return true;
    };

    /// <summary>
    /// How many kernel lines about the volume's dm-integrity device there are now: the filesystem steps
    /// report only the lines that come after (a device-mapper minor is reused within a boot, and a failed
    /// read the growth repair already handled is not news). 0, and no dmesg, for a volume without integrity.
    /// </summary>
    private async Task<int> KernelBaselineAsync(VolumeTarget volume) =>
        volume.Integrity ? (await integrity.KernelMessagesAsync(volume.DmName, CancellationToken.None)).Count : 0;

    /// <summary>The kernel's dm-integrity lines about the volume after <paramref name="baseline"/>, the latest few, each also logged.</summary>
    private async Task<IReadOnlyList<string>> KernelAccountAsync(VolumeTarget volume, int baseline)
    {
        var all = await integrity.KernelMessagesAsync(volume.DmName, CancellationToken.None);
        var lines = all.Skip(Math.Max(baseline, all.Count - IntegrityLayers.MaxKernelLines)).ToList();
        foreach (var line in lines)
        {
            LogIntegrityMessage(logger, volume.DmName, line);
        }
        return lines;
    }

    /// <summary>A read of the raw device; one that fails is a per-volume error that changed nothing.</summary>
    private static T ReadDevice<T>(string device, Func<string, T> read)
    {
        try
        {
            return read(device);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VolumeOperationException("cannot read the device", $"{device}: {ex.Message}; nothing was changed");
        }
    }

    private async Task<CheckedHeader> CheckHeaderAsync(string device, CancellationToken stopping)
    {
        try
        {
            return await headers.CheckAsync(device, stopping);
        }
        catch (HeaderRejected rejected)
        {
            throw new VolumeOperationException("LUKS2 header rejected", $"{device}: {rejected.Message}");
        }
    }

    private string MarkerToken() =>
        $$"""{"type":"{{LuksHeaderPolicy.MarkerTokenType}}","keyslots":[],"version":1,"created":"{{time.GetUtcNow():yyyy-MM-ddTHH:mm:ssZ}}"}""";

    /// <summary>
    /// Each removal is authenticated with the bootstrap passphrase on stdin (never empty stdin: that
    /// removes slots unauthenticated). luksKillSlot authenticates by trying the other slots in numeric
    /// order, one KDF run each, and ignores priorities (cryptsetup 2.6.1). So the kills go in ascending
    /// order: when the bootstrap slot is the lowest (the usual case) each kill costs one KDF run, and the
    /// whole reopen costs 1 + k. The bootstrap slot is also marked preferred, so later opens try it first.
    /// The kills change a private copy of the checked header, which <see cref="HeaderWriteBack"/> writes
    /// back only if the device still holds what was checked. The bootstrap slot is never a victim, so a
    /// power cut at any point leaves it in place. What fails here is reported as a warning: the volume is
    /// usable, but a stale slot survived.
    /// </summary>
    private async Task RemoveOtherKeyslotsAsync(VolumeTarget volume, CheckedHeader header, int keep, Passphrase passphrase, List<string> warnings)
    {
        var slots = header.Verdict.Keyslots;
        var stale = slots.Where(s => s != keep).Order().ToList();
        if (stale.Count == 0 || !slots.Contains(keep))
        {
            return;
        }
        void Warn(string warning)
        {
            warnings.Add(warning);
            LogCleanupFailed(logger, volume.DmName, warning);
        }

        WorkingHeader edit;
        try
        {
            edit = header.Edit();
        }
        catch (IOException ex)
        {
            Warn($"stale key slots {string.Join(", ", stale)} were not removed: {ex.Message}");
            return;
        }
        using (edit)
        {
            var changed = false;
            try
            {
                await cryptsetup.PreferSlotAsync(edit.Path, keep, CancellationToken.None);
                changed = true;
            }
            catch (ToolFailure failure)
            {
                Warn($"key slot {keep} was not made the preferred one: {failure.Message}: {failure.Detail}");
            }
            var removed = new List<int>();
            foreach (var slot in stale)
            {
                try
                {
                    await kdf.RunAsync(header.Verdict.KdfMemoryBytes, () => cryptsetup.KillSlotAsync(edit.Path, slot, passphrase, CancellationToken.None));
                    removed.Add(slot);
                    changed = true;
                }
                catch (ToolFailure failure)
                {
                    Warn($"stale key slot {slot} was not removed: {failure.Message}: {failure.Detail}");
                }
            }
            if (!changed)
            {
                return;
            }
            try
            {
                await writeBack.CommitAsync(header, edit, CancellationToken.None);
                foreach (var slot in removed)
                {
                    LogRemovedSlot(logger, volume.DmName, slot);
                }
            }
            catch (VolumeOperationException failure)
            {
                Unwritten(failure.Message, failure.Detail);
            }
            catch (ToolFailure failure)
            {
                Unwritten(failure.Message, failure.Detail);
            }

            void Unwritten(string error, string? detail) => Warn(removed.Count > 0
                ? $"stale key slots {string.Join(", ", removed)} were not removed: {error}: {detail}"
                : $"key slot {keep} was not made the preferred one: {error}: {detail}");
        }
    }

    private string MapperPath(string dmName) => DeviceMapper.PathOf(deviceOptions.Value.DevRoot, dmName);

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {DmName} is already mounted at {MountPoint}, and the mapping is proven to be this volume")]
    private static partial void LogAlreadyMounted(ILogger logger, string dmName, string mountPoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {DmName}: mapping already open and proven to be this volume, skipping LUKS setup")]
    private static partial void LogMappingExists(ILogger logger, string dmName);

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {DmName}: formatting blank device {Device} as LUKS2")]
    private static partial void LogFormatting(ILogger logger, string dmName, string device);

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {DmName}: formatting blank device {Device} with dm-integrity under LUKS2")]
    private static partial void LogFormattingWithIntegrity(ILogger logger, string dmName, string device);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Volume {DmName}: could not remove its integrity mappings after a failure: {Detail}")]
    private static partial void LogLayersLeft(ILogger logger, string dmName, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Volume {DmName}: finished a growth a power cut had interrupted: {Bytes} bytes past the filesystem's end written with zeros")]
    private static partial void LogGrowthFinished(ILogger logger, string dmName, long bytes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Volume {DmName}: kernel: {Line}")]
    private static partial void LogIntegrityMessage(ILogger logger, string dmName, string line);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Volume {DmName}: refusing to format {Device}: {Found}")]
    private static partial void LogRefusedFormat(ILogger logger, string dmName, string device, string found);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Volume {DmName}: could not write the cvm-control marker token: {Detail}")]
    private static partial void LogMarkerFailed(ILogger logger, string dmName, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {DmName}: existing LUKS2 volume, header accepted ({Origin})")]
    private static partial void LogExisting(ILogger logger, string dmName, string origin);

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {DmName}: opened with key slot {Slot}")]
    private static partial void LogOpened(ILogger logger, string dmName, int slot);

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {DmName}: removed stale key slot {Slot}")]
    private static partial void LogRemovedSlot(ILogger logger, string dmName, int slot);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Volume {DmName}: keyslot cleanup (not fatal): {Warning}")]
    private static partial void LogCleanupFailed(ILogger logger, string dmName, string warning);

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {DmName}: no filesystem, running mkfs.ext4")]
    private static partial void LogMakingFileSystem(ILogger logger, string dmName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Volume {DmName}: e2fsck corrected errors")]
    private static partial void LogFsckCorrected(ILogger logger, string dmName);

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {DmName} mounted at {MountPoint}")]
    private static partial void LogMounted(ILogger logger, string dmName, string mountPoint);
}
