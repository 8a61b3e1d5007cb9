using System.Buffers.Binary;
using System.Diagnostics;
using CvmControl.Volumes.Luks;

namespace CvmControl.Tests.Volumes.Luks;

/// <summary>
/// The write-back order against real LUKS2 on image files (cryptsetup needs no device-mapper for this):
/// a header copy changed by cryptsetup itself is written back phase by phase, and after a cut between
/// any two phases, or in the middle of one, cryptsetup still opens the image with every passphrase the
/// change kept. cryptsetup-bin comes from tests/vm/install-deps.sh, which scripts/test.sh runs first.
/// </summary>
public sealed class HeaderWritePlanCryptsetupTests : IDisposable
{
    private static readonly string[] Cheap = ["--batch-mode", "--pbkdf", "argon2id", "--pbkdf-memory", "32768", "--pbkdf-force-iterations", "4"];

    private readonly TempDir _dir = new();

    private string Key(string passphrase)
    {
        var file = _dir.Combine("key-" + passphrase);
        File.WriteAllText(file, passphrase);
        return file;
    }

    private static int Cryptsetup(params string[] args)
    {
        var start = new ProcessStartInfo("cryptsetup") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("cryptsetup is not installed; tests/vm/install-deps.sh installs it (scripts/test.sh runs it first)", ex);
        }
        using (process)
        {
            process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode;
        }
    }

    private bool Opens(string image, string passphrase) => Cryptsetup("open", "--test-passphrase", "--key-file", Key(passphrase), image) == 0;

    /// <summary>A 20 MiB LUKS2 image with <paramref name="first"/> in slot 0 and the others after it, and a checked copy of its header area.</summary>
    private (string Image, string Checked, long HeaderSize) Volume(string first, params string[] more)
    {
        var image = _dir.Combine("disk.img");
        using (var stream = File.Create(image))
        {
            stream.SetLength(20L * 1024 * 1024);
        }
        Cryptsetup(["luksFormat", .. Cheap, "--type", "luks2", "--key-file", Key(first), image]).Should().Be(0);
        foreach (var passphrase in more)
        {
            Cryptsetup(["luksAddKey", .. Cheap, "--key-file", Key(first), image, Key(passphrase)]).Should().Be(0);
        }
        var copy = _dir.Combine("checked");
        Cryptsetup("luksHeaderBackup", "--header-backup-file", copy, image).Should().Be(0);
        var headerSize = (long)BinaryPrimitives.ReadUInt64BigEndian(File.ReadAllBytes(copy).AsSpan(8, 8));
        return (image, copy, headerSize);
    }

    private string Edit(string checkedCopy)
    {
        var edit = _dir.Combine("edit");
        File.Copy(checkedCopy, edit);
        File.SetUnixFileMode(edit, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return edit;
    }

    /// <summary>A copy of the image after the first <paramref name="phases"/> phases (and, optionally, part of the next range) landed.</summary>
    private string CutAfter(string image, string checkedCopy, string edit, long headerSize, int phases, int tornBytes = 0)
    {
        IReadOnlyList<IReadOnlyList<HeaderRange>> plan;
        using (var a = File.OpenRead(checkedCopy))
        using (var b = File.OpenRead(edit))
        {
            plan = HeaderWritePlan.Of(a, b, headerSize);
        }
        var landed = plan.Take(phases).ToList();
        if (tornBytes > 0)
        {
            landed.Add([plan.Skip(phases).First(p => p.Count > 0)[0] with { Length = tornBytes }]);
        }
        var cut = _dir.Combine($"cut-{phases}-{tornBytes}-{Guid.NewGuid():N}.img");
        File.Copy(image, cut);
        HeaderWritePlan.Apply(cut, edit, landed);
        return cut;
    }

    [Fact]
    public void A_keyslot_added_to_a_header_copy_and_written_back_in_order_never_loses_the_old_passphrase()
    {
        var (image, checkedCopy, headerSize) = Volume("old-pass");
        var edit = Edit(checkedCopy);
        Cryptsetup(["luksAddKey", .. Cheap, "--key-file", Key("old-pass"), edit, Key("new-pass")]).Should().Be(0);

        for (var phases = 0; phases <= 3; phases++)
        {
            Opens(CutAfter(image, checkedCopy, edit, headerSize, phases), "old-pass").Should().BeTrue($"after {phases} phase(s)");
        }
        Opens(CutAfter(image, checkedCopy, edit, headerSize, 1, tornBytes: 2048), "old-pass").Should().BeTrue("with a torn primary copy");
        Opens(CutAfter(image, checkedCopy, edit, headerSize, 2, tornBytes: 2048), "old-pass").Should().BeTrue("with a torn secondary copy");
        var done = CutAfter(image, checkedCopy, edit, headerSize, 3);
        Opens(done, "new-pass").Should().BeTrue("every phase landed");
        File.ReadAllBytes(done).AsSpan(0, (int)new FileInfo(edit).Length).SequenceEqual(File.ReadAllBytes(edit)).Should().BeTrue();
    }

    [Fact]
    public void Keyslots_removed_from_a_header_copy_and_written_back_in_order_never_lose_the_kept_one()
    {
        var (image, checkedCopy, headerSize) = Volume("keep-pass", "stale-1", "stale-2");
        var edit = Edit(checkedCopy);
        Cryptsetup("config", "--priority", "prefer", "--key-slot", "0", edit).Should().Be(0);
        Cryptsetup("luksKillSlot", "--key-file", Key("keep-pass"), edit, "1").Should().Be(0);
        Cryptsetup("luksKillSlot", "--key-file", Key("keep-pass"), edit, "2").Should().Be(0);

        for (var phases = 0; phases <= 3; phases++)
        {
            Opens(CutAfter(image, checkedCopy, edit, headerSize, phases), "keep-pass").Should().BeTrue($"after {phases} phase(s)");
        }
        Opens(CutAfter(image, checkedCopy, edit, headerSize, 1, tornBytes: 2048), "keep-pass").Should().BeTrue("with a torn primary copy");
        var done = CutAfter(image, checkedCopy, edit, headerSize, 3);
        Opens(done, "stale-1").Should().BeFalse();
        Opens(done, "stale-2").Should().BeFalse();
    }

    [Fact]
    public void Revoking_the_old_passphrase_below_the_new_one_leaves_a_working_passphrase_at_every_cut()
    {
        // What revoke_old does after the add committed: the old passphrase in slot 0 (and a copy of it
        // in slot 2), the new one in slot 1; the old slots are killed on a copy, authenticated by the new one.
        var (image, checkedCopy, headerSize) = Volume("old-pass", "new-pass", "old-pass");
        var edit = Edit(checkedCopy);
        Cryptsetup("open", "--test-passphrase", "--key-slot", "2", "--key-file", Key("old-pass"), edit).Should().Be(0, "--key-slot finds the second copy of the old passphrase");
        Cryptsetup("open", "--test-passphrase", "--key-slot", "1", "--key-file", Key("old-pass"), edit).Should().Be(2, "and not the new passphrase's slot");
        Cryptsetup("luksKillSlot", "--key-file", Key("new-pass"), edit, "0").Should().Be(0);
        Cryptsetup("luksKillSlot", "--key-file", Key("new-pass"), edit, "2").Should().Be(0);

        for (var phases = 0; phases <= 3; phases++)
        {
            Opens(CutAfter(image, checkedCopy, edit, headerSize, phases), "new-pass").Should().BeTrue($"after {phases} phase(s)");
        }
        Opens(CutAfter(image, checkedCopy, edit, headerSize, 1, tornBytes: 2048), "new-pass").Should().BeTrue("with a torn primary copy");
        Opens(CutAfter(image, checkedCopy, edit, headerSize, 2, tornBytes: 2048), "new-pass").Should().BeTrue("with a torn secondary copy");
        var done = CutAfter(image, checkedCopy, edit, headerSize, 3);
        Opens(done, "new-pass").Should().BeTrue();
        Opens(done, "old-pass").Should().BeFalse("every phase landed: both old slots are gone");
    }

    public void Dispose() => _dir.Dispose();
}
