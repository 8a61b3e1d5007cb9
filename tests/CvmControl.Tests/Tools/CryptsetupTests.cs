using CvmControl.OS;
using CvmControl.Tools;

namespace CvmControl.Tests.Tools;

public sealed class CryptsetupTests : IDisposable
{
    private const string Device = "/dev/nvme1n1";
    private static readonly Passphrase Key = new("correct horse\nbattery");
    private static readonly LuksCost Cheap = new(32768, 100);

    private readonly TempDir _keys = new();

    [Theory]
    [InlineData(0, true)]
    [InlineData(1, false)]
    public async Task IsLuks_maps_exit_0_to_luks_and_1_to_not_luks(int exit, bool luks)
    {
        var runner = ScriptedRunner.Answering(exit);

        (await new Cryptsetup(runner).IsLuksAsync(Device, CancellationToken.None)).Should().Be(luks);

        runner.Single.Spec.Arguments.Should().Equal("isLuks", Device);
        runner.Single.Stdin.Should().BeEmpty();
    }

    [Fact]
    public async Task IsLuks_exit_4_is_a_failure_carrying_cryptsetups_stderr_and_the_exit_code()
    {
        var runner = ScriptedRunner.Answering(4, stderr: "Device /dev/nvme1n1 does not exist or access denied.\n");

        var failure = (await new Cryptsetup(runner).Invoking(c => c.IsLuksAsync(Device, CancellationToken.None)).Should().ThrowAsync<ToolFailure>()).Which;

        failure.Message.Should().Be("cryptsetup isLuks failed");
        failure.Detail.Should().Be("Device /dev/nvme1n1 does not exist or access denied. (exit code 4)");
        failure.ExitCode.Should().Be(4);
    }

    [Fact]
    public async Task Format_writes_a_header_file_with_the_attached_layout_pins_luks2_the_cipher_and_argon2id_and_reads_the_key_from_stdin()
    {
        var runner = ScriptedRunner.Answering(0);

        await new Cryptsetup(runner).FormatHeaderFileAsync("/run/cvm/keys/new-header-1", Device, Key, Cheap, CancellationToken.None);

        var (spec, stdin) = runner.Single;
        spec.Executable.Should().Be("cryptsetup");
        spec.Arguments.Should().Equal(
            "luksFormat", "--batch-mode", "--type", "luks2",
            "--cipher", "aes-xts-plain64", "--key-size", "512", "--hash", "sha256",
            "--keyslot-cipher", "aes-xts-plain64", "--keyslot-key-size", "512", "--pbkdf", "argon2id",
            "--pbkdf-memory", "32768", "--iter-time", "100",
            "--luks2-metadata-size", "16k", "--luks2-keyslots-size", "16352k", "--offset", "32768",
            "--header", "/run/cvm/keys/new-header-1",
            "--key-file=-", Device);
        ScriptedRunner.Text(stdin).Should().Be("correct horse\nbattery", "the exact bytes, newline kept, none added");
        spec.Secrets.Should().Equal(Key.Value);
        spec.Background.Should().BeTrue("a KDF runs at idle priority");
    }

    [Fact]
    public async Task Default_cost_leaves_the_pbkdf_cost_to_cryptsetup()
    {
        var runner = ScriptedRunner.Answering(0);

        await new Cryptsetup(runner).FormatHeaderFileAsync("/run/cvm/keys/new-header-1", Device, Key, LuksCost.Default, CancellationToken.None);

        runner.Single.Spec.Arguments.Should().NotContain("--pbkdf-memory").And.NotContain("--iter-time").And.ContainInOrder("--pbkdf", "argon2id");
    }

    [Fact]
    public async Task A_failed_format_carries_stderr_in_the_detail()
    {
        var runner = ScriptedRunner.Answering(1, stderr: "Cannot format device /dev/nvme1n1 in use.\n");

        var failure = (await new Cryptsetup(runner).Invoking(c => c.FormatHeaderFileAsync("/run/cvm/keys/new-header-1", Device, Key, Cheap, CancellationToken.None)).Should().ThrowAsync<ToolFailure>()).Which;

        failure.Message.Should().Be("luksFormat failed");
        failure.Detail.Should().Be("Cannot format device /dev/nvme1n1 in use. (exit code 1)");
    }

