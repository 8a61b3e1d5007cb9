using System.Globalization;
using System.Text.RegularExpressions;
using CvmControl.OS;

namespace CvmControl.Tools;

/// <summary>Cost settings for new keyslots; null keeps cryptsetup's defaults (production).</summary>
internal sealed record LuksCost(int? PbkdfMemoryKiB, int? IterTimeMs)
{
    public static readonly LuksCost Default = new(null, null);

    /// <summary>Arguments for a new keyslot: its area cipher is pinned, never inherited from a header the host may have edited.</summary>
    public IEnumerable<string> Arguments()
    {
        yield return "--keyslot-cipher";
        yield return LuksParameters.Cipher;
        yield return "--keyslot-key-size";
        yield return LuksParameters.KeyBitsText;
        yield return "--pbkdf";
        yield return LuksParameters.Pbkdf;
        if (PbkdfMemoryKiB is int memory)
        {
            yield return "--pbkdf-memory";
            yield return memory.ToString(CultureInfo.InvariantCulture);
        }
        if (IterTimeMs is int iter)
        {
            yield return "--iter-time";
            yield return iter.ToString(CultureInfo.InvariantCulture);
        }
    }
}

/// <summary>
/// The cryptsetup wrapper. Passphrases go only to stdin with <c>--key-file=-</c> and no trailing newline,
/// or (for the new key of luksAddKey) into a 0600 file on tmpfs that is deleted right after.
/// They never appear in argv, the environment, logs or error details.
/// </summary>
internal sealed partial class Cryptsetup(IProcessRunner runner)
{
    /// <summary>Argon2 with up to 1 GiB can be slow under memory pressure, and slower still under emulation.</summary>
    private static readonly TimeSpan KdfTimeout = TimeSpan.FromMinutes(10);

