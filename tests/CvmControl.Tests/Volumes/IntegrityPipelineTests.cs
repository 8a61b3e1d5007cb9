using System.Security.Cryptography;
using System.Text;
using CvmControl.OS;
using CvmControl.Tests.Fakes;
using CvmControl.Tools;
using CvmControl.Volumes;
using CvmControl.Volumes.Integrity;
using CvmControl.Volumes.Luks;
using Microsoft.Extensions.Logging;

namespace CvmControl.Tests.Volumes;

/// <summary>Volumes with <c>"integrity": true</c>: dm-crypt on dm-integrity on a window after the disk's 16 MiB header area.</summary>
public sealed class IntegrityPipelineTests : IDisposable
{
    private const long HeaderAreaBytes = 16L * 1024 * 1024;
    private const long WindowStartSector = HeaderAreaBytes / 512;

    private readonly PipelineHarness _h = new();
    private static readonly Passphrase Pass = new("correct horse\nbattery");

    private VolumeTarget Target(bool integrity = true) => _h.Target("data", "vol-0aaa111") with { Integrity = integrity };

    private string KeyDirectory => _h.Root.Combine("run", "keys");

    private FakeDiskWorld.Disk Blank() => _h.Attach("vol-0aaa111", "nvme1n1");

    /// <summary>A disk this pipeline formatted with integrity, after a reboot: its mappings and mount are gone, the calls so far forgotten.</summary>
    private async Task<FakeDiskWorld.Disk> FormattedWithIntegrity()
    {
        var disk = Blank();
        (await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None)).Should().Be(VolumeOutcome.Success);
        _h.World.Reboot();
        _h.World.Calls.Clear();
        return disk;
    }

    /// <summary>vol-0aaa111 already LUKS with <see cref="Pass"/> in slot 0 and ext4 inside; <paramref name="dataOffset"/> 0 marks a header made for integrity.</summary>
    private FakeDiskWorld.Disk ExistingLuks(long dataOffset)
    {
        var disk = Blank();
        disk.IsLuks = true;
        disk.Slots[0] = Pass.Value;
        disk.DataOffset = dataOffset;
        disk.FileSystem = "ext4";
        _h.World.Settle();
        return disk;
    }

    /// <summary>The calls so far: the tool, and for cryptsetup, dmsetup and integritysetup their command.</summary>
    private IEnumerable<string> Verbs() => _h.World.Calls.Select(c =>
        c.Spec.Executable is "cryptsetup" or "dmsetup" or "integritysetup" ? c.Spec.Executable + " " + c.Spec.Arguments[0] : c.Spec.Executable);

    private static byte[] HashOf(string path)
    {
        using var stream = File.OpenRead(path);
        return SHA256.HashData(stream);
    }

    private void NoMappingsAreLeft()
    {
        _h.Blocks.Mappings.Should().BeEmpty();
        Directory.GetFiles(_h.Root.Combine("dev", "mapper")).Should().BeEmpty();
    }

    [Fact]
    public async Task A_blank_disk_gets_its_layers_in_order_then_a_filesystem_and_a_mount()
    {
        var disk = Blank();
        var steps = new List<string>();

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None, steps.Add);

        outcome.Should().Be(VolumeOutcome.Success);
        Verbs().Should().Equal(
            "blkid",
            "dmsetup create", "dmsetup mknodes",
            "integritysetup format", "integritysetup open",
            "cryptsetup luksFormat", "cryptsetup token", "cryptsetup luksDump",
            "cryptsetup open",
            "dmesg", "mkfs.ext4", "mount");
        steps.Should().Equal(VolumeStep.Device, VolumeStep.IntegrityFormat, VolumeStep.LuksFormat, VolumeStep.CheckHeader,
            VolumeStep.WriteHeader, VolumeStep.LuksOpen, VolumeStep.Mkfs, VolumeStep.Mount);
        _h.Mounts.Find(Target().MountPoint)!.Device.Should().Be(_h.Blocks.NumberOf(_h.Mapper("data")));
        disk.FileSystem.Should().Be("ext4");
    }

    [Fact]
    public async Task A_blank_disk_is_mapped_after_its_header_area_and_made_a_keyed_integrity_device()
    {
        var disk = Blank();
        var sectors = new FileInfo(disk.Path).Length / 512;

        (await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None)).Ok.Should().BeTrue();

        var window = _h.Mapper("data@data");
        var dmsetup = _h.World.Argvs("dmsetup").ToList();
        dmsetup.Should().HaveCount(2);
        dmsetup[0].Should().Equal("create", "data@data", "--table", $"0 {sectors - WindowStartSector} linear {disk.Path} {WindowStartSector}");
        dmsetup[1].Should().Equal("mknodes", "data@data");
        var integrity = _h.World.Argvs("integritysetup").ToList();
        integrity.Should().HaveCount(2);
        integrity[0].Should().StartWith(["format", "--batch-mode", "--sector-size", "4096", "--tag-size", "32"]).And.EndWith(window);
        integrity[1].Should().StartWith("open").And.EndWith([window, "data@integrity"]);
        integrity.Should().AllSatisfy(a => a.Should()
            .ContainInOrder("--integrity", "hmac-sha256").And.ContainInOrder("--integrity-key-size", "32")
            .And.ContainInOrder("--journal-integrity", "hmac-sha256").And.ContainInOrder("--journal-integrity-key-size", "32")
            .And.NotContain("--allow-discards"));
        FakeDiskWorld.HasIntegritySuperblock(disk, WindowStartSector).Should().BeTrue();
    }

    [Fact]
    public async Task A_blank_disk_gets_a_detached_header_written_into_its_first_16_MiB_and_is_opened_by_volume_key()
    {
        var disk = Blank();

        (await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None)).Ok.Should().BeTrue();

        var format = _h.World.Argvs("cryptsetup").Single(a => a[0] == "luksFormat");
        var headerFile = format[format.ToList().IndexOf("--header") + 1];
        Path.GetDirectoryName(headerFile).Should().Be(KeyDirectory, "the new header is made on tmpfs");
        format.Should().ContainInOrder("--luks2-metadata-size", "16k").And.ContainInOrder("--luks2-keyslots-size", "16352k")
            .And.Contain("--volume-key-file").And.Contain("--key-file=-").And.EndWith(_h.Mapper("data@integrity"));

        var written = new byte[HeaderAreaBytes];
        using (var stream = File.OpenRead(disk.Path))
        {
            stream.ReadExactly(written);
        }
        var header = FakeLuksImage.Decode(written);
        header.Should().NotBeNull("the disk's first bytes are the LUKS2 header");
        header!.DataOffset.Should().Be(0);
        header.Slots.Should().Equal(new Dictionary<int, string> { [0] = Pass.Value });
        header.Marker.Should().BeTrue();
        written.AsSpan(FakeLuksImage.AreaSize).ContainsAnyExcept((byte)0).Should().BeFalse("the rest of the header area is the header file's empty keyslot space");
        FakeDiskWorld.HasIntegritySuperblock(disk, WindowStartSector).Should().BeTrue("the header write stops at 16 MiB");

        var open = _h.World.Argvs("cryptsetup").Single(a => a[0] == "open");
        open.Should().StartWith(["open", "--type", "luks2", "--header", headerFile, "--volume-key-file"]).And.EndWith([_h.Mapper("data@integrity"), "data"]);
        _h.Blocks.MappingOf(_h.Blocks.NumberOf(_h.Mapper("data"))!.Value)!.Uuid.Should().Be(MappingProof.DmUuidOf(header.Uuid, "data"));
        File.Exists(headerFile).Should().BeFalse();
    }

    [Fact]
    public async Task The_volume_key_and_the_hmac_keys_reach_the_tools_only_as_files_that_are_gone_afterwards()
    {
        Blank();

        (await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None)).Ok.Should().BeTrue();

        var volumeKey = _h.World.VolumeKeyUses.Single(u => u.Verb == "luksFormat").Key;
        volumeKey.Should().HaveCount(64);
        _h.World.VolumeKeyUses.Single(u => u.Verb == "open").Key.Should().Equal(volumeKey);
        var uses = _h.World.IntegrityKeyUses.ToList();
        uses.Should().HaveCount(2);
        byte[][] secrets = [volumeKey, uses[0].Tags, uses[0].Journal];
        foreach (var (spec, _) in _h.World.Calls)
        {
            var argv = string.Join(' ', spec.Arguments);
            foreach (var secret in secrets)
            {
                spec.StandardInput.Span.IndexOf(secret).Should().Be(-1, $"{spec.Executable} {spec.Arguments[0]} gets no key on stdin");
                argv.Should().NotContainEquivalentOf(Convert.ToHexString(secret)).And.NotContain(Convert.ToBase64String(secret));
            }
        }
        var files = _h.World.VolumeKeyUses.Select(u => u.File)
            .Concat(uses.SelectMany(u => new[] { u.TagsFile, u.JournalFile })).ToList();
        files.Should().HaveCount(6).And.OnlyHaveUniqueItems().And.OnlyContain(f => Path.GetDirectoryName(f) == KeyDirectory);
        files.Where(File.Exists).Should().BeEmpty();
        Directory.GetFiles(KeyDirectory).Should().BeEmpty();
    }

    /// <summary>RFC 5869 HKDF-SHA256 with an empty salt and one output block, by hand.</summary>
    private static byte[] HkdfByHand(byte[] ikm, string info)
    {
        var prk = HMACSHA256.HashData(new byte[32], ikm);
        byte[] message = [.. Encoding.ASCII.GetBytes(info), 0x01];
        var block = HMACSHA256.HashData(prk, message);
        return block[..32];
    }

    [Fact]
    public void The_hmac_keys_are_hkdf_sha256_of_the_volume_key_under_the_pinned_labels()
    {
        var volumeKey = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();

        using var keys = IntegrityLayers.DeriveKeys(volumeKey);
        using var again = IntegrityLayers.DeriveKeys(volumeKey);

        keys.Tags.ToArray().Should().Equal(HkdfByHand(volumeKey, "cvm-control/dm-integrity/v1"));
        keys.Journal.ToArray().Should().Equal(HkdfByHand(volumeKey, "cvm-control/dm-integrity/v1/journal"));
        keys.Tags.ToArray().Should().NotEqual(keys.Journal.ToArray());
        again.Tags.ToArray().Should().Equal(keys.Tags.ToArray());
        again.Journal.ToArray().Should().Equal(keys.Journal.ToArray());
    }

    [Fact]
    public void Another_volume_key_gives_other_hmac_keys()
    {
        var volumeKey = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
        var other = volumeKey.ToArray();
        other[63] ^= 1;

        using var keys = IntegrityLayers.DeriveKeys(volumeKey);
        using var changed = IntegrityLayers.DeriveKeys(other);

        changed.Tags.ToArray().Should().NotEqual(keys.Tags.ToArray());
        changed.Journal.ToArray().Should().NotEqual(keys.Journal.ToArray());
    }

    [Fact]
    public async Task After_a_reboot_the_integrity_device_gets_the_same_keys_it_was_formatted_with()
    {
        await FormattedWithIntegrity();
        var volumeKey = _h.World.VolumeKeyUses.Single(u => u.Verb == "luksFormat").Key;
        var formatted = _h.World.IntegrityKeyUses.Single(u => u.Verb == "format");

        (await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None)).Should().Be(VolumeOutcome.Success);

        formatted.Tags.Should().Equal(HkdfByHand(volumeKey, IntegrityLayers.KeyLabel));
        formatted.Journal.Should().Equal(HkdfByHand(volumeKey, IntegrityLayers.KeyLabel + "/journal"));
        var reopened = _h.World.IntegrityKeyUses.Where(u => u.Verb != "format").ToList();
        reopened.Select(u => u.Verb).Should().Equal("open", "open", "resize");
        reopened.Should().AllSatisfy(u =>
        {
            u.Tags.Should().Equal(formatted.Tags);
            u.Journal.Should().Equal(formatted.Journal);
        });
        _h.World.VolumeKeyUses.Where(u => u.Verb == "luksDump").Should().ContainSingle().Which.Key.Should().Equal(volumeKey);
        _h.World.VolumeKeyUses.Where(u => u.Verb == "open").Should().HaveCount(2).And.OnlyContain(u => u.Key.SequenceEqual(volumeKey));
    }

    [Fact]
    public async Task An_integrity_device_opened_with_other_keys_fails_and_leaves_no_mapping()
    {
        var disk = await FormattedWithIntegrity();
        // Another volume key in the header: dm-crypt would accept it, but its HMAC keys are not the superblock's.
        disk.Header.VolumeKey = RandomNumberGenerator.GetBytes(64);

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        outcome.Error.Should().Be("integritysetup open failed");
        outcome.Detail.Should().Contain("journal mac mismatch");
        _h.World.Argvs("cryptsetup").Should().NotContain(a => a[0] == "open", "dm-crypt never opens without its integrity device");
        NoMappingsAreLeft();
        _h.Mounts.Mounted.Should().BeEmpty();
    }

    [Fact]
    public async Task An_existing_integrity_volume_is_opened_with_one_kdf_run_grown_checked_and_mounted()
    {
        var disk = await FormattedWithIntegrity();
        var kdfBefore = _h.World.KdfRuns;
        var steps = new List<string>();

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None, steps.Add);

        outcome.Should().Be(VolumeOutcome.Success);
        _h.World.KdfRuns.Should().Be(kdfBefore + 1);
        Verbs().Should().Equal(
            "cryptsetup isLuks", "cryptsetup luksHeaderBackup", "cryptsetup luksDump", "cryptsetup luksDump",
            "dmsetup create", "dmsetup mknodes", "integritysetup open", "integritysetup resize",
            "cryptsetup open",
            "dmesg", "blkid", "e2fsck", "dmesg", "resize2fs", "mount");
        outcome.Warnings.Should().BeEmpty();
        var cryptsetup = _h.World.Argvs("cryptsetup").ToList();
        cryptsetup[3].Should().StartWith(["luksDump", "--dump-volume-key", "--batch-mode", "--verbose", "--volume-key-file"]).And.Contain("--key-file=-");
        cryptsetup[4].Should().Contain("--volume-key-file").And.NotContain("--key-file=-").And.EndWith([_h.Mapper("data@integrity"), "data"]);
        _h.World.Argvs("integritysetup").Last().Should().StartWith("resize").And.EndWith("data@integrity");
        steps.Should().Equal(VolumeStep.Device, VolumeStep.CheckHeader, VolumeStep.LuksOpen, VolumeStep.IntegrityOpen, VolumeStep.LuksOpen,
            VolumeStep.LuksKillSlot, VolumeStep.Fsck, VolumeStep.Resize, VolumeStep.Mount);
        disk.FileSystem.Should().Be("ext4");
        _h.Mounts.Find(Target().MountPoint).Should().NotBeNull();
        Directory.GetFiles(KeyDirectory).Should().BeEmpty();
    }

    [Fact]
    public async Task Stale_keyslots_of_an_integrity_volume_are_removed_and_its_header_keeps_the_detached_layout()
    {
        var disk = await FormattedWithIntegrity();
        var volumeKey = disk.Header.VolumeKey.ToArray();
        disk.Slots[1] = "stale one";
        disk.Slots[2] = "stale two";

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        outcome.Should().Be(VolumeOutcome.Success);
        var onDisk = FakeLuksImage.Decode(File.ReadAllBytes(disk.Path).AsSpan(0, FakeLuksImage.AreaSize))!;
        onDisk.Slots.Keys.Should().Equal(0);
        onDisk.DataOffset.Should().Be(0);
        onDisk.VolumeKey.Should().Equal(volumeKey);
        _h.World.Argvs("cryptsetup").Where(a => a[0] == "luksKillSlot").Select(a => a[^1]).Should().Equal("1", "2");
    }

    [Fact]
    public async Task A_disk_formatted_without_integrity_is_refused_for_a_request_with_integrity_and_left_as_it_was()
    {
        var disk = ExistingLuks(dataOffset: FakeLuksImage.AreaSize);
        var before = HashOf(disk.Path);

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        outcome.Error.Should().Be(LuksVolumePipeline.IntegrityMismatch);
        outcome.Detail.Should().Be($"{disk.Path} was formatted without integrity; the request has \"integrity\": true, and an existing volume never gets an integrity layer. Nothing was changed");
        HashOf(disk.Path).Should().Equal(before);
        _h.World.Calls.Select(c => c.Spec.Executable).Should().NotContain(["integritysetup", "dmsetup"]);
        _h.World.Argvs("cryptsetup").Select(a => a[0]).Should().NotContain(["luksFormat", "open", "luksKillSlot", "config"]);
        _h.World.KdfRuns.Should().Be(0);
        NoMappingsAreLeft();
    }

    [Fact]
    public async Task A_disk_formatted_with_integrity_is_refused_for_a_request_without_it_and_left_as_it_was()
    {
        var disk = ExistingLuks(dataOffset: 0);
        disk.Slots[1] = "stale";
        _h.World.Settle();
        var before = HashOf(disk.Path);

        var outcome = await _h.Pipeline.BootstrapAsync(Target(integrity: false), Pass, CancellationToken.None);

        outcome.Error.Should().Be(LuksVolumePipeline.IntegrityMismatch);
        outcome.Detail.Should().Be($"{disk.Path} was formatted with integrity (its LUKS2 header keeps the data on a dm-integrity device); the request has \"integrity\": false. Nothing was changed");
        HashOf(disk.Path).Should().Equal(before);
        disk.Slots.Keys.Should().Equal(0, 1);
        _h.World.Argvs("cryptsetup").Select(a => a[0]).Should().NotContain(["luksFormat", "open", "luksKillSlot", "config"]);
        NoMappingsAreLeft();
    }

    [Fact]
    public async Task A_real_integrity_volume_asked_for_without_integrity_after_a_reboot_is_refused()
    {
        var disk = await FormattedWithIntegrity();
        var before = HashOf(disk.Path);

        var outcome = await _h.Pipeline.BootstrapAsync(Target(integrity: false), Pass, CancellationToken.None);

        outcome.Error.Should().Be(LuksVolumePipeline.IntegrityMismatch);
        HashOf(disk.Path).Should().Equal(before);
        NoMappingsAreLeft();
    }

    [Fact]
    public async Task A_wrong_passphrase_on_an_integrity_volume_fails_the_open_and_maps_nothing()
    {
        var disk = await FormattedWithIntegrity();

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), new Passphrase("not the owner"), CancellationToken.None);

        outcome.Should().Be(VolumeOutcome.Failure("luksOpen failed", $"the passphrase opens no key slot of the LUKS2 header of {disk.Path}"));
        _h.World.Calls.Select(c => c.Spec.Executable).Should().NotContain(["integritysetup", "dmsetup"]);
        NoMappingsAreLeft();
        disk.Slots.Keys.Should().Equal(0);
        Directory.GetFiles(KeyDirectory).Should().BeEmpty("no volume key file is left when none was written");
    }

    [Fact]
    public async Task Leftover_lower_mappings_of_an_interrupted_run_are_removed_before_the_volume_is_set_up()
    {
        await FormattedWithIntegrity();
        // An earlier run that stopped after opening dm-integrity, before dm-crypt.
        (await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None)).Ok.Should().BeTrue();
        _h.Mounts.Mounted.Clear();
        _h.World.Unmap("data");
        _h.World.Calls.Clear();

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        outcome.Should().Be(VolumeOutcome.Success);
        Verbs().Take(4).Should().Equal("integritysetup close", "dmsetup remove", "dmsetup mknodes", "cryptsetup isLuks");
        _h.World.Argvs("integritysetup").First().Should().Equal("close", "data@integrity");
        _h.World.Argvs("dmsetup").First().Should().Equal("remove", "data@data");
        _h.World.Argvs("dmsetup").Should().Contain(a => a[0] == "create");
        _h.Mounts.Find(Target().MountPoint).Should().NotBeNull();
    }

    [Fact]
    public async Task A_stale_window_node_whose_mapping_is_gone_is_cleared_not_removed_as_a_mapping()
    {
        await FormattedWithIntegrity();
        (await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None)).Ok.Should().BeTrue();
        _h.Mounts.Mounted.Clear();
        _h.World.Unmap("data");
        _h.World.Unmap("data@integrity");
        // What `dmsetup remove` leaves without udev: the node, with no mapping behind it.
        _h.World.Blocks.Mappings.TryRemove(_h.Blocks.NumberOf(_h.Mapper("data@data"))!.Value, out _).Should().BeTrue();
        _h.World.Calls.Clear();

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        outcome.Should().Be(VolumeOutcome.Success);
        Verbs().Take(2).Should().Equal("dmsetup mknodes", "cryptsetup isLuks");
        _h.World.Argvs("dmsetup").First().Should().Equal("mknodes", "data@data");
        _h.World.Argvs("dmsetup").Should().NotContain(a => a[0] == "remove");
        _h.Mounts.Find(Target().MountPoint).Should().NotBeNull();
    }

    [Fact]
    public async Task Growing_an_integrity_device_wipes_the_added_area_so_no_host_data_gets_a_tag()
    {
        await FormattedWithIntegrity();

        (await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None)).Ok.Should().BeTrue();

        _h.World.Argvs("integritysetup").Single(a => a[0] == "resize").Should().StartWith(["resize", "--wipe"]).And.EndWith("data@integrity");
    }

    [Fact]
    public async Task Without_leftovers_nothing_is_removed_first()
    {
        await FormattedWithIntegrity();

        (await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None)).Ok.Should().BeTrue();

        _h.World.Argvs("integritysetup").Should().NotContain(a => a[0] == "close");
        _h.World.Argvs("dmsetup").Should().NotContain(a => a[0] == "remove");
    }

    [Fact]
    public async Task When_dm_crypt_does_not_open_the_lower_mappings_are_removed_again()
    {
        await FormattedWithIntegrity();
        _h.World.Override = spec => spec.Executable == "cryptsetup" && spec.Arguments[0] == "open"
            ? new ProcessResult(1, "", "device-mapper: reload ioctl on data failed: Invalid argument", TimeSpan.Zero)
            : null;

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        outcome.Should().Be(VolumeOutcome.Failure("luksOpen failed", "device-mapper: reload ioctl on data failed: Invalid argument (exit code 1)"));
        Verbs().Should().EndWith(["cryptsetup open", "integritysetup close", "dmsetup remove", "dmsetup mknodes"]);
        NoMappingsAreLeft();
    }

    [Fact]
    public async Task When_luksFormat_fails_on_a_blank_disk_the_layers_are_removed_and_the_header_area_stays_zero()
    {
        var disk = Blank();
        _h.World.Override = spec => spec.Executable == "cryptsetup" && spec.Arguments[0] == "luksFormat"
            ? new ProcessResult(1, "", "Cannot format device.", TimeSpan.Zero)
            : null;

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        outcome.Should().Be(VolumeOutcome.Failure("luksFormat failed", "Cannot format device. (exit code 1)"));
        NoMappingsAreLeft();
        var area = new byte[HeaderAreaBytes];
        using (var stream = File.OpenRead(disk.Path))
        {
            stream.ReadExactly(area);
        }
        area.AsSpan().ContainsAnyExcept((byte)0).Should().BeFalse();
        Directory.GetFiles(KeyDirectory).Should().BeEmpty("the volume key file and the unfinished header file are deleted");
    }

    [Fact]
    public async Task A_format_cut_short_after_the_integrity_layer_is_refused_as_not_blank_next_time()
    {
        Blank();
        _h.World.Override = spec => spec.Executable == "cryptsetup" && spec.Arguments[0] == "luksFormat"
            ? new ProcessResult(1, "", "Cannot format device.", TimeSpan.Zero)
            : null;
        (await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None)).Ok.Should().BeFalse();
        _h.World.Override = null;
        _h.World.Calls.Clear();

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        outcome.Error.Should().Be(LuksVolumePipeline.NotBlank);
        outcome.Detail.Should().Contain($"non-zero bytes at offset {HeaderAreaBytes}");
        _h.World.Calls.Select(c => c.Spec.Executable).Should().NotContain(["integritysetup", "dmsetup"]);
    }

    [Fact]
    public async Task A_disk_with_zeros_in_its_header_area_but_data_at_16_MiB_is_not_blank()
    {
        var disk = Blank();
        using (var stream = new FileStream(disk.Path, FileMode.Open, FileAccess.Write))
        {
            stream.Position = HeaderAreaBytes;
            stream.Write(FakeDiskWorld.IntegrityMagic);
        }

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        outcome.Error.Should().Be(LuksVolumePipeline.NotBlank);
        outcome.Detail.Should().StartWith($"{disk.Path} is not LUKS and not blank: non-zero bytes at offset {HeaderAreaBytes}");
        // Its first block reads as zeros, as a new disk's does, so blkid's probe starts beside the blank read.
        Verbs().Should().Equal("blkid", "cryptsetup isLuks");
        NoMappingsAreLeft();
    }

    [Fact]
    public async Task An_open_integrity_chain_on_this_disk_is_proven_and_goes_to_the_filesystem()
    {
        await FormattedWithIntegrity();
        (await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None)).Ok.Should().BeTrue();
        _h.Mounts.Mounted.Clear();
        _h.World.Calls.Clear();

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        outcome.Should().Be(VolumeOutcome.Success);
        _h.World.Argvs("cryptsetup").Select(a => a[0]).Should().Equal("luksHeaderBackup", "luksDump", "open");
        _h.World.Argvs("cryptsetup").Last().Should().Contain("--test-passphrase");
        _h.World.Calls.Select(c => c.Spec.Executable).Should().NotContain(["integritysetup", "dmsetup"]);
        _h.World.Argvs("e2fsck").Should().ContainSingle();
        _h.Mounts.Find(Target().MountPoint).Should().NotBeNull();
    }

    [Fact]
    public async Task An_integrity_chain_mounted_already_is_proven_and_left_alone()
    {
        await FormattedWithIntegrity();
        (await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None)).Ok.Should().BeTrue();
        _h.World.Calls.Clear();

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        outcome.Should().Be(VolumeOutcome.Success);
        _h.World.Calls.Select(c => c.Spec.Executable).Should().OnlyContain(tool => tool == "cryptsetup");
    }

    [Theory]
    [InlineData("other@integrity", "data@data", "not on the mapping \"data@integrity\"")]
    [InlineData("data@integrity", "other@data", "not on the mapping \"data@data\"")]
    public async Task An_integrity_chain_with_a_wrong_name_below_is_refused(string integrityName, string dataName, string expected)
    {
        var disk = ExistingLuks(dataOffset: 0);
        _h.World.MapWithIntegrity("data", disk, integrityName, dataName);

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        outcome.Error.Should().Be(MappingProof.NotThisVolume);
        outcome.Detail.Should().Contain(expected);
        _h.World.KdfRuns.Should().Be(0);
        _h.World.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task An_integrity_chain_on_another_disk_is_refused()
    {
        ExistingLuks(dataOffset: 0);
        var other = _h.Attach("vol-0bbb222", "nvme2n1");
        other.IsLuks = true;
        other.Slots[0] = Pass.Value;
        other.DataOffset = 0;
        _h.World.MapWithIntegrity("data", other, "data@integrity", "data@data");

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        outcome.Error.Should().Be(MappingProof.NotThisVolume);
        outcome.Detail.Should().Be($"{_h.Mapper("data")} (through \"data@data\") sits on {other.Number}, but volume vol-0aaa111 is {_h.Root.Combine("dev", "nvme1n1")} (259:0)");
        _h.World.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task A_crypt_mapping_straight_on_the_disk_is_not_an_integrity_volume()
    {
        var disk = ExistingLuks(dataOffset: 0);
        _h.World.Map("data", disk);

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        outcome.Error.Should().Be(MappingProof.NotThisVolume);
        outcome.Detail.Should().Contain("not on the mapping \"data@integrity\"");
    }

    [Fact]
    public async Task An_integrity_chain_is_not_accepted_for_a_volume_without_integrity()
    {
        var disk = ExistingLuks(dataOffset: 0);
        _h.World.MapWithIntegrity("data", disk, "data@integrity", "data@data");

        var outcome = await _h.Pipeline.BootstrapAsync(Target(integrity: false), Pass, CancellationToken.None);

        outcome.Error.Should().Be(MappingProof.NotThisVolume);
        outcome.Detail.Should().Be($"{_h.Mapper("data")} sits on {_h.Blocks.NumberOf(_h.Mapper("data@integrity"))}, but volume vol-0aaa111 is {disk.Path} ({disk.Number})");
    }

    /// <summary>Ten checksum failures of the volume's integrity device, a line of another device and one of the same device that is not dm-integrity's.</summary>
    private List<string> KernelLogWhenTheToolRuns(string tool)
    {
        var expected = new List<string>();
        _h.World.Override = spec =>
        {
            if (spec.Executable == tool)
            {
                var minor = _h.Blocks.NumberOf(_h.Mapper("data@integrity"))!.Value;
                var other = new DeviceNumber(253, minor.Minor + 10);
                var lines = Enumerable.Range(0, 10).Select(i => FakeDiskWorld.ChecksumFailure(minor, 0x1000 + i)).ToList();
                expected.AddRange(lines.Skip(2));
                _h.World.KernelLog = string.Join('\n', [
                    "Linux version 6.8.0",
                    FakeDiskWorld.ChecksumFailure(other, 0x20),
                    .. lines.Take(5),
                    $"Buffer I/O error on dev dm-{minor.Minor}: logical block 4, async page read",
                    .. lines.Skip(5),
                    FakeDiskWorld.ChecksumFailure(other, 0x30),
                    ""]);
            }
            return null;
        };
        return expected;
    }

    [Fact]
    public async Task When_e2fsck_fails_on_an_integrity_volume_the_kernels_last_eight_integrity_lines_for_it_join_the_detail_and_the_log()
    {
        var disk = await FormattedWithIntegrity();
        disk.FsckExit = 4;
        var expected = KernelLogWhenTheToolRuns("e2fsck");

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        expected.Should().HaveCount(8);
        outcome.Error.Should().Be("e2fsck failed");
        outcome.Detail.Should().Be("e2fsck: Filesystem has unsupported features (exit code 4); kernel: " + string.Join(" | ", expected));
        _h.Log.At(LogLevel.Error).Should().Equal(expected.Select(line => "Volume data: kernel: " + line));
        // Once for where the kernel log stood before the filesystem steps, once after the failure.
        _h.World.Argvs("dmesg").Should().HaveCount(2).And.AllSatisfy(a => a.Should().Equal("--kernel", "--notime"));
        _h.World.Argvs("mount").Should().BeEmpty();
    }

    [Fact]
    public async Task When_the_mount_fails_on_an_integrity_volume_the_kernel_lines_join_the_detail()
    {
        await FormattedWithIntegrity();
        var expected = KernelLogWhenTheToolRuns("mount");
        var kernel = _h.World.Override!;
        _h.World.Override = spec => kernel(spec) ?? (spec.Executable == "mount"
            ? new ProcessResult(32, "", "mount: /mnt/data: can't read superblock on /dev/mapper/data.", TimeSpan.Zero)
            : null);

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        outcome.Error.Should().Be("mount failed");
        outcome.Detail.Should().EndWith("; kernel: " + string.Join(" | ", expected)).And.Contain("can't read superblock");
    }

    [Fact]
    public async Task When_e2fsck_passes_over_blocks_that_failed_their_check_the_volume_is_ok_with_the_kernel_lines_as_a_warning()
    {
        var disk = await FormattedWithIntegrity();
        disk.FsckExit = 1;
        var expected = KernelLogWhenTheToolRuns("e2fsck");

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        outcome.Ok.Should().BeTrue();
        outcome.Warnings.Should().Equal("e2fsck met blocks that failed their integrity check; kernel: " + string.Join(" | ", expected));
        _h.Log.At(LogLevel.Error).Should().Equal(expected.Select(line => "Volume data: kernel: " + line));
        _h.Mounts.Find(Target().MountPoint).Should().NotBeNull();
    }

    [Fact]
    public async Task When_blkid_finds_nothing_while_blocks_fail_their_check_nothing_is_formatted()
    {
        var disk = await FormattedWithIntegrity();
        disk.FileSystem = null;
        var expected = KernelLogWhenTheToolRuns("blkid");

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        outcome.Error.Should().Be("cannot read the volume");
        outcome.Detail.Should().StartWith($"blkid found no filesystem on {_h.Mapper("data")}, but blocks failed their integrity check")
            .And.EndWith("; kernel: " + string.Join(" | ", expected));
        _h.World.Argvs("mkfs.ext4").Should().BeEmpty();
        disk.FileSystem.Should().BeNull();
    }

    [Fact]
    public async Task Kernel_lines_from_before_the_filesystem_steps_are_not_reported_again()
    {
        var disk = await FormattedWithIntegrity();
        disk.FsckExit = 1;
        var earlier = new List<string>();
        var fresh = new List<string>();
        _h.World.Override = spec =>
        {
            var minor = _h.Blocks.NumberOf(_h.Mapper("data@integrity"));
            if (spec.Executable == "cryptsetup" && spec.Arguments[0] == "open" && minor is { } opened)
            {
                // Left by an earlier attempt in this boot on a device that had the same minor.
                earlier.AddRange(Enumerable.Range(0, 3).Select(i => FakeDiskWorld.ChecksumFailure(opened, 0x100 + i)));
                _h.World.KernelLog = string.Join('\n', earlier) + "\n";
            }
            if (spec.Executable == "e2fsck" && minor is { } checkedDevice)
            {
                fresh.AddRange(Enumerable.Range(0, 2).Select(i => FakeDiskWorld.ChecksumFailure(checkedDevice, 0x900 + i)));
                _h.World.KernelLog = string.Join('\n', [.. earlier, .. fresh]) + "\n";
            }
            return null;
        };

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        earlier.Should().HaveCount(3);
        outcome.Ok.Should().BeTrue();
        outcome.Warnings.Should().Equal("e2fsck met blocks that failed their integrity check; kernel: " + string.Join(" | ", fresh));
    }

    [Fact]
    public async Task A_failure_without_kernel_lines_for_the_volume_keeps_its_detail()
    {
        var disk = await FormattedWithIntegrity();
        disk.FsckExit = 4;
        _h.World.KernelLog = FakeDiskWorld.ChecksumFailure(new DeviceNumber(253, 99), 1) + "\n";

        var outcome = await _h.Pipeline.BootstrapAsync(Target(), Pass, CancellationToken.None);

        outcome.Should().Be(VolumeOutcome.Failure("e2fsck failed", "e2fsck: Filesystem has unsupported features (exit code 4)"));
        _h.Log.At(LogLevel.Error).Should().BeEmpty();
    }

    [Fact]
    public async Task A_plain_volume_failure_does_not_read_the_kernel_log()
    {
        var disk = ExistingLuks(dataOffset: FakeLuksImage.AreaSize);
        disk.FsckExit = 4;
        _h.World.KernelLog = FakeDiskWorld.ChecksumFailure(new DeviceNumber(253, 0), 1) + "\n";

        var outcome = await _h.Pipeline.BootstrapAsync(Target(integrity: false), Pass, CancellationToken.None);

        outcome.Should().Be(VolumeOutcome.Failure("e2fsck failed", "e2fsck: Filesystem has unsupported features (exit code 4)"));
        _h.World.Argvs("dmesg").Should().BeEmpty();
    }

    public void Dispose() => _h.Dispose();
}