    [Fact]
    public async Task Open_goes_through_the_header_copy_and_returns_the_slot_it_unlocked()
    {
        var runner = ScriptedRunner.Answering(0, "No usable token is available.\nKey slot 3 unlocked.\nCommand successful.\n");

        var slot = await new Cryptsetup(runner).OpenAsync(Device, "/run/cvm/keys/header-1", "data", Key, CancellationToken.None);

        slot.Should().Be(3);
        runner.Single.Spec.Arguments.Should().Equal("open", "--type", "luks2", "--header", "/run/cvm/keys/header-1", "--verbose", "--key-file=-", Device, "data");
        ScriptedRunner.Text(runner.Single.Stdin).Should().Be(Key.Value);
    }

    [Fact]
    public async Task Open_with_a_wrong_passphrase_fails_with_cryptsetups_words()
    {
        var runner = ScriptedRunner.Answering(2, stderr: "No key available with this passphrase.\n");

        var failure = (await new Cryptsetup(runner).Invoking(c => c.OpenAsync(Device, "/h", "data", Key, CancellationToken.None)).Should().ThrowAsync<ToolFailure>()).Which;

        failure.Message.Should().Be("luksOpen failed");
        failure.Detail.Should().Be("No key available with this passphrase. (exit code 2)");
        failure.ExitCode.Should().Be(2);
    }

    [Fact]
    public async Task Open_that_does_not_say_which_slot_it_used_is_a_failure()
    {
        var runner = ScriptedRunner.Answering(0, "Command successful.\n");

        var failure = (await new Cryptsetup(runner).Invoking(c => c.OpenAsync(Device, "/h", "data", Key, CancellationToken.None)).Should().ThrowAsync<ToolFailure>()).Which;

        failure.Message.Should().Be("luksOpen failed");
        failure.Detail.Should().Be("cryptsetup did not report which key slot it unlocked");
    }

    [Theory]
    [InlineData(0, "Key slot 1 unlocked.\n", 1)]
    [InlineData(2, "", null)]
    public async Task Test_passphrase_maps_exit_0_to_the_slot_and_2_to_none(int exit, string stdout, int? slot)
    {
        var runner = ScriptedRunner.Answering(exit, stdout, exit == 2 ? "No key available with this passphrase.\n" : "");

        (await new Cryptsetup(runner).TestPassphraseAsync("/run/cvm/keys/header-1", Key, CancellationToken.None)).Should().Be(slot);

        runner.Single.Spec.Arguments.Should().Equal("open", "--test-passphrase", "--type", "luks2", "--verbose", "--key-file=-", "/run/cvm/keys/header-1");
        ScriptedRunner.Text(runner.Single.Stdin).Should().Be(Key.Value);
    }

    [Fact]
    public async Task Test_passphrase_that_cannot_run_is_a_failure_not_a_wrong_passphrase()
    {
        var runner = ScriptedRunner.Answering(1, stderr: "Device /h is not a valid LUKS device.\n");

        var failure = (await new Cryptsetup(runner).Invoking(c => c.TestPassphraseAsync("/h", Key, CancellationToken.None)).Should().ThrowAsync<ToolFailure>()).Which;

        failure.Message.Should().Be("cryptsetup open --test-passphrase failed");
        failure.Detail.Should().Contain("not a valid LUKS device").And.EndWith("(exit code 1)");
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(2, false)]
    public async Task Opens_slot_tries_only_the_named_slot_with_the_passphrase_on_stdin(int exit, bool opens)
    {
        var runner = ScriptedRunner.Answering(exit, "", exit == 2 ? "No key available with this passphrase.\n" : "");

        (await new Cryptsetup(runner).OpensSlotAsync("/run/cvm/keys/header-1", Key, 3, CancellationToken.None)).Should().Be(opens);

        runner.Single.Spec.Arguments.Should().Equal("open", "--test-passphrase", "--type", "luks2", "--key-slot", "3", "--key-file=-", "/run/cvm/keys/header-1");
        ScriptedRunner.Text(runner.Single.Stdin).Should().Be(Key.Value);
    }