    [GeneratedRegex(@"^Key slot (\d+) unlocked\.", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex UnlockedSlot();

    /// <summary><c>isLuks</c>: 0 → LUKS, 1 → not LUKS; anything else (4: missing or no access) fails.</summary>
    public async Task<bool> IsLuksAsync(string device, CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync("cryptsetup isLuks failed",
            new ProcessSpec("cryptsetup", ["isLuks", device]) { Timeout = TimeSpan.FromSeconds(60) }, cancellationToken);
        return result.ExitCode switch
        {
            0 => true,
            1 => false,
            _ => throw ToolFailure.From("cryptsetup isLuks failed", result),
        };
    }

    /// <summary>
    /// Opens <paramref name="device"/> as <c>/dev/mapper/<paramref name="name"/></c> using the checked
    /// header copy <paramref name="header"/>, and returns the keyslot that the passphrase unlocked.
    /// </summary>
    public async Task<int> OpenAsync(string device, string header, string name, Passphrase passphrase, CancellationToken cancellationToken)
    {
        var result = await runner.RunCheckedAsync("luksOpen failed",
            WithKey(passphrase, ["open", "--type", "luks2", "--header", header, "--verbose", "--key-file=-", device, name]), cancellationToken);
        return ParseSlot(result) ?? throw new ToolFailure("luksOpen failed", "cryptsetup did not report which key slot it unlocked", result.ExitCode);
    }

    /// <summary>The keyslot <paramref name="passphrase"/> opens, or null when it opens none (exit code 2). <paramref name="device"/> may be a header copy.</summary>
    public async Task<int?> TestPassphraseAsync(string device, Passphrase passphrase, CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync("cryptsetup open --test-passphrase failed",
            WithKey(passphrase, ["open", "--test-passphrase", "--type", "luks2", "--verbose", "--key-file=-", device]), cancellationToken);
        return result.ExitCode switch
        {
            0 => ParseSlot(result) ?? throw new ToolFailure("cryptsetup open --test-passphrase failed", "cryptsetup did not report which key slot it unlocked", 0),
            2 => null,
            _ => throw ToolFailure.From("cryptsetup open --test-passphrase failed", result),
        };
    }

    /// <summary>
    /// Whether <paramref name="passphrase"/> opens keyslot <paramref name="slot"/> itself (one KDF run, that
    /// slot only). A passphrase may sit in more than one slot; this is how each is found.
    /// </summary>
    public async Task<bool> OpensSlotAsync(string device, Passphrase passphrase, int slot, CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync("cryptsetup open --test-passphrase failed",
            WithKey(passphrase, ["open", "--test-passphrase", "--type", "luks2", "--key-slot", slot.ToString(CultureInfo.InvariantCulture), "--key-file=-", device]), cancellationToken);
        return result.ExitCode switch
        {
            0 => true,
            2 => false,
            _ => throw ToolFailure.From("cryptsetup open --test-passphrase failed", result),
        };
    }

    /// <summary>
    /// Removes <paramref name="slot"/>, authenticated by <paramref name="keep"/>, a passphrase of a slot that stays.
    /// Never with empty stdin: cryptsetup then removes the slot without any authentication.
    /// </summary>
    public Task KillSlotAsync(string device, int slot, Passphrase keep, CancellationToken cancellationToken) =>
        runner.RunCheckedAsync("luksKillSlot failed",
            WithKey(keep, ["luksKillSlot", "--key-file=-", device, slot.ToString(CultureInfo.InvariantCulture)]), cancellationToken);

    /// <summary>Makes <paramref name="slot"/> the one tried first, so every later unlock costs one KDF run.</summary>
    public Task PreferSlotAsync(string device, int slot, CancellationToken cancellationToken) =>
        runner.RunCheckedAsync("cryptsetup config failed",
            new ProcessSpec("cryptsetup", ["config", "--priority", "prefer", "--key-slot", slot.ToString(CultureInfo.InvariantCulture), device]) { Timeout = TimeSpan.FromSeconds(60) },
            cancellationToken);

    /// <summary>
    /// Adds <paramref name="newPassphrase"/> in a new keyslot, authenticated by <paramref name="oldPassphrase"/> on stdin.
    /// The new one is written to a 0600 file in <paramref name="keyDirectory"/> (tmpfs) and deleted right after.
    /// </summary>
    public async Task AddKeyAsync(string device, Passphrase oldPassphrase, Passphrase newPassphrase, LuksCost cost, string keyDirectory, CancellationToken cancellationToken)
    {
        using var keyFile = SecretFile.Write(keyDirectory, "newkey", newPassphrase.Utf8.Span);
        var spec = WithKey(oldPassphrase, ["luksAddKey", .. cost.Arguments(), "--key-file=-", device, keyFile.Path]) with
        {
            Secrets = [oldPassphrase.Value, newPassphrase.Value],
        };
        await runner.RunCheckedAsync("luksAddKey failed", spec, cancellationToken);
    }

    /// <summary>
    /// Formats a detached LUKS2 header into the new file <paramref name="header"/> for the data device
    /// <paramref name="dataDevice"/> (data from its first byte), with the given volume key, so that the
    /// caller knows the key without another KDF run. The header takes the standard 16 MiB: two 16 KiB
    /// metadata copies and the keyslot area.
    /// </summary>
    public async Task FormatDetachedAsync(string header, string dataDevice, Passphrase passphrase, ReadOnlyMemory<byte> volumeKey, LuksCost cost, string keyDirectory, CancellationToken cancellationToken)
    {
        using var keyFile = SecretFile.Write(keyDirectory, "volume-key", volumeKey.Span);
        await runner.RunCheckedAsync("luksFormat failed", WithKey(passphrase,
        [
            "luksFormat", "--batch-mode", "--type", "luks2",
            "--cipher", LuksParameters.Cipher, "--key-size", LuksParameters.KeyBitsText, "--hash", LuksParameters.Hash,
            .. cost.Arguments(),
            "--luks2-metadata-size", "16k", "--luks2-keyslots-size", DetachedKeyslotsSize,
            "--header", header, "--volume-key-file", keyFile.Path,
            "--key-file=-", dataDevice,
        ]), cancellationToken);
    }

    /// <summary>
    /// Formats the LUKS2 header of a plain volume into the new file <paramref name="header"/>, laid out
    /// exactly as <c>luksFormat</c> on the device itself would lay it out: two 16 KiB metadata copies, the
    /// keyslot area, and the data from 16 MiB (<see cref="AttachedDataOffsetSectors"/>) of
    /// <paramref name="device"/>. The device is not written; the caller checks the file and writes it over
    /// the device's first 16 MiB, so the header that is opened is the one that was checked.
    /// </summary>
    public Task FormatHeaderFileAsync(string header, string device, Passphrase passphrase, LuksCost cost, CancellationToken cancellationToken) =>
        runner.RunCheckedAsync("luksFormat failed", WithKey(passphrase,
        [
            "luksFormat", "--batch-mode", "--type", "luks2",
            "--cipher", LuksParameters.Cipher, "--key-size", LuksParameters.KeyBitsText, "--hash", LuksParameters.Hash,
            .. cost.Arguments(),
            "--luks2-metadata-size", "16k", "--luks2-keyslots-size", DetachedKeyslotsSize,
            "--offset", AttachedDataOffsetSectors,
            "--header", header,
            "--key-file=-", device,
        ]), cancellationToken);

    /// <summary>16 MiB in 512-byte sectors: where an attached LUKS2 header of the standard size puts the data.</summary>
    public const string AttachedDataOffsetSectors = "32768";

    /// <summary>16 MiB less the two 16 KiB metadata copies: a detached header fills exactly the 16 MiB an attached one takes.</summary>
    public const string DetachedKeyslotsSize = "16352k";

    /// <summary>
    /// The volume key of header <paramref name="header"/> and the keyslot <paramref name="passphrase"/>
    /// opened (one KDF run). cryptsetup writes the key into a file it creates in <paramref name="keyDirectory"/>
    /// (tmpfs); it is read and deleted at once. Null when the passphrase opens no keyslot (exit code 2).
    /// </summary>
    public async Task<(int Slot, byte[] VolumeKey)?> VolumeKeyAsync(string header, Passphrase passphrase, string keyDirectory, CancellationToken cancellationToken)
    {
        using var keyFile = SecretFile.Reserve(keyDirectory, "volume-key");
        var result = await runner.RunAsync("cryptsetup luksDump --dump-volume-key failed",
            WithKey(passphrase, ["luksDump", "--dump-volume-key", "--batch-mode", "--verbose", "--volume-key-file", keyFile.Path, "--key-file=-", header]), cancellationToken);
        if (result.ExitCode == 2)
        {
            return null;
        }
        if (result.ExitCode != 0)
        {
            throw ToolFailure.From("cryptsetup luksDump --dump-volume-key failed", result);
        }
        var slot = ParseSlot(result) ?? throw new ToolFailure("cryptsetup luksDump --dump-volume-key failed", "cryptsetup did not report which key slot it unlocked", 0);
        var key = File.ReadAllBytes(keyFile.Path);
        if (key.Length != LuksParameters.KeyBytes)
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(key);
            throw new ToolFailure("cryptsetup luksDump --dump-volume-key failed", $"the volume key has {key.Length} bytes, not {LuksParameters.KeyBytes}", 0);
        }
        return (slot, key);
    }

    /// <summary>
    /// Opens <paramref name="dataDevice"/> as <c>/dev/mapper/<paramref name="name"/></c> with the detached,
    /// checked header copy <paramref name="header"/> and a volume key cryptsetup checks against the
    /// header's digest: no KDF run.
    /// </summary>
    public async Task OpenWithVolumeKeyAsync(string dataDevice, string header, string name, ReadOnlyMemory<byte> volumeKey, string keyDirectory, CancellationToken cancellationToken)
    {
        using var keyFile = SecretFile.Write(keyDirectory, "volume-key", volumeKey.Span);
        await runner.RunCheckedAsync("luksOpen failed",
            new ProcessSpec("cryptsetup", ["open", "--type", "luks2", "--header", header, "--volume-key-file", keyFile.Path, dataDevice, name]) { Timeout = TimeSpan.FromMinutes(2) },
            cancellationToken);
    }

    /// <summary>Copies the header and keyslot area of <paramref name="device"/> into the new file <paramref name="file"/>.</summary>
    public Task HeaderBackupAsync(string device, string file, CancellationToken cancellationToken) =>
        runner.RunCheckedAsync("luksHeaderBackup failed",
            new ProcessSpec("cryptsetup", ["luksHeaderBackup", "--header-backup-file", file, device]) { Timeout = TimeSpan.FromMinutes(2) }, cancellationToken);

    /// <summary>The LUKS2 JSON metadata of a device or header file, as text.</summary>
    public async Task<string> DumpJsonAsync(string deviceOrHeader, CancellationToken cancellationToken) =>
        (await runner.RunCheckedAsync("luksDump failed",
            new ProcessSpec("cryptsetup", ["luksDump", "--dump-json-metadata", deviceOrHeader]) { Timeout = TimeSpan.FromSeconds(60) }, cancellationToken)).StandardOutput;

    /// <summary>Writes this daemon's marker token: the volume was initialised by cvm-control (informational, not authenticated).</summary>
    public Task ImportTokenAsync(string device, string tokenJson, CancellationToken cancellationToken) =>
        runner.RunCheckedAsync("cryptsetup token import failed",
            new ProcessSpec("cryptsetup", ["token", "import", "--json-file=-", device])
            {
                StandardInput = System.Text.Encoding.UTF8.GetBytes(tokenJson),
                Timeout = TimeSpan.FromSeconds(60),
            }, cancellationToken);

    internal static int? ParseSlot(ProcessResult result) =>
        UnlockedSlot().Match(result.StandardOutput + "\n" + result.StandardError) is { Success: true } match
            ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
            : null;

    private static ProcessSpec WithKey(Passphrase passphrase, IReadOnlyList<string> arguments) =>
        new("cryptsetup", arguments)
        {
            StandardInput = passphrase.Utf8,
            Timeout = KdfTimeout,
            Secrets = [passphrase.Value],
            // Every command that takes a key runs the KDF: keep the API responsive meanwhile.
            Background = true,
        };
}
