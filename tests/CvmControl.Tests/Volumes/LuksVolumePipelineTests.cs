using CvmControl.OS;
using CvmControl.Tests.Fakes;
using CvmControl.Tests.Metrics;
using CvmControl.Tools;
using CvmControl.Volumes;
using CvmControl.Volumes.Luks;

namespace CvmControl.Tests.Volumes;

public sealed class LuksVolumePipelineTests : IDisposable
{
    private readonly TestMetrics _metrics = new();
    private readonly PipelineHarness _h;
    private static readonly Passphrase Pass = new("correct horse\nbattery");

    public LuksVolumePipelineTests()
    {
        _h = new PipelineHarness(metrics: _metrics.Metrics);
    }

    /// <summary>vol-0aaa111 as nvme1n1, already LUKS with the given slots (and, optionally, a filesystem inside).</summary>
    private FakeDiskWorld.Disk ExistingLuks(IReadOnlyDictionary<int, string> slots, string? fileSystem = "ext4")
    {
        var disk = _h.Attach("vol-0aaa111", "nvme1n1");
        disk.IsLuks = true;
        foreach (var (slot, passphrase) in slots)
        {
            disk.Slots[slot] = passphrase;
        }
        disk.FileSystem = fileSystem;
        return disk;
    }

    [Fact]
    public async Task Blank_device_is_formatted_opened_made_ext4_and_mounted()
    {
        var disk = _h.Attach("vol-0aaa111", "nvme1n1");
        var target = _h.Target("data", "vol-0aaa111");

        var outcome = await _h.Pipeline.BootstrapAsync(target, Pass, CancellationToken.None);

        outcome.Should().Be(VolumeOutcome.Success);
        disk.IsLuks.Should().BeTrue();
        disk.FileSystem.Should().Be("ext4");
        _h.Mounts.Find(target.MountPoint)!.Source.Should().Be(_h.Mapper("data"));
        File.GetUnixFileMode(target.MountPoint).Should().Be((UnixFileMode)0b111_101_101);
        var format = _h.World.Argvs("cryptsetup").Single(a => a[0] == "luksFormat");
        format.Should().ContainInOrder("--type", "luks2").And.ContainInOrder("--cipher", "aes-xts-plain64").And.ContainInOrder("--pbkdf", "argon2id")
            .And.ContainInOrder("--pbkdf-memory", "32768").And.ContainInOrder("--iter-time", "100").And.Contain("--key-file=-");
    }

    [Fact]
    public async Task A_provably_blank_device_is_probed_by_blkid_but_not_asked_isLuks()
    {
        var disk = _h.Attach("vol-0aaa111", "nvme1n1");

        (await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None)).Ok.Should().BeTrue();