    [Fact]
    public async Task Opens_slot_that_cannot_run_is_a_failure_not_a_wrong_passphrase()
    {
        var runner = ScriptedRunner.Answering(4, stderr: "Device /h does not exist or access denied.\n");

        var failure = (await new Cryptsetup(runner).Invoking(c => c.OpensSlotAsync("/h", Key, 0, CancellationToken.None)).Should().ThrowAsync<ToolFailure>()).Which;

        failure.Message.Should().Be("cryptsetup open --test-passphrase failed");
        failure.Detail.Should().EndWith("(exit code 4)");
    }

    [Fact]
    public async Task Kill_slot_always_authenticates_with_a_kept_passphrase_on_stdin()
    {
        var runner = ScriptedRunner.Answering(0);

        await new Cryptsetup(runner).KillSlotAsync(Device, 4, Key, CancellationToken.None);

        runner.Single.Spec.Arguments.Should().Equal("luksKillSlot", "--key-file=-", Device, "4");
        runner.Single.Stdin.Should().NotBeEmpty("an empty stdin makes cryptsetup remove the slot without any authentication")
            .And.Equal(Key.Utf8.ToArray());
        runner.Single.Spec.Secrets.Should().Equal(Key.Value);
    }

    [Fact]
    public void A_passphrase_can_never_be_empty_so_kill_slot_stdin_never_is()
    {
        var act = () => new Passphrase("");

        act.Should().Throw<ArgumentException>();
    }

    [Fact]
    public async Task Prefer_slot_takes_no_key()
    {
        var runner = ScriptedRunner.Answering(0);

        await new Cryptsetup(runner).PreferSlotAsync(Device, 2, CancellationToken.None);

        runner.Single.Spec.Arguments.Should().Equal("config", "--priority", "prefer", "--key-slot", "2", Device);
        runner.Single.Stdin.Should().BeEmpty();
    }

    [Fact]
    public async Task Add_key_reads_the_old_key_from_stdin_and_the_new_one_from_a_0600_file_that_is_gone_afterwards()
    {
        var newKey = new Passphrase("new pass\n");
        var runner = ScriptedRunner.Answering(0);
        (UnixFileMode Mode, string Content)? keyFile = null;
        runner.During = spec => keyFile = (File.GetUnixFileMode(spec.Arguments[^1]), File.ReadAllText(spec.Arguments[^1]));

        await new Cryptsetup(runner).AddKeyAsync(Device, Key, newKey, Cheap, _keys.Path, CancellationToken.None);

        var (spec, stdin) = runner.Single;
        spec.Arguments.Should().HaveCount(14);
        spec.Arguments.Take(13).Should().Equal(
            "luksAddKey", "--keyslot-cipher", "aes-xts-plain64", "--keyslot-key-size", "512", "--pbkdf", "argon2id",
            "--pbkdf-memory", "32768", "--iter-time", "100", "--key-file=-", Device);
        Path.GetDirectoryName(spec.Arguments[^1]).Should().Be(_keys.Path);
        keyFile.Should().Be((UnixFileMode.UserRead | UnixFileMode.UserWrite, "new pass\n"));
        ScriptedRunner.Text(stdin).Should().Be(Key.Value);
        spec.Secrets.Should().BeEquivalentTo([Key.Value, newKey.Value], "both may echo back in cryptsetup's output");
        Directory.EnumerateFileSystemEntries(_keys.Path).Should().BeEmpty();
    }

