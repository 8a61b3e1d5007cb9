using System.Globalization;
using CvmControl.OS;

namespace CvmControl.Tools;

/// <summary>
/// The integritysetup wrapper: a standalone dm-integrity device in journal mode with keyed HMAC-SHA256
/// tags of 32 bytes per 4 KiB sector. The keys reach the tool only in 0600 files on tmpfs that are
/// deleted as soon as it exits. Discards are never allowed: dm-integrity does not check the HMAC of a
/// discarded block, so the host could forge one.
/// </summary>
internal sealed class Integritysetup(IProcessRunner runner)
{
    public const int TagBytes = 32;
    public const int SectorBytes = 4096;
    public const string Algorithm = "hmac-sha256";

    /// <summary>Writes the superblock and journal, then wipes the whole device so that every tag is valid; time grows with the size.</summary>
    public Task FormatAsync(string device, IntegrityKeys keys, string keyDirectory, CancellationToken cancellationToken) =>
        RunWithKeysAsync("integritysetup format failed", keys, keyDirectory,
            files => ["format", "--batch-mode", "--sector-size", SectorBytes.ToString(CultureInfo.InvariantCulture), "--tag-size", TagBytes.ToString(CultureInfo.InvariantCulture), .. Options(files), device],
            TimeSpan.FromHours(12), cancellationToken);

    public Task OpenAsync(string device, string name, IntegrityKeys keys, string keyDirectory, CancellationToken cancellationToken) =>
        RunWithKeysAsync("integritysetup open failed", keys, keyDirectory,
            files => ["open", .. Options(files), device, name], TimeSpan.FromMinutes(10), cancellationToken);

    /// <summary>
    /// Grows an open device to the size of what it sits on (a no-op when that has not grown). <c>--wipe</c>
    /// writes zeros over the added area through dm-integrity. Without it, integritysetup has the kernel
    /// compute tags over whatever the added area holds, and that is whatever the host put there.
    /// </summary>
    public Task ResizeAsync(string name, IntegrityKeys keys, string keyDirectory, CancellationToken cancellationToken) =>
        RunWithKeysAsync("integritysetup resize failed", keys, keyDirectory,
            files => ["resize", "--wipe", .. Options(files), name], TimeSpan.FromHours(12), cancellationToken);

    public Task CloseAsync(string name, CancellationToken cancellationToken) =>
        runner.RunCheckedAsync("integritysetup close failed",
            new ProcessSpec("integritysetup", ["close", name]) { Timeout = TimeSpan.FromMinutes(2) }, cancellationToken);

    /// <summary>The algorithms and keys, which every action needs; sector and tag size are read from the superblock after format.</summary>
    private static IEnumerable<string> Options((string Tags, string Journal) files) =>
    [
        "--integrity", Algorithm,
        "--integrity-key-file", files.Tags,
        "--integrity-key-size", IntegrityKeys.KeyBytes.ToString(CultureInfo.InvariantCulture),
        "--journal-integrity", Algorithm,
        "--journal-integrity-key-file", files.Journal,
        "--journal-integrity-key-size", IntegrityKeys.KeyBytes.ToString(CultureInfo.InvariantCulture),
    ];

    private async Task RunWithKeysAsync(string error, IntegrityKeys keys, string keyDirectory,
        Func<(string Tags, string Journal), IReadOnlyList<string>> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var tags = SecretFile.Write(keyDirectory, "integrity-tags", keys.Tags);
        using var journal = SecretFile.Write(keyDirectory, "integrity-journal", keys.Journal);
        await runner.RunCheckedAsync(error,
            new ProcessSpec("integritysetup", arguments((tags.Path, journal.Path))) { Timeout = timeout }, cancellationToken);
    }
}
