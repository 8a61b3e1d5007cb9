using CvmControl.OS;
using CvmControl.Volumes;

namespace CvmControl.Tests.Volumes;

public sealed class LuksPassphraseRotatorTests : IDisposable
{
    private readonly PipelineHarness _h = new();
    private readonly Fakes.FakeDiskWorld.Disk _disk;

    public LuksPassphraseRotatorTests()
    {
        var disk = _h.Attach("vol-0aaa111", "nvme1n1");
        disk.IsLuks = true;
        disk.Slots[0] = "old pass";
        _disk = disk;
    }

    private VolumeTarget Target => _h.Target("data", "vol-0aaa111");

    [Fact]
    public async Task Check_tells_whether_a_passphrase_opens_the_volume()
    {
        (await _h.Rotator.CheckAsync(Target, new Passphrase("old pass"), CancellationToken.None)).Should().Be(PassphraseCheck.Opens);
        (await _h.Rotator.CheckAsync(Target, new Passphrase("wrong"), CancellationToken.None)).Should().Be(PassphraseCheck.DoesNotOpen);
    }

    [Fact]
    public async Task Adding_keeps_the_old_slot_and_proves_the_new_one_opens()
    {
        var outcome = await _h.Rotator.AddPassphraseAsync(Target, new Passphrase("old pass"), new Passphrase("new pass"), CancellationToken.None);

        outcome.Should().Be(VolumeOutcome.Success);
        _disk.Slots.Should().Equal(new Dictionary<int, string> { [0] = "old pass", [1] = "new pass" });
        var add = _h.World.Calls.Single(c => c.Spec.Arguments[0] == "luksAddKey");
        add.Stdin.Should().Be("old pass");
        add.Spec.Arguments.Should().NotContain(a => a.Contains("pass", StringComparison.Ordinal) && !a.StartsWith('/') && !a.StartsWith("--", StringComparison.Ordinal));
        _h.World.Calls.Last().Spec.Arguments.Should().Contain("--test-passphrase");
        _h.World.Calls.Last().Stdin.Should().Be("new pass");
    }

    [Fact]
    public async Task The_new_key_file_is_0600_on_tmpfs_and_gone_afterwards()
    {
        UnixFileMode? modeSeen = null;
        _h.World.Override = spec =>
        {
            if (spec.Arguments[0] == "luksAddKey")
            {
                modeSeen = File.GetUnixFileMode(spec.Arguments[^1]);
            }
            return null;
        };

        await _h.Rotator.AddPassphraseAsync(Target, new Passphrase("old pass"), new Passphrase("new pass"), CancellationToken.None);

        modeSeen.Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Directory.EnumerateFiles(_h.Root.Combine("run", "keys")).Should().BeEmpty();
    }

    [Fact]
    public async Task Refuses_to_write_a_key_file_outside_tmpfs()
    {
        _h.Mounts.RootFileSystem = "ext4";

        var outcome = await _h.Rotator.AddPassphraseAsync(Target, new Passphrase("old pass"), new Passphrase("new pass"), CancellationToken.None);

        outcome.Error.Should().Be("refusing to write a key file");
        outcome.Detail.Should().Contain("not tmpfs");
        _disk.Slots.Should().HaveCount(1);
    }

    [Fact]
    public async Task A_forged_header_gets_no_new_keyslot()
    {
        _disk.SegmentCipher = "cipher_null-ecb";

        var outcome = await _h.Rotator.AddPassphraseAsync(Target, new Passphrase("old pass"), new Passphrase("new pass"), CancellationToken.None);

        outcome.Error.Should().Be("LUKS2 header rejected");
        _disk.Slots.Should().HaveCount(1);
        _h.World.Argvs("cryptsetup").Should().NotContain(a => a[0] == "luksAddKey");
    }

    [Fact]
    public async Task A_failed_add_reports_cryptsetups_words_and_leaves_no_key_file()
    {
        _h.World.Override = spec => spec.Arguments[0] == "luksAddKey" ? new CvmControl.OS.ProcessResult(1, "", "No space for new keyslot.", TimeSpan.Zero) : null;

        var outcome = await _h.Rotator.AddPassphraseAsync(Target, new Passphrase("old pass"), new Passphrase("new pass"), CancellationToken.None);

        outcome.Should().Be(VolumeOutcome.Failure("luksAddKey failed", "No space for new keyslot. (exit code 1)"));
        Directory.EnumerateFiles(_h.Root.Combine("run", "keys")).Should().BeEmpty();
    }

    public void Dispose() => _h.Dispose();
}
