using CvmControl.OS;
using CvmControl.Tests.Fakes;
using CvmControl.Volumes;

namespace CvmControl.Tests.Volumes;

public sealed class LuksVolumePipelineTests : IDisposable
{
    private readonly PipelineHarness _h = new();
    private static readonly Passphrase Pass = new("correct horse\nbattery");

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
    public async Task A_fresh_volume_gets_the_marker_token_and_is_opened_through_a_checked_header_copy()
    {
        var disk = _h.Attach("vol-0aaa111", "nvme1n1");

        (await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None)).Ok.Should().BeTrue();

        disk.Marker.Should().BeTrue();
        var open = _h.World.Argvs("cryptsetup").Single(a => a[0] == "open" && !a.Contains("--test-passphrase"));
        var header = open[open.ToList().IndexOf("--header") + 1];
        _h.World.HeaderCopies.Should().ContainKey(header);
        header.Should().StartWith(_h.Root.Combine("run", "keys") + "/");
        File.Exists(header).Should().BeFalse("the copy is deleted right after the open");
        var format = _h.World.Argvs("cryptsetup").Single(a => a[0] == "luksFormat");
        format.Should().ContainInOrder("--keyslot-cipher", "aes-xts-plain64").And.ContainInOrder("--keyslot-key-size", "512");
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
    public async Task A_failed_slot_removal_is_logged_not_fatal()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = Pass.Value, [1] = "stale" }, fileSystem: null);
        _h.World.Override = spec => spec.Arguments[0] == "luksKillSlot" ? new CvmControl.OS.ProcessResult(5, "", "Device busy.", TimeSpan.Zero) : null;

        (await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None)).Ok.Should().BeTrue();
    }

    [Fact]
    public async Task Wrong_passphrase_for_an_existing_volume_fails_with_cryptsetups_words()
    {
        var disk = ExistingLuks(new Dictionary<int, string> { [0] = "the real one" }, fileSystem: null);

        var outcome = await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None);

        outcome.Should().Be(VolumeOutcome.Failure("luksOpen failed", "No key available with this passphrase. (exit code 2)"));
        disk.Slots.Should().ContainKey(0);
    }

    [Fact]
    public async Task Already_mounted_from_its_mapping_is_done_without_touching_anything()
    {
        var target = _h.Target("data", "vol-0aaa111");
        _h.Mounts.Mount(target.MountPoint, _h.Mapper("data"));

        (await _h.Pipeline.BootstrapAsync(target, Pass, CancellationToken.None)).Ok.Should().BeTrue();

        _h.World.Calls.Should().BeEmpty();
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
    public async Task Open_mapping_skips_luks_setup_and_goes_to_the_filesystem()
    {
        var disk = _h.Attach("vol-0aaa111", "nvme1n1");
        disk.IsLuks = true;
        disk.FileSystem = "ext4";
        File.WriteAllText(_h.Mapper("data"), _h.Root.Combine("dev", "nvme1n1"));

        (await _h.Pipeline.BootstrapAsync(_h.Target("data", "vol-0aaa111"), Pass, CancellationToken.None)).Ok.Should().BeTrue();

        _h.World.Argvs("cryptsetup").Should().BeEmpty();
        _h.World.Argvs("e2fsck").Should().ContainSingle();
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

    [Fact]
    public async Task Kdf_steps_of_many_volumes_never_exceed_the_memory_gate()
    {
        using var h = new PipelineHarness(kdfSlots: 2);
        h.World.KdfDelay = TimeSpan.FromMilliseconds(40);
        var targets = Enumerable.Range(0, 8).Select(i =>
        {
            h.Attach($"vol-0{i}", $"nvme{i}n1");
            return h.Target($"v{i}", $"vol-0{i}");
        }).ToList();

        var outcomes = await Task.WhenAll(targets.Select(t => Task.Run(() => h.Pipeline.BootstrapAsync(t, Pass, CancellationToken.None))));

        outcomes.Should().OnlyContain(o => o.Ok);
        h.World.MaxConcurrentKdf.Should().Be(2);
    }

    public void Dispose() => _h.Dispose();
}
