using CvmControl.OS;
using CvmControl.Tests.Fakes;
using CvmControl.Volumes;
using CvmControl.Volumes.Luks;

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
        // Read back from the device's bytes, as cryptsetup would read them.
        _disk.Slots.Should().Equal(new Dictionary<int, string> { [0] = "old pass", [1] = "new pass" });
        _h.World.DeviceWrites.Should().Be(1, "one write-back of the changed header");
        var add = _h.World.Calls.Single(c => c.Spec.Arguments[0] == "luksAddKey");
        add.Stdin.Should().Be("old pass");
        add.Spec.Arguments.Should().NotContain(a => a.Contains("pass", StringComparison.Ordinal) && !a.StartsWith('/') && !a.StartsWith("--", StringComparison.Ordinal));
        var test = _h.World.Calls.Single(c => c.Spec.Arguments.Contains("--test-passphrase"));
        test.Stdin.Should().Be("new pass");
        test.Spec.Arguments[^1].Should().Be(add.Spec.Arguments[^2], "the new passphrase is proven on the very copy it was added to");
    }

    [Fact]
    public async Task The_key_is_added_to_a_copy_of_the_checked_header_never_to_the_device()
    {
        await _h.Rotator.AddPassphraseAsync(Target, new Passphrase("old pass"), new Passphrase("new pass"), CancellationToken.None);

        var keys = _h.Root.Combine("run", "keys");
        var changes = _h.World.Argvs("cryptsetup").Where(a => a[0] is "luksAddKey" or "luksKillSlot" or "config" or "token").ToList();
        changes.Should().ContainSingle().Which[^2].Should().StartWith(keys + "/edit-");
        _h.World.Argvs("cryptsetup").Should().NotContain(a => a[0] != "luksHeaderBackup" && a.Contains(_disk.Path));
        Directory.EnumerateFileSystemEntries(keys).Should().BeEmpty("copies and key files are deleted");
    }

    [Fact]
    public async Task A_header_the_host_changes_between_check_and_act_is_refused_and_nothing_is_written()
    {
        // While the key is being added to the copy, the host rewrites one byte of the device's header area.
        _h.World.Override = spec =>
        {
            if (spec.Arguments[0] == "luksAddKey")
            {
                _h.World.HostWrites(_disk, FakeLuksImage.HeaderSize + 4096 + 2000, [0x20]);
            }
            return null;
        };

        var outcome = await _h.Rotator.AddPassphraseAsync(Target, new Passphrase("old pass"), new Passphrase("new pass"), CancellationToken.None);

        outcome.Error.Should().Be(HeaderWriteBack.Changed);
        outcome.Detail.Should().Be($"{_disk.Path}: its header area no longer matches the copy that was checked; nothing was written");
        _h.World.DeviceWrites.Should().Be(0);
        _disk.Slots.Should().Equal(new Dictionary<int, string> { [0] = "old pass" });
    }

    [Fact]
    public async Task A_changed_copy_that_fails_the_policy_is_never_written()
    {
        // The copy comes back from luksAddKey with a null-cipher segment (a compromised tool, or a host
        // that got at the tmpfs): the daemon checks what it is about to write, too.
        _h.World.Override = spec =>
        {
            if (spec.Arguments[0] == "luksAddKey")
            {
                var copy = spec.Arguments[^2];
                var header = FakeLuksImage.Decode(File.ReadAllBytes(copy))!;
                header.SegmentCipher = "cipher_null-ecb";
                File.WriteAllBytes(copy, FakeLuksImage.Encode(header));
            }
            return null;
        };

        var outcome = await _h.Rotator.AddPassphraseAsync(Target, new Passphrase("old pass"), new Passphrase("new pass"), CancellationToken.None);

        outcome.Error.Should().Be("LUKS2 header rejected");
        outcome.Detail.Should().StartWith("the changed header would not pass the policy, so nothing was written: segments.0.encryption");
        _h.World.DeviceWrites.Should().Be(0);
        _disk.SegmentCipher.Should().Be("aes-xts-plain64");
    }

    [Fact]
    public async Task A_new_passphrase_that_does_not_open_the_changed_copy_is_never_written()
    {
        _h.World.Override = spec => spec.Arguments.Contains("--test-passphrase") ? new CvmControl.OS.ProcessResult(2, "", "No key available with this passphrase.", TimeSpan.Zero) : null;

        var outcome = await _h.Rotator.AddPassphraseAsync(Target, new Passphrase("old pass"), new Passphrase("new pass"), CancellationToken.None);

        outcome.Error.Should().Be("new passphrase does not open the volume");
        _h.World.DeviceWrites.Should().Be(0);
        _disk.Slots.Should().HaveCount(1);
    }

    [Fact]
    public async Task A_write_back_that_does_not_read_back_is_reported()
    {
        // The third header copy is the read-back after writing; the host changes the header just before it.
        var backups = 0;
        _h.World.Override = spec =>
        {
            if (spec.Arguments[0] == "luksHeaderBackup" && ++backups == 3)
            {
                _h.World.HostWrites(_disk, FakeLuksImage.HeaderSize + 4096 + 2000, [0x20]);
            }
            return null;
        };

        var outcome = await _h.Rotator.AddPassphraseAsync(Target, new Passphrase("old pass"), new Passphrase("new pass"), CancellationToken.None);

        outcome.Error.Should().Be(HeaderWriteBack.Unverified);
        _disk.Slots.Should().ContainKey(0, "whatever happened, the old keyslot is there");
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

    [Fact]
    public async Task Revoking_kills_exactly_the_slots_the_old_passphrase_opens_and_lists_them()
    {
        _disk.Slots[1] = "new pass";
        _disk.Slots[2] = "someone else";
        _disk.Slots[3] = "old pass";
        var steps = new List<string>();

        var outcome = await _h.Rotator.RevokeAsync(Target, new Passphrase("old pass"), new Passphrase("new pass"), CancellationToken.None, steps.Add);

        outcome.Ok.Should().BeTrue(outcome.Detail);
        outcome.RevokedSlots.Should().Equal(0, 3);
        // Read back from the device's bytes: the new slot and the slot of another passphrase stay.
        _disk.Slots.Should().Equal(new Dictionary<int, string> { [1] = "new pass", [2] = "someone else" });
        _h.World.DeviceWrites.Should().Be(1, "one write-back for all the kills");
        var kills = _h.World.Calls.Where(c => c.Spec.Arguments[0] == "luksKillSlot").ToList();
        kills.Select(k => k.Spec.Arguments[^1]).Should().Equal("0", "3");
        kills.Should().OnlyContain(k => k.Stdin == "new pass", "each kill is authenticated by the passphrase that stays");
        kills.Select(k => k.Spec.Arguments[^2]).Should().OnlyContain(path => path.StartsWith(_h.Root.Combine("run", "keys") + "/edit-", StringComparison.Ordinal), "the kills change a copy, never the device");
        steps.Should().Equal(VolumeStep.Device, VolumeStep.CheckHeader, VolumeStep.TestPassphrase, VolumeStep.LuksKillSlot, VolumeStep.WriteHeader);
    }

    [Fact]
    public async Task Revoking_before_the_new_passphrase_opens_the_volume_removes_nothing()
    {
        var outcome = await _h.Rotator.RevokeAsync(Target, new Passphrase("old pass"), new Passphrase("new pass"), CancellationToken.None);

        outcome.Error.Should().Be("new passphrase does not open the volume");
        outcome.RevokedSlots.Should().BeNull();
        _disk.Slots.Should().Equal(new Dictionary<int, string> { [0] = "old pass" }, "never the last slot");
        _h.World.Argvs("cryptsetup").Should().NotContain(a => a[0] == "luksKillSlot");
        _h.World.DeviceWrites.Should().Be(0);
    }

    [Fact]
    public async Task Revoking_when_the_old_passphrase_opens_no_slot_any_more_writes_nothing()
    {
        _disk.Slots.Remove(0);
        _disk.Slots[1] = "new pass";

        var outcome = await _h.Rotator.RevokeAsync(Target, new Passphrase("old pass"), new Passphrase("new pass"), CancellationToken.None);

        outcome.Ok.Should().BeTrue();
        outcome.RevokedSlots.Should().BeEmpty();
        _h.World.DeviceWrites.Should().Be(0);
        _disk.Slots.Should().Equal(new Dictionary<int, string> { [1] = "new pass" });
    }

    [Fact]
    public async Task Revoking_a_passphrase_that_is_also_the_new_one_kills_nothing()
    {
        var outcome = await _h.Rotator.RevokeAsync(Target, new Passphrase("old pass"), new Passphrase("old pass"), CancellationToken.None);

        outcome.Ok.Should().BeTrue();
        outcome.RevokedSlots.Should().BeEmpty();
        _h.World.Argvs("cryptsetup").Should().BeEmpty();
        _disk.Slots.Should().ContainKey(0);
    }

    [Fact]
    public async Task A_header_the_host_changes_during_the_revocation_is_refused_and_both_passphrases_still_open()
    {
        _disk.Slots[1] = "new pass";
        _h.World.Override = spec =>
        {
            if (spec.Arguments[0] == "luksKillSlot")
            {
                _h.World.HostWrites(_disk, FakeLuksImage.HeaderSize + 4096 + 2000, [0x20]);
            }
            return null;
        };

        var outcome = await _h.Rotator.RevokeAsync(Target, new Passphrase("old pass"), new Passphrase("new pass"), CancellationToken.None);

        outcome.Error.Should().Be(HeaderWriteBack.Changed);
        outcome.RevokedSlots.Should().BeNull();
        _h.World.DeviceWrites.Should().Be(0);
        _disk.Slots.Should().Equal(new Dictionary<int, string> { [0] = "old pass", [1] = "new pass" });
    }

    [Fact]
    public async Task A_revoking_rotation_copies_the_device_header_once_and_revokes_on_the_copy_it_wrote_back()
    {
        var steps = new List<string>();

        var outcome = await _h.Rotator.RotateAsync(Target, new Passphrase("old pass"), new Passphrase("new pass"), revokeOld: true, CancellationToken.None, steps.Add);

        outcome.Ok.Should().BeTrue(outcome.Detail);
        outcome.RevokedSlots.Should().Equal(0);
        _disk.Slots.Should().Equal(new Dictionary<int, string> { [1] = "new pass" });
        _h.World.DeviceWrites.Should().Be(2, "the add and the revocation are two write-backs");
        // One copy to check, and the write-backs' own copies: the device before and after each write.
        _h.World.Argvs("cryptsetup").Count(a => a[0] == "luksHeaderBackup").Should().Be(1 + 2 + 2);
        var tests = _h.World.Calls.Where(c => c.Spec.Arguments.Contains("--test-passphrase")).ToList();
        tests.Select(c => c.Stdin).Should().Equal(["new pass", "new pass", "old pass"],
            "the new passphrase is tried on the checked copy, then proven on the changed one; its slot is then known, so only the old passphrase's slots are tried");
        var add = _h.World.Calls.Single(c => c.Spec.Arguments[0] == "luksAddKey").Spec.Arguments;
        var kill = _h.World.Calls.Single(c => c.Spec.Arguments[0] == "luksKillSlot").Spec.Arguments;
        tests[2].Spec.Arguments[^1].Should().Be(add[^2], "the revocation reads the copy the key was added to, which the device was verified to hold");
        kill[^2].Should().StartWith(_h.Root.Combine("run", "keys") + "/edit-").And.NotBe(add[^2], "the kills change a new private copy of it");
        steps.Should().Equal(VolumeStep.Device, VolumeStep.CheckHeader, VolumeStep.TestPassphrase, VolumeStep.LuksAddKey, VolumeStep.TestPassphrase,
            VolumeStep.WriteHeader, VolumeStep.LuksKillSlot, VolumeStep.WriteHeader);
        Directory.EnumerateFileSystemEntries(_h.Root.Combine("run", "keys")).Should().BeEmpty("copies are deleted");
    }

    [Fact]
    public async Task A_rotation_whose_new_passphrase_already_opens_skips_the_add_and_only_revokes()
    {
        _disk.Slots[1] = "new pass";

        var outcome = await _h.Rotator.RotateAsync(Target, new Passphrase("old pass"), new Passphrase("new pass"), revokeOld: true, CancellationToken.None);

        outcome.RevokedSlots.Should().Equal(0);
        _h.World.Argvs("cryptsetup").Should().NotContain(a => a[0] == "luksAddKey");
        _h.World.DeviceWrites.Should().Be(1);
        _disk.Slots.Should().Equal(new Dictionary<int, string> { [1] = "new pass" });
    }

    [Fact]
    public async Task A_rotation_that_keeps_the_old_passphrase_writes_once_and_leaves_both()
    {
        var outcome = await _h.Rotator.RotateAsync(Target, new Passphrase("old pass"), new Passphrase("new pass"), revokeOld: false, CancellationToken.None);

        outcome.Should().Be(VolumeOutcome.Success);
        _h.World.DeviceWrites.Should().Be(1);
        _disk.Slots.Should().Equal(new Dictionary<int, string> { [0] = "old pass", [1] = "new pass" });
        _h.World.Argvs("cryptsetup").Should().NotContain(a => a[0] == "luksKillSlot");
    }

    [Fact]
    public async Task A_header_the_host_changes_after_the_add_is_written_refuses_the_revocation_and_keeps_both_passphrases()
    {
        _h.World.Override = spec =>
        {
            if (spec.Arguments[0] == "luksKillSlot")
            {
                _h.World.HostWrites(_disk, FakeLuksImage.HeaderSize + 4096 + 2000, [0x20]);
            }
            return null;
        };

        var outcome = await _h.Rotator.RotateAsync(Target, new Passphrase("old pass"), new Passphrase("new pass"), revokeOld: true, CancellationToken.None);

        outcome.Error.Should().Be(HeaderWriteBack.Changed);
        _h.World.DeviceWrites.Should().Be(1, "the add was written; the revocation was not");
        _disk.Slots.Should().Equal(new Dictionary<int, string> { [0] = "old pass", [1] = "new pass" });
    }

    [Fact]
    public async Task A_stop_after_the_add_is_written_reports_that_both_passphrases_open()
    {
        using var stopping = new CancellationTokenSource();
        _h.World.Override = spec =>
        {
            if (spec.Arguments[0] == "luksAddKey")
            {
                stopping.Cancel();
            }
            return null;
        };

        var outcome = await _h.Rotator.RotateAsync(Target, new Passphrase("old pass"), new Passphrase("new pass"), revokeOld: true, stopping.Token);

        outcome.Error.Should().Be("interrupted");
        outcome.Detail.Should().Contain("both passphrases open the volume");
        _disk.Slots.Should().Equal(new Dictionary<int, string> { [0] = "old pass", [1] = "new pass" });
        _h.World.Argvs("cryptsetup").Should().NotContain(a => a[0] == "luksKillSlot");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_rotation_to_the_same_passphrase_changes_nothing(bool revokeOld)
    {
        var outcome = await _h.Rotator.RotateAsync(Target, new Passphrase("old pass"), new Passphrase("old pass"), revokeOld, CancellationToken.None);

        outcome.Ok.Should().BeTrue();
        outcome.RevokedSlots.Should().BeEquivalentTo(revokeOld ? Array.Empty<int>() : null);
        _h.World.Argvs("cryptsetup").Should().BeEmpty();
        _disk.Slots.Should().Equal(new Dictionary<int, string> { [0] = "old pass" });
    }

    public void Dispose() => _h.Dispose();
}