        _h.World.Argvs("cryptsetup").Should().NotContain(a => a[0] == "isLuks");
        _h.World.Argvs("blkid").Should().Contain(a => a.Contains(disk.Path));
    }

    [Fact]
    public async Task A_device_that_cannot_be_read_is_a_per_volume_error_and_nothing_runs_on_it()
    {
        var disk = _h.Attach("vol-0aaa111", "nvme1n1");
        File.Delete(disk.Path);
        Directory.CreateDirectory(disk.Path);

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Error.Should().Be("cannot read the device");
        outcome.Detail.Should().StartWith(disk.Path + ": ").And.EndWith("; nothing was changed");
        _h.World.Argvs("cryptsetup").Should().BeEmpty();
        _h.World.Argvs("blkid").Should().BeEmpty();
    }

    [Fact]
    public async Task A_device_with_data_in_its_first_block_is_asked_isLuks_before_any_blkid_probe()
    {
        var disk = _h.Attach("vol-0aaa111", "nvme1n1");
        disk.Signature = "TYPE=\"xfs\"";
        using (var stream = new FileStream(disk.Path, FileMode.Open, FileAccess.Write))
        {
            stream.Write("XFSB"u8);
        }

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Error.Should().Be(LuksVolumePipeline.NotBlank);
        _h.World.Calls.Select(c => c.Spec.Executable + " " + c.Spec.Arguments[0]).Should().Equal("cryptsetup isLuks", "blkid -p");
    }

    [Fact]
    public async Task A_LUKS_device_is_asked_isLuks_and_never_probed_for_other_signatures()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value });

        (await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None)).Ok.Should().BeTrue();

        _h.World.Argvs("cryptsetup").Should().Contain(a => a[0] == "isLuks" && a.Contains(disk.Path));
        _h.World.Argvs("blkid").Should().NotContain(a => a.Contains(disk.Path));
    }

    [Fact]
    public async Task A_mapping_this_run_formatted_is_made_ext4_without_probing_it_first()
    {
        _h.Attach("vol-0aaa111", "nvme1n1");

        (await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None)).Ok.Should().BeTrue();

        _h.World.Argvs("blkid").Should().NotContain(a => a.Contains(_h.Mapper("data")));
        _h.World.Argvs("mkfs.ext4").Should().ContainSingle(a => a.Contains(_h.Mapper("data")));
    }

    [Fact]
    public async Task A_mapping_opened_from_an_existing_header_is_probed_before_anything_is_made_on_it()
    {
        ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value });

        (await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None)).Ok.Should().BeTrue();

        _h.World.Argvs("blkid").Should().Contain(a => a.Contains(_h.Mapper("data")));
    }

    [Fact]
    public async Task A_blank_device_reports_its_steps_in_order()
    {
        _h.Attach("vol-0aaa111", "nvme1n1");
        var steps = new List<string>();

        (await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None, steps.Add)).Ok.Should().BeTrue();

        steps.Should().Equal(VolumeStep.Device, VolumeStep.LuksFormat, VolumeStep.CheckHeader, VolumeStep.WriteHeader, VolumeStep.LuksOpen, VolumeStep.Mkfs, VolumeStep.Mount);
    }

    [Fact]
    public async Task An_existing_volume_reports_its_cleanup_check_and_grow_steps()
    {
        ExistingLuks(new Dictionary<int, string> { [0] = "correct horse\nbattery", [1] = "stale" });
        var steps = new List<string>();

        (await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None, steps.Add)).Ok.Should().BeTrue();

        steps.Should().Equal(VolumeStep.Device, VolumeStep.CheckHeader, VolumeStep.LuksOpen, VolumeStep.LuksKillSlot, VolumeStep.Fsck, VolumeStep.Resize, VolumeStep.Mount);
    }

    [Fact]
    public async Task Passphrases_reach_cryptsetup_only_on_stdin_exactly_without_a_newline_added()
    {
        _h.Attach("vol-0aaa111", "nvme1n1");

        await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        var withKey = _h.World.Calls.Where(c => c.Spec.Arguments.Contains("--key-file=-")).ToList();
        withKey.Should().NotBeEmpty().And.OnlyContain(c => c.Stdin == "correct horse\nbattery");
        _h.World.Calls.Except(withKey).Should().OnlyContain(c => !c.Stdin.Contains("correct horse", StringComparison.Ordinal));
        _h.World.Calls.Should().OnlyContain(c => !c.Spec.Arguments.Any(arg => arg.Contains("correct horse", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Device_with_a_foreign_signature_is_refused_and_never_formatted()
    {
        var disk = _h.Attach("vol-0aaa111", "nvme1n1");
        disk.Signature = "UUID=\"1234\" TYPE=\"xfs\"";

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Ok.Should().BeFalse();
        outcome.Error.Should().Be("device is not blank; refusing to format");
        outcome.Detail.Should().Contain("TYPE=\"xfs\"");
        _h.World.Argvs("cryptsetup").Should().NotContain(a => a[0] == "luksFormat");
        disk.IsLuks.Should().BeFalse();
    }

    [Fact]
    public async Task A_fresh_volume_is_formatted_into_a_tmpfs_header_file_marked_checked_written_to_the_disk_and_opened_through_that_file()
    {
        var disk = _h.Attach("vol-0aaa111", "nvme1n1");

        (await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None)).Ok.Should().BeTrue();

        var cryptsetup = _h.World.Argvs("cryptsetup").ToList();
        var format = cryptsetup.Single(a => a[0] == "luksFormat");
        var header = format[format.ToList().IndexOf("--header") + 1];
        header.Should().StartWith(_h.Root.Combine("run", "keys") + "/");
        format[^1].Should().Be(disk.Path, "the data device, which luksFormat does not write");
        format.Should().ContainInOrder("--offset", "32768").And.ContainInOrder("--keyslot-cipher", "aes-xts-plain64").And.ContainInOrder("--keyslot-key-size", "512");
        // Marked and checked in the file, opened through it: the device's header is never read back.
        cryptsetup.Select(a => a[0] + " " + a[^1]).Should().ContainInOrder($"token {header}", $"luksDump {header}");
        cryptsetup.Should().NotContain(a => a[0] == "luksHeaderBackup" || a[0] == "isLuks" || (a[0] == "luksDump" && a[a.Length - 1] == disk.Path));
        var open = cryptsetup.Single(a => a[0] == "open");
        open.Should().ContainInOrder("--header", header).And.EndWith([disk.Path, "data"]);
        File.Exists(header).Should().BeFalse("the header file is deleted once the volume is open");
        disk.IsLuks.Should().BeTrue("the checked header was written over the disk's first 16 MiB");
        disk.Marker.Should().BeTrue();
        disk.DataOffset.Should().Be(16 * 1024 * 1024);
        disk.Slots.Should().Equal(new Dictionary<int, string> { [0] = Pass.Value });
    }

    [Fact]
    public async Task A_blank_device_no_larger_than_the_header_area_is_refused_before_any_format()
    {
        var disk = _h.Attach("vol-0aaa111", "nvme1n1");
        using (var stream = new FileStream(disk.Path, FileMode.Open, FileAccess.Write))
        {
            stream.SetLength(16 * 1024 * 1024);
        }

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Error.Should().Be("device too small");
        outcome.Detail.Should().Be($"{disk.Path} has 16777216 bytes; a LUKS2 volume needs more than its 16777216-byte header area. Nothing was written");
        _h.World.Argvs("cryptsetup").Should().NotContain(a => a[0] == "luksFormat");
        File.ReadAllBytes(disk.Path).AsSpan().ContainsAnyExcept((byte)0).Should().BeFalse();
    }

    [Fact]
    public async Task A_fresh_volume_whose_new_header_fails_the_check_is_not_written_to_the_disk()
    {
        var disk = _h.Attach("vol-0aaa111", "nvme1n1");
        _h.World.Override = spec =>
        {
            // luksDump of the new file: as if cryptsetup had made a header the policy does not accept.
            if (spec.Arguments[0] == "luksDump")
            {
                var file = spec.Arguments[^1];
                var state = FakeLuksImage.Decode(File.ReadAllBytes(file))!;
                state.SegmentCipher = "cipher_null-ecb";
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Write);
                stream.Write(FakeLuksImage.Encode(state));
            }
            return null;
        };

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Error.Should().Be("LUKS2 header rejected");
        outcome.Detail.Should().StartWith("the header just formatted for " + disk.Path);
        File.ReadAllBytes(disk.Path).AsSpan(0, 16 * 1024 * 1024).ContainsAnyExcept((byte)0).Should().BeFalse("nothing was written to the disk");
        _h.World.Argvs("cryptsetup").Should().NotContain(a => a[0] == "open");
        Directory.EnumerateFiles(_h.Root.Combine("run", "keys")).Should().BeEmpty("the header file is deleted");
    }

    [Fact]
    public async Task A_forged_cipher_null_segment_is_rejected_and_never_opened()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value }, fileSystem: null);
        disk.SegmentCipher = "cipher_null-ecb";

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Error.Should().Be("LUKS2 header rejected");
        outcome.Detail.Should().EndWith("segments.0.encryption is \"cipher_null-ecb\"; only aes-xts-plain64 is allowed");
        _h.World.Argvs("cryptsetup").Should().NotContain(a => a[0] == "open" || a[0] == "luksKillSlot");
        Directory.EnumerateFiles(_h.Root.Combine("run", "keys")).Should().BeEmpty();
    }

    [Fact]
    public async Task A_non_luks_device_holding_data_past_its_header_is_refused_and_untouched()
    {
        var disk = _h.Attach("vol-0aaa111", "nvme1n1");
        var device = _h.Root.Combine("dev", "nvme1n1");
        using (var stream = new FileStream(device, FileMode.Open, FileAccess.Write))
        {
            // A wiped header: zeros up to 16 MiB, the old ciphertext everywhere after it.
            var noise = new byte[1024 * 1024];
            Random.Shared.NextBytes(noise);
            for (stream.Position = 16L * 1024 * 1024; stream.Position < stream.Length;)
            {
                stream.Write(noise);
            }
        }

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Error.Should().Be("device is not blank; refusing to format");
        outcome.Detail.Should().Contain("non-zero bytes at offset");
        _h.World.Argvs("cryptsetup").Should().NotContain(a => a[0] == "luksFormat");
        disk.IsLuks.Should().BeFalse();
    }

    [Fact]
    public async Task Existing_luks_volume_keeps_its_filesystem_through_fsck_and_resize()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value });

        (await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None)).Ok.Should().BeTrue();

        var tools = _h.World.Calls.Select(c => c.Spec.Executable).ToList();
        tools.Should().NotContain("mkfs.ext4");
        tools.IndexOf("e2fsck").Should().BeLessThan(tools.IndexOf("resize2fs"));
        _h.World.Argvs("e2fsck").Single().Should().Equal("-f", "-y", _h.Mapper("data"));
        _h.World.Argvs("cryptsetup").Should().NotContain(a => a[0] == "luksFormat");
    }

    [Fact]
    public async Task Stale_keyslots_are_removed_with_authentication_and_the_opening_slot_is_kept()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = "someone else's", [1] = Pass.Value, [2] = "stale 2", [5] = "stale 5" });

        (await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None)).Ok.Should().BeTrue();

        disk.Slots.Keys.Should().Equal(1);
        disk.Preferred.Should().Be(1);
        var kills = _h.World.Calls.Where(c => c.Spec.Arguments[0] == "luksKillSlot").ToList();
        kills.Select(k => k.Spec.Arguments[^1]).Should().Equal("0", "2", "5");
        kills.Should().OnlyContain(k => k.Stdin == Pass.Value, "an empty stdin would remove slots unauthenticated");
        kills.Select(k => k.Spec.Arguments[^2]).Distinct().Should().ContainSingle().Which.Should().StartWith(_h.Root.Combine("run", "keys", "edit-"),
            "the kills change a copy of the checked header, never the device");
        _h.World.DeviceWrites.Should().Be(1, "one verified write-back");
    }

    [Fact]
    public async Task A_header_the_host_changes_during_cleanup_is_left_alone_and_the_volume_is_ok_with_a_warning()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value, [1] = "stale 1", [2] = "stale 2" });
        _h.World.Override = spec =>
        {
            if (spec.Arguments[0] == "luksKillSlot" && spec.Arguments[^1] == "2")
            {
                _h.World.HostWrites(disk, FakeLuksImage.HeaderSize + 4096 + 2000, [0x20]);
            }
            return null;
        };

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Ok.Should().BeTrue();
        outcome.Warnings.Should().Equal(
            $"stale key slots 1, 2 were not removed: {HeaderWriteBack.Changed}: {disk.Path}: its header area no longer matches the copy that was checked; nothing was written");
        _h.World.DeviceWrites.Should().Be(0);
        disk.Slots.Keys.Should().Equal(0, 1, 2);
        _h.Mounts.Find(_h.Target("data", "vol-0aaa111").MountPoint).Should().NotBeNull("the volume is still set up");
    }

    [Fact]
    public async Task Reopening_with_three_stale_slots_costs_one_kdf_run_per_removed_slot_plus_the_open()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value, [1] = "stale 1", [2] = "stale 2", [3] = "stale 3" });

        (await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None)).Ok.Should().BeTrue();

        // The open hits slot 0 first; each kill's authentication tries the other slots in numeric
        // order and so hits slot 0 first as well.
        _h.World.KdfRuns.Should().Be(1 + 3);
    }

    [Fact]
    public async Task Stale_slots_below_the_bootstrap_slot_cost_more_because_kills_ignore_priority()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = "stale 0", [1] = "stale 1", [2] = Pass.Value, [3] = "stale 3" });

        (await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None)).Ok.Should().BeTrue();

        // open: 3 (slots 0, 1, 2); kill 0: 2 (1, 2); kill 1: 1 (2); kill 3: 1 (2). Killing the low
        // slots first is the cheapest order; b slots below cost b(b+1)/2 whatever the order.
        _h.World.KdfRuns.Should().Be(3 + 2 + 1 + 1);
        disk.Slots.Keys.Should().Equal(2);
        disk.Preferred.Should().Be(2, "later opens then try the bootstrap slot first");
    }

    [Fact]
    public async Task A_header_copy_shorter_than_a_binary_header_fails_the_volume_with_cryptsetups_answer_and_is_never_opened()
    {
        ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value });
        _h.World.Override = spec =>
        {
            if (spec.Arguments[0] == "luksHeaderBackup")
            {
                // A truncated copy: the LUKS2 magic and version, and nothing else.
                File.WriteAllBytes(spec.Arguments[2], [.. "LUKS\xba\xbe"u8, 0, 2]);
                return new CvmControl.OS.ProcessResult(0, "", "", TimeSpan.Zero);
            }
            return null;
        };

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        // The short read itself is no error: what the copy holds goes to luksDump, which refuses it.
        outcome.Error.Should().Be("luksDump failed");
        _h.World.Argvs("cryptsetup").Should().NotContain(a => a[0] == "open");
    }

    [Fact]
    public async Task A_failed_slot_removal_keeps_the_volume_ok_and_reports_the_surviving_slot_as_a_warning()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value, [1] = "stale", [2] = "stale too" }, fileSystem: null);
        _h.World.Override = spec => spec.Arguments[0] == "luksKillSlot" && spec.Arguments[^1] == "1"
            ? new CvmControl.OS.ProcessResult(5, "", "Device busy.", TimeSpan.Zero)
            : null;

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Ok.Should().BeTrue();
        outcome.Warnings.Should().Equal("stale key slot 1 was not removed: luksKillSlot failed: Device busy. (exit code 5)");
        disk.Slots.Keys.Should().Equal(0, 1);
    }

    [Fact]
    public async Task A_clean_reopen_has_no_warnings()
    {
        ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value, [1] = "stale" });

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Should().Be(VolumeOutcome.Success);
        outcome.Warnings.Should().BeEmpty();
    }

    [Fact]
    public async Task Wrong_passphrase_for_an_existing_volume_fails_with_cryptsetups_words()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = "the real one" }, fileSystem: null);

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Should().Be(VolumeOutcome.Failure("luksOpen failed", "No key available with this passphrase. (exit code 2)"));
        disk.Slots.Should().ContainKey(0);
    }

    /// <summary>vol-0aaa111 as LUKS with <see cref="Pass"/> in slot 0, open as "data" and, optionally, mounted from that mapping.</summary>
    private (FakeDiskWorld.Disk Disk, VolumeTarget Target) AlreadyOpen(bool mounted)
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value });
        var target = _h.Target("data", "vol-0aaa111");
        var mapper = _h.World.Map("data", disk);
        if (mounted)
        {
            _h.Mounts.Mount(target.MountPoint, mapper, _h.Blocks.NumberOf(mapper));
        }
        return (disk, target);
    }

    /// <summary>The calls a proof of an existing mapping makes: copy and check the header, test the passphrase on the copy.</summary>
    private static readonly string[] ProofOnly = ["luksHeaderBackup", "luksDump", "open"];

    [Fact]
    public async Task Already_mounted_from_its_mapping_is_ok_once_the_passphrase_opens_its_header_and_nothing_changes()
    {
        var (_, target) = AlreadyOpen(mounted: true);

        (await _h.Pipeline.BootstrapAsync(target, Pass, CancellationToken.None)).Should().Be(VolumeOutcome.Success);

        _h.World.Calls.Select(c => c.Spec.Executable).Should().OnlyContain(tool => tool == "cryptsetup");
        _h.World.Argvs("cryptsetup").Select(a => a[0]).Should().Equal(ProofOnly);
        _h.World.Argvs("cryptsetup").Last().Should().Contain("--test-passphrase");
        _h.World.DeviceWrites.Should().Be(0);
    }

    [Fact]
    public async Task Already_mounted_with_a_wrong_passphrase_is_an_error_that_changes_nothing()
    {
        var (disk, target) = AlreadyOpen(mounted: true);

        var outcome = await _h.Pipeline.BootstrapAsync(target, new Passphrase("not the owner"), CancellationToken.None);

        outcome.Error.Should().Be(MappingProof.WrongPassphrase);
        outcome.Detail.Should().Be($"{_h.Mapper("data")} is already open, and the passphrase opens no keyslot of the LUKS2 header of {disk.Path}");
        _h.World.Argvs("cryptsetup").Select(a => a[0]).Should().Equal(ProofOnly);
        _h.Mounts.Find(target.MountPoint).Should().NotBeNull("the mount is left as it was");
        _h.World.DeviceWrites.Should().Be(0);
    }

    [Fact]
    public async Task Open_mapping_with_a_wrong_passphrase_is_an_error_that_runs_no_filesystem_tool()
    {
        var (_, target) = AlreadyOpen(mounted: false);

        var outcome = await _h.Pipeline.BootstrapAsync(target, new Passphrase("not the owner"), CancellationToken.None);

        outcome.Error.Should().Be(MappingProof.WrongPassphrase);
        _h.World.Calls.Select(c => c.Spec.Executable).Should().OnlyContain(tool => tool == "cryptsetup");
        _h.Mounts.Find(target.MountPoint).Should().BeNull();
    }

    [Fact]
    public async Task Open_mapping_is_proven_then_goes_to_the_filesystem()
    {
        var (disk, target) = AlreadyOpen(mounted: false);
        disk.FileSystem = "ext4";

        (await _h.Pipeline.BootstrapAsync(target, Pass, CancellationToken.None)).Ok.Should().BeTrue();

        _h.World.Argvs("cryptsetup").Select(a => a[0]).Should().Equal(ProofOnly, "no format, no open, no keyslot change");
        _h.World.Argvs("e2fsck").Should().ContainSingle();
        _h.Mounts.Find(target.MountPoint)!.Device.Should().Be(_h.Blocks.NumberOf(_h.Mapper("data")));
    }

    [Fact]
    public async Task A_mapping_of_another_device_under_this_dm_name_is_refused_before_any_kdf()
    {
        ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value });
        var other = _h.Attach("vol-0bbb222", "nvme2n1");
        other.IsLuks = true;
        other.Slots[0] = Pass.Value;
        _h.World.Map("data", other);
        var target = _h.Target("data", "vol-0aaa111");

        var outcome = await _h.Pipeline.BootstrapAsync(target, Pass, CancellationToken.None);

        outcome.Error.Should().Be(MappingProof.NotThisVolume);
        outcome.Detail.Should().Be($"{_h.Mapper("data")} sits on {other.Number}, but volume vol-0aaa111 is {_h.Root.Combine("dev", "nvme1n1")} (259:0)");
        _h.World.KdfRuns.Should().Be(0);
        _h.World.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task A_mapping_whose_uuid_is_not_the_headers_is_refused()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value });
        _h.World.Map("data", disk, uuid: MappingProof.DmUuidOf("11111111-2222-4333-8444-555555555555", "data"));

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Error.Should().Be(MappingProof.NotThisVolume);
        outcome.Detail.Should().Contain("CRYPT-LUKS2-11111111222243338444555555555555-data").And.Contain(MappingProof.DmUuidOf(disk.Uuid, "data"));
        _h.World.KdfRuns.Should().Be(0, "the passphrase is not tried on a mapping that is not this header's");
    }

    [Fact]
    public async Task A_mapper_path_that_is_not_a_block_device_is_refused()
    {
        ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value });
        File.WriteAllText(_h.Mapper("data"), "planted");

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Should().Be(VolumeOutcome.Failure(MappingProof.NotThisVolume, $"{_h.Mapper("data")} is not a block device"));
    }

    [Fact]
    public async Task A_mapper_node_of_another_mapping_is_refused()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value });
        var other = _h.World.Map("other", disk);
        File.Copy(other, _h.Mapper("data"));
        _h.Blocks.Nodes[_h.Mapper("data")] = _h.Blocks.NumberOf(other)!.Value;

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Error.Should().Be(MappingProof.NotThisVolume);
        outcome.Detail.Should().EndWith("is the mapping \"other\"");
    }

    [Fact]
    public async Task A_mount_that_is_not_on_the_mapping_is_refused_even_when_its_source_reads_right()
    {
        var (_, target) = AlreadyOpen(mounted: false);
        _h.Mounts.Mount(target.MountPoint, _h.Mapper("data"), new CvmControl.OS.DeviceNumber(8, 1));

        var outcome = await _h.Pipeline.BootstrapAsync(target, Pass, CancellationToken.None);

        outcome.Error.Should().Be(MappingProof.NotThisVolume);
        outcome.Detail.Should().Be($"{target.MountPoint} is mounted from device 8:1, but {_h.Mapper("data")} is {_h.Blocks.NumberOf(_h.Mapper("data"))}");
        _h.World.KdfRuns.Should().Be(0);
    }

    [Fact]
    public async Task An_open_mapping_over_a_forged_header_is_refused()
    {
        var (disk, target) = AlreadyOpen(mounted: true);
        disk.SegmentCipher = "cipher_null-ecb";

        var outcome = await _h.Pipeline.BootstrapAsync(target, Pass, CancellationToken.None);

        outcome.Error.Should().Be("LUKS2 header rejected");
        _h.World.KdfRuns.Should().Be(0);
    }

    [Fact]
    public async Task Mount_point_used_by_something_else_fails_the_volume()
    {
        var target = _h.Target("data", "vol-0aaa111");
        _h.Mounts.Mount(target.MountPoint, "/dev/sdb1");

        var outcome = await _h.Pipeline.BootstrapAsync(target, Pass, CancellationToken.None);

        outcome.Error.Should().Be("mount point is in use");
        outcome.Detail.Should().Contain("/dev/sdb1");
        _h.World.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task Foreign_filesystem_inside_the_mapping_is_refused_not_reformatted()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value }, fileSystem: "xfs");

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Error.Should().Be("unsupported filesystem");
        _h.World.Argvs("mkfs.ext4").Should().BeEmpty();
    }

    [Fact]
    public async Task Fsck_that_cannot_fix_the_filesystem_fails_the_volume_with_its_stderr()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value });
        disk.FsckExit = 4;

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Error.Should().Be("e2fsck failed");
        outcome.Detail.Should().Contain("unsupported features").And.Contain("exit code 4");
        _h.World.Argvs("mount").Should().BeEmpty();
    }

    [Fact]
    public async Task Fsck_that_corrected_errors_still_succeeds()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value });
        disk.FsckExit = 1;

        (await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None)).Ok.Should().BeTrue();
    }

    [Fact]
    public async Task Missing_device_names_the_volume_and_every_path_tried()
    {
        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0missing"), Pass, CancellationToken.None);

        outcome.Error.Should().Be("device not found");
        outcome.Detail.Should().Contain("vol-0missing").And.Contain("nvme-Amazon_Elastic_Block_Store_vol0missing,")
            .And.Contain("vol0missing_1").And.Contain("vol0missing-ns-1").And.Contain("device/serial = vol0missing");
    }

    [Fact]
    public async Task Stopping_before_a_step_interrupts_cleanly()
    {
        _h.Attach("vol-0aaa111", "nvme1n1");
        using var stopping = new CancellationTokenSource();
        await stopping.CancelAsync();

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, stopping.Token);

        outcome.Error.Should().Be("interrupted");
        _h.World.Argvs("cryptsetup").Should().NotContain(a => a[0] == "luksFormat");
    }

    private const long MiB = 1024L * 1024;

    /// <summary>A 2 GiB guest: three quarters of its available memory is the KDF budget.</summary>
    private static readonly long TwoGiBGuestBudget = KdfGate.BudgetFor(2048 * MiB);

    [Fact]
    public async Task Eight_new_volumes_at_cryptsetups_default_cost_in_a_2_GiB_guest_all_succeed_one_KDF_at_a_time()
    {
        using var h = new PipelineHarness(TwoGiBGuestBudget, LuksCost.Default);
        h.World.KdfDelay = TimeSpan.FromMilliseconds(20);
        var targets = Enumerable.Range(0, 8).Select(i =>
        {
            h.Attach($"vol-0{i}", $"nvme{i}n1");
            return h.Target($"v{i}", $"vol-0{i}");
        }).ToList();

        var outcomes = await Task.WhenAll(targets.Select(t => Task.Run(() => h.Pipeline.BootstrapAsync(t, Pass, CancellationToken.None))));

        outcomes.Should().OnlyContain(o => o.Ok);
        // Each format and each open of a 1 GiB keyslot needs 1 GiB; two would not fit in 1.5 GiB.
        h.World.MaxKdfMemoryInUse.Should().Be(1024 * MiB);
        h.World.MaxConcurrentKdf.Should().Be(1);
    }

    [Fact]
    public async Task New_volumes_at_a_configured_64_MiB_cost_format_and_open_together()
    {
        using var h = new PipelineHarness(TwoGiBGuestBudget, new LuksCost(65536, 500));
        h.World.KdfDelay = TimeSpan.FromMilliseconds(100);
        h.Attach("vol-0a", "nvme1n1");
        h.Attach("vol-0b", "nvme2n1");

        var outcomes = await Task.WhenAll(new[] { h.Target("a", "vol-0a"), h.Target("b", "vol-0b") }
            .Select(t => Task.Run(() => h.Pipeline.BootstrapAsync(t, Pass, CancellationToken.None))));

        outcomes.Should().OnlyContain(o => o.Ok);
        h.World.MaxConcurrentKdf.Should().Be(2);
        h.World.MaxKdfMemoryInUse.Should().Be(128 * MiB);
    }

    [Fact]
    public async Task One_volume_with_a_1_GiB_keyslot_beside_seven_cheap_ones_never_takes_the_guest_past_the_budget()
    {
        using var h = new PipelineHarness(TwoGiBGuestBudget, new LuksCost(65536, 500));
        h.World.KdfDelay = TimeSpan.FromMilliseconds(40);
        var targets = Enumerable.Range(0, 8).Select(i =>
        {
            var disk = h.Attach($"vol-0{i}", $"nvme{i}n1");
            disk.IsLuks = true;
            disk.Slots[0] = Pass.Value;
            disk.FileSystem = "ext4";
            // The costly one, in the middle: the header the host left says 1 GiB, which is what opening it takes.
            disk.KdfMemoryKiB = i == 3 ? 1024 * 1024 : 32 * 1024;
            return h.Target($"v{i}", $"vol-0{i}");
        }).ToList();

        var outcomes = await Task.WhenAll(targets.Select(t => Task.Run(() => h.Pipeline.BootstrapAsync(t, Pass, CancellationToken.None))));

        outcomes.Should().OnlyContain(o => o.Ok);
        h.World.MaxKdfMemoryInUse.Should().BeGreaterThanOrEqualTo(1024 * MiB).And.BeLessThanOrEqualTo(TwoGiBGuestBudget);
        h.World.MaxConcurrentKdf.Should().BeGreaterThan(1, "the cheap opens need not wait for one another");
    }

    /// <summary>
    /// The daemon asks a running bootstrap to stop between steps: the step running when the request comes
    /// finishes, and the next step never starts.
    /// </summary>
    [Theory]
    [InlineData("blkid -p", "cryptsetup luksFormat")]
    [InlineData("cryptsetup token", "cryptsetup luksDump")]
    [InlineData("cryptsetup open", "blkid -p -o")]
    [InlineData("mkfs.ext4", "mount")]
    [InlineData("e2fsck", "resize2fs")]
    [InlineData("resize2fs", "mount")]
    public async Task A_stop_requested_during_a_step_lets_it_finish_and_starts_no_later_step(string during, string never)
    {
        var disk = _h.Attach("vol-0aaa111", "nvme1n1");
        if (during is "e2fsck" or "resize2fs")
        {
            disk.IsLuks = true;
            disk.Slots[0] = Pass.Value;
            disk.FileSystem = "ext4";
        }
        using var stopping = new CancellationTokenSource();
        _h.World.Override = spec =>
        {
            if ($"{spec.Executable} {string.Join(' ', spec.Arguments)}".StartsWith(during, StringComparison.Ordinal))
            {
                stopping.Cancel();
            }
            return null;
        };

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, stopping.Token);

        outcome.Should().Be(VolumeOutcome.Failure("interrupted", "the daemon is shutting down; a new bootstrap resumes where this one stopped"));
        _h.World.Calls.Select(c => $"{c.Spec.Executable} {string.Join(' ', c.Spec.Arguments)}").Should().Contain(c => c.StartsWith(during, StringComparison.Ordinal))
            .And.NotContain(c => c.StartsWith(never, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_log_tells_an_operator_what_happened_to_a_reopened_disk()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value, [1] = "stale" });
        disk.Marker = true;
        disk.FsckExit = 1;
        var target = _h.Target("data", "vol-0aaa111");

        (await _h.Pipeline.BootstrapAsync(target, Pass, CancellationToken.None)).Ok.Should().BeTrue();

        _h.Log.Lines.Select(l => $"{l.Level}: {l.Message}").Should().ContainInOrder(
            "Information: Volume data: existing LUKS2 volume, header accepted (initialised by cvm-control)",
            "Information: Volume data: opened with key slot 0",
            $"Information: Wrote 5 changed block(s) of the LUKS2 header back to {disk.Path}, verified",
            "Information: Volume data: removed stale key slot 1",
            "Warning: Volume data: e2fsck corrected errors",
            $"Information: Volume data mounted at {target.MountPoint}");
    }

    [Fact]
    public async Task The_log_tells_an_operator_about_a_fresh_disk_a_refused_one_and_a_volume_found_set_up()
    {
        _h.Attach("vol-0aaa111", "nvme1n1");
        var foreign = _h.Attach("vol-0bbb222", "nvme2n1");
        foreign.Signature = "TYPE=\"xfs\"";
        var unmarked = ExistingLuksAt("vol-0ccc333", "nvme3n1");

        await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);
        await _h.Pipeline.BootstrapAsync(_h.Target("other", "vol-0bbb222"), Pass, CancellationToken.None);
        await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);
        await _h.Pipeline.BootstrapAsync(_h.Target("third", "vol-0ccc333"), Pass, CancellationToken.None);

        var lines = _h.Log.Lines.Select(l => $"{l.Level}: {l.Message}").ToList();
        lines.Should().Contain($"Information: Volume data: formatting blank device {_h.Root.Combine("dev", "nvme1n1")} as LUKS2")
            .And.Contain("Information: Volume data: no filesystem, running mkfs.ext4")
            .And.Contain($"Warning: Volume other: refusing to format {foreign.Path}: blkid found: {foreign.Path}: TYPE=\"xfs\"")
            .And.Contain($"Information: Volume data is already mounted at {_h.Target("data", "vol-0aaa111").MountPoint}, and the mapping is proven to be this volume")
            .And.Contain("Information: Volume third: existing LUKS2 volume, header accepted (not marked by cvm-control)");
        lines.Should().NotContain(l => l.Contains("existing LUKS2 volume", StringComparison.Ordinal) && l.Contains("Volume data", StringComparison.Ordinal),
            "a volume formatted just now is not an existing one");
        unmarked.Marker.Should().BeFalse();
    }

    private FakeDiskWorld.Disk ExistingLuksAt(string volumeId, string node)
    {
        var disk = _h.Attach(volumeId, node);
        disk.IsLuks = true;
        disk.Slots[0] = Pass.Value;
        disk.FileSystem = "ext4";
        return disk;
    }

    [Fact]
    public async Task An_open_that_names_a_slot_the_checked_header_lacks_removes_nothing()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value, [1] = "stale" });
        _h.World.Override = spec =>
        {
            if (spec.Arguments[0] != "open" || spec.Arguments.Contains("--test-passphrase"))
            {
                return null;
            }
            _h.World.Map("data", disk);
            return new CvmControl.OS.ProcessResult(0, "Key slot 7 unlocked.\n", "", TimeSpan.Zero);
        };

        await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        _h.World.Argvs("cryptsetup").Should().NotContain(a => a[0] == "luksKillSlot" || a[0] == "config");
        disk.Slots.Keys.Should().Equal(0, 1);
    }

    [Fact]
    public async Task When_every_removal_fails_the_preferred_slot_is_still_written_and_each_survivor_is_a_warning()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value, [1] = "stale 1", [2] = "stale 2" });
        _h.World.Override = spec => spec.Arguments[0] == "luksKillSlot" ? new CvmControl.OS.ProcessResult(5, "", "Device busy.", TimeSpan.Zero) : null;

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Warnings.Should().Equal(
            "stale key slot 1 was not removed: luksKillSlot failed: Device busy. (exit code 5)",
            "stale key slot 2 was not removed: luksKillSlot failed: Device busy. (exit code 5)");
        disk.Preferred.Should().Be(0);
        _h.World.DeviceWrites.Should().Be(1);
    }

    [Fact]
    public async Task When_nothing_in_the_cleanup_succeeds_nothing_is_written()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value, [1] = "stale 1" });
        _h.World.Override = spec => spec.Arguments[0] is "luksKillSlot" or "config" ? new CvmControl.OS.ProcessResult(1, "", "Operation not permitted.", TimeSpan.Zero) : null;

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Warnings.Should().Equal(
            "key slot 0 was not made the preferred one: cryptsetup config failed: Operation not permitted. (exit code 1)",
            "stale key slot 1 was not removed: luksKillSlot failed: Operation not permitted. (exit code 1)");
        _h.World.Argvs("cryptsetup").Count(a => a[0] == "luksHeaderBackup").Should().Be(1, "no write-back, so no second look at the device");
        _h.World.DeviceWrites.Should().Be(0);
        disk.Preferred.Should().BeNull();
    }

    [Fact]
    public async Task A_preference_that_cannot_be_written_back_is_a_warning_about_the_preference()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value, [1] = "stale 1" });
        _h.World.Override = spec =>
        {
            if (spec.Arguments[0] == "luksKillSlot")
            {
                _h.World.HostWrites(disk, FakeLuksImage.HeaderSize + 4096 + 2000, [0x20]);
                return new CvmControl.OS.ProcessResult(5, "", "Device busy.", TimeSpan.Zero);
            }
            return null;
        };

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Warnings.Should().HaveCount(2).And.EndWith(
            $"key slot 0 was not made the preferred one: {HeaderWriteBack.Changed}: {disk.Path}: its header area no longer matches the copy that was checked; nothing was written");
    }

    [Fact]
    public async Task A_checked_copy_that_changed_after_the_check_is_not_edited()
    {
        // cryptsetup may repair a header copy it opens; what was checked is then gone, so nothing is removed.
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value, [1] = "stale 1" });
        _h.World.Override = spec =>
        {
            if (spec.Arguments[0] == "open" && !spec.Arguments.Contains("--test-passphrase"))
            {
                using var copy = new FileStream(spec.Arguments[spec.Arguments.ToList().IndexOf("--header") + 1], FileMode.Open, FileAccess.Write);
                copy.Position = FakeLuksImage.HeaderSize + 4096 + 2000;
                copy.WriteByte(0x20);
            }
            return null;
        };

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Ok.Should().BeTrue();
        outcome.Warnings.Should().Equal($"stale key slots 1 were not removed: the checked header copy of {disk.Path} changed after it was checked");
        _h.World.Argvs("cryptsetup").Should().NotContain(a => a[0] == "luksKillSlot");
        Directory.EnumerateFileSystemEntries(_h.Root.Combine("run", "keys")).Should().BeEmpty();
    }

    [Fact]
    public async Task The_mount_is_ext4_and_a_foreign_filesystem_is_named_in_the_refusal()
    {
        var xfs = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value }, fileSystem: "xfs");

        var refused = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);
        xfs.FileSystem = "ext4";
        _h.World.Override = null;
        (await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None)).Ok.Should().BeTrue();

        refused.Detail.Should().Be($"{_h.Mapper("data")} holds xfs; only ext4 is supported and nothing is formatted over existing data");
        _h.World.Argvs("mount").Single().Should().Equal("-t", "ext4", "--", _h.Mapper("data"), _h.Target("data", "vol-0aaa111").MountPoint);
    }


    [Fact]
    public async Task A_fresh_volume_records_luksFormat_open_mkfs_and_mount_durations_under_its_dm_name()
    {
        _h.Attach("vol-0aaa111", "nvme1n1");

        (await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None)).Ok.Should().BeTrue();

        var text = _metrics.Scrape();
        var samples = TestMetrics.Samples(text);
        foreach (var step in new[] { "luksFormat", "open", "mkfs", "mount" })
        {
            samples.Should().Contain($"cvm_control_volume_step_duration_seconds_count{{dm_name=\"data\",outcome=\"ok\",step=\"{step}\"}}", 1);
        }
        text.Should().NotContain("step=\"e2fsck\"").And.NotContain("step=\"resize2fs\"");
        // Two KDF steps went through the gate (format, open), and both have left it.
        samples.Should().Contain("cvm_control_kdf_gate_wait_seconds_count", 2);
        samples.Should().Contain("cvm_control_kdf_gate_running", 0).And.Contain("cvm_control_kdf_gate_waiting", 0);
        text.Should().NotContain("vol-0aaa111").And.NotContain("vol0aaa111").And.NotContain("horse");
    }

    [Fact]
    public async Task An_existing_volume_records_open_e2fsck_resize2fs_and_mount_durations()
    {
        ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value });

        (await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None)).Ok.Should().BeTrue();

        var samples = TestMetrics.Samples(_metrics.Scrape());

        foreach (var step in new[] { "open", "e2fsck", "resize2fs", "mount" })
        {
            samples.Should().Contain($"cvm_control_volume_step_duration_seconds_count{{dm_name=\"data\",outcome=\"ok\",step=\"{step}\"}}", 1);
        }
        samples.Keys.Should().NotContain(k => k.Contains("step=\"luksFormat\"", StringComparison.Ordinal) || k.Contains("step=\"mkfs\"", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        _h.Dispose();
        _metrics.Dispose();
    }
}