    [Fact]
    public async Task A_failed_add_key_still_deletes_the_key_file()
    {
        var runner = ScriptedRunner.Answering(2, stderr: "No key available with this passphrase.\n");

        var failure = (await new Cryptsetup(runner).Invoking(c => c.AddKeyAsync(Device, Key, new Passphrase("new pass"), Cheap, _keys.Path, CancellationToken.None)).Should().ThrowAsync<ToolFailure>()).Which;

        failure.Message.Should().Be("luksAddKey failed");
        failure.ExitCode.Should().Be(2);
        Directory.EnumerateFileSystemEntries(_keys.Path).Should().BeEmpty();
    }

    [Fact]
    public async Task Header_backup_and_dump_name_the_file_and_take_no_key()
    {
        var runner = new ScriptedRunner(spec => ScriptedRunner.Exit(0, spec.Arguments[0] == "luksDump" ? "{\"keyslots\":{}}" : ""));
        var cryptsetup = new Cryptsetup(runner);

        await cryptsetup.HeaderBackupAsync(Device, "/run/cvm/keys/header-1", CancellationToken.None);
        var json = await cryptsetup.DumpJsonAsync("/run/cvm/keys/header-1", CancellationToken.None);

        json.Should().Be("{\"keyslots\":{}}");
        runner.Calls.Select(c => c.Spec.Arguments).Should().BeEquivalentTo(new[]
        {
            new[] { "luksHeaderBackup", "--header-backup-file", "/run/cvm/keys/header-1", Device },
            new[] { "luksDump", "--dump-json-metadata", "/run/cvm/keys/header-1" },
        }, o => o.WithStrictOrdering());
        runner.Calls.Should().OnlyContain(c => c.Stdin.Length == 0);
    }

    [Fact]
    public async Task Token_import_sends_the_token_on_stdin()
    {
        var runner = ScriptedRunner.Answering(0);

        await new Cryptsetup(runner).ImportTokenAsync(Device, "{\"type\":\"cvm-control\"}", CancellationToken.None);

        runner.Single.Spec.Arguments.Should().Equal("token", "import", "--json-file=-", Device);
        ScriptedRunner.Text(runner.Single.Stdin).Should().Be("{\"type\":\"cvm-control\"}");
    }

    [Fact]
    public async Task A_child_that_timed_out_becomes_a_failure_with_its_message_and_stderr()
    {
        var runner = ScriptedRunner.Throwing(new ProcessException("cryptsetup", ["luksDump"], null, "partial output", "cryptsetup timed out after 60 s and was killed"));

        var failure = (await new Cryptsetup(runner).Invoking(c => c.DumpJsonAsync(Device, CancellationToken.None)).Should().ThrowAsync<ToolFailure>()).Which;

        failure.Message.Should().Be("luksDump failed");
        failure.Detail.Should().Be("cryptsetup timed out after 60 s and was killed: partial output");
        failure.ExitCode.Should().BeNull();
    }

    [Fact]
    public async Task Passphrases_that_cryptsetup_echoes_reach_the_detail_only_as_redacted()
    {
        // A real child through the real runner: this stand-in echoes its stdin and the new key file to stderr.
        using var bin = new TempDir();
        File.WriteAllText(bin.Combine("cryptsetup"), "#!/bin/sh\nfor last in \"$@\"; do :; done\necho \"old: $(cat)\" >&2\necho \"new: $(cat \"$last\")\" >&2\nexit 2\n");
        File.SetUnixFileMode(bin.Combine("cryptsetup"), (UnixFileMode)0b111_101_101);
        var runner = new ProcessRunner(
            Microsoft.Extensions.Options.Options.Create(new ProcessRunnerOptions { SearchPath = bin.Path + ":/usr/bin:/bin" }),
            TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<ProcessRunner>.Instance);

        var failure = (await new Cryptsetup(runner).Invoking(c => c.AddKeyAsync(Device, new Passphrase("old-secret-1"), new Passphrase("new-secret-2"), Cheap, _keys.Path, CancellationToken.None))
            .Should().ThrowAsync<ToolFailure>()).Which;

        failure.Detail.Should().Be($"old: {SecretScrubber.Mask}\nnew: {SecretScrubber.Mask} (exit code 2)");
    }

    public void Dispose() => _keys.Dispose();
}
