using CvmControl.OS;
using CvmControl.Tools;

namespace CvmControl.Tests.Tools;

/// <summary>blkid, e2fsprogs, mount and systemctl: argv, exit-code mapping, and upstream words in the detail.</summary>
public sealed class SmallToolTests
{
    private const string Device = "/dev/mapper/data";

    [Theory]
    [InlineData(0, "ext4\n", "ext4")]
    [InlineData(0, "", "unknown")]
    [InlineData(2, "", null)]
    public async Task Blkid_type_probe_maps_exit_2_to_nothing_found(int exit, string stdout, string? type)
    {
        var runner = ScriptedRunner.Answering(exit, stdout);

        (await new Blkid(runner).ProbeTypeAsync(Device, CancellationToken.None)).Should().Be(type);

        runner.Single.Spec.Arguments.Should().Equal("-p", "-o", "value", "-s", "TYPE", Device);
    }

    [Theory]
    [InlineData(0, "/dev/nvme1n1: PTUUID=\"1\" PTTYPE=\"gpt\"\n", "/dev/nvme1n1: PTUUID=\"1\" PTTYPE=\"gpt\"")]
    [InlineData(2, "", null)]
    public async Task Blkid_signature_probe_reports_any_signature_and_only_exit_2_as_none(int exit, string stdout, string? found)
    {
        var runner = ScriptedRunner.Answering(exit, stdout);

        (await new Blkid(runner).ProbeAnySignatureAsync("/dev/nvme1n1", CancellationToken.None)).Should().Be(found);

        runner.Single.Spec.Arguments.Should().Equal("-p", "/dev/nvme1n1");
    }

    [Fact]
    public async Task Blkid_errors_fail_with_its_stderr()
    {
        var blkid = new Blkid(ScriptedRunner.Answering(4, stderr: "error: /dev/nvme1n1: No such file or directory\n"));

        var type = (await blkid.Invoking(b => b.ProbeTypeAsync(Device, CancellationToken.None)).Should().ThrowAsync<ToolFailure>()).Which;
        var any = (await blkid.Invoking(b => b.ProbeAnySignatureAsync(Device, CancellationToken.None)).Should().ThrowAsync<ToolFailure>()).Which;

        foreach (var failure in new[] { type, any })
        {
            failure.Message.Should().Be("blkid failed");
            failure.Detail.Should().Be("error: /dev/nvme1n1: No such file or directory (exit code 4)");
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task E2fsck_exit_0_and_1_are_success(int exit)
    {
        var runner = ScriptedRunner.Answering(exit);

        (await new E2fsprogs(runner).CheckAsync(Device, CancellationToken.None)).Should().Be(exit);

        runner.Single.Spec.Arguments.Should().Equal("-f", "-y", Device);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public async Task E2fsck_other_exits_fail_with_its_stderr(int exit)
    {
        var e2fsprogs = new E2fsprogs(ScriptedRunner.Answering(exit, "pass 1\n", "e2fsck: Cannot continue, aborting.\n"));

        var failure = (await e2fsprogs.Invoking(e => e.CheckAsync(Device, CancellationToken.None)).Should().ThrowAsync<ToolFailure>()).Which;

        failure.Message.Should().Be("e2fsck failed");
        failure.Detail.Should().Be($"e2fsck: Cannot continue, aborting. (exit code {exit})", "stderr wins over stdout");
    }

    [Fact]
    public async Task Mkfs_and_resize2fs_argv()
    {
        var runner = ScriptedRunner.Answering(0);
        var e2fsprogs = new E2fsprogs(runner);

        await e2fsprogs.MakeExt4Async(Device, CancellationToken.None);
        await e2fsprogs.ResizeAsync(Device, CancellationToken.None);

        runner.Calls.Select(c => $"{c.Spec.Executable} {string.Join(' ', c.Spec.Arguments)}").Should().Equal($"mkfs.ext4 -q -F {Device}", $"resize2fs {Device}");
    }

    [Fact]
    public async Task A_tool_that_says_nothing_on_stderr_reports_stdout_and_then_the_bare_exit_code()
    {
        var stdoutOnly = new E2fsprogs(ScriptedRunner.Answering(1, "Please run 'e2fsck -f /dev/mapper/data' first.\n"));
        var silent = new E2fsprogs(ScriptedRunner.Answering(1));

        (await stdoutOnly.Invoking(e => e.ResizeAsync(Device, CancellationToken.None)).Should().ThrowAsync<ToolFailure>())
            .Which.Detail.Should().Be("Please run 'e2fsck -f /dev/mapper/data' first. (exit code 1)");
        (await silent.Invoking(e => e.MakeExt4Async(Device, CancellationToken.None)).Should().ThrowAsync<ToolFailure>())
            .Which.Detail.Should().Be("exit code 1");
    }

    [Fact]
    public async Task Mount_ends_the_options_before_the_device()
    {
        var runner = ScriptedRunner.Answering(0);

        await new Mounter(runner).MountAsync(Device, "/data", "ext4", CancellationToken.None);

        runner.Single.Spec.Arguments.Should().Equal("-t", "ext4", "--", Device, "/data");
    }

    [Fact]
    public async Task A_failed_mount_carries_its_stderr()
    {
        var mounter = new Mounter(ScriptedRunner.Answering(32, stderr: "mount: /data: wrong fs type, bad option, bad superblock.\n"));

        var failure = (await mounter.Invoking(m => m.MountAsync(Device, "/data", "ext4", CancellationToken.None)).Should().ThrowAsync<ToolFailure>()).Which;

        failure.Message.Should().Be("mount failed");
        failure.Detail.Should().Be("mount: /data: wrong fs type, bad option, bad superblock. (exit code 32)");
        failure.ExitCode.Should().Be(32);
    }

    [Theory]
    [InlineData(false, "poweroff")]
    [InlineData(true, "reboot")]
    public async Task Systemctl_runs_the_verb_and_succeeds_on_exit_0(bool reboot, string verb)
    {
        var runner = ScriptedRunner.Answering(0);

        var result = await new Systemctl(runner).RequestAsync(reboot ? PowerAction.Reboot : PowerAction.PowerOff, CancellationToken.None);

        result.Should().Be(new PowerResult(true, verb, 0, ""));
        runner.Single.Spec.Executable.Should().Be("systemctl");
        runner.Single.Spec.Arguments.Should().Equal(verb);
    }

    [Fact]
    public async Task Systemctl_failure_keeps_the_exit_code_and_stderr()
    {
        var runner = ScriptedRunner.Answering(1, stderr: "Failed to connect to bus: No such file or directory\n");

        var result = await new Systemctl(runner).RequestAsync(PowerAction.PowerOff, CancellationToken.None);

        result.Should().Be(new PowerResult(false, "poweroff", 1, "Failed to connect to bus: No such file or directory"));
    }

    [Theory]
    [InlineData("", "systemctl could not be started: No such file or directory")]
    [InlineData("bus gone\n", "bus gone")]
    public async Task Systemctl_that_cannot_run_is_a_failed_result_not_an_exception(string stderr, string expected)
    {
        var runner = ScriptedRunner.Throwing(new ProcessException("systemctl", ["poweroff"], null, stderr, "systemctl could not be started: No such file or directory"));

        var result = await new Systemctl(runner).RequestAsync(PowerAction.PowerOff, CancellationToken.None);

        result.Should().Be(new PowerResult(false, "poweroff", null, expected));
    }
}
