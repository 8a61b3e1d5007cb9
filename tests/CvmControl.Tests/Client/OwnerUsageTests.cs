using CvmControl.Cli;

namespace CvmControl.Tests.Client;

/// <summary>Usage errors of the owner commands: one line on stderr, exit 2, nothing contacted.</summary>
public sealed class OwnerUsageTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static async Task<(int Exit, string Stdout, string Stderr)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await CvmControlCommand.InvokeAsync(args, _ => null, stdout, stderr, (_, _) => throw new InvalidOperationException("the daemon must not start"));
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Theory]
    [InlineData(new[] { "status" }, "cvm-control status: give the daemon with --url https://HOST:PORT (repeatable) or --targets FILE")]
    [InlineData(new[] { "status", "--url", "http://127.0.0.1:1" }, "cvm-control status: --url: \"http://127.0.0.1:1\" is not https://HOST:PORT")]
    [InlineData(new[] { "status", "--url", "https://127.0.0.1:1/api" }, "cvm-control status: --url: \"https://127.0.0.1:1/api\" is not https://HOST:PORT")]
    [InlineData(new[] { "status", "--url", "https://127.0.0.1:1", "--url", "https://127.0.0.1:1/" }, "cvm-control status: --url: https://127.0.0.1:1 is given twice")]
    [InlineData(new[] { "status", "--url", "https://127.0.0.1:1", "--parallel", "0" }, "cvm-control status: --parallel must be from 1 to 256, not 0")]
    [InlineData(new[] { "status", "--url", "https://127.0.0.1:1", "--timeout", "soon" }, "cvm-control status: --timeout \"soon\" is not a duration from 1ms to 24h (30s, 10m, 1h)")]
    [InlineData(new[] { "status", "--url", "https://127.0.0.1:1", "--client-key", "/k.pem" }, "cvm-control status: --client-key needs --client-cert")]
    [InlineData(new[] { "shutdown", "--url", "https://127.0.0.1:1", "--insecure-skip-attestation", "--expected-measurement", "00" }, "cvm-control shutdown: --expected-measurement must be 48 bytes (96 hex digits), not 1")]
    [InlineData(new[] { "shutdown", "--url", "https://127.0.0.1:1", "--insecure-skip-attestation", "--allow-debug" }, "cvm-control shutdown: --allow-debug is an attestation expectation; it cannot be checked with --insecure-skip-attestation")]
    [InlineData(new[] { "rotate", "--url", "https://127.0.0.1:1", "--request", "/nonexistent/request.json" }, "cvm-control rotate: --request /nonexistent/request.json: Could not find a part of the path '/nonexistent/request.json'.")]
    public async Task Usage_errors_exit_2_with_one_line(string[] args, string message)
    {
        var (exit, stdout, stderr) = await Run(args);

        exit.Should().Be(2);
        stderr.Should().Be(message + "\n");
        stdout.Should().BeEmpty();
    }

    [Fact]
    public async Task Bootstrap_without_a_request_is_a_usage_error()
    {
        var (exit, _, stderr) = await Run("bootstrap", "--url", "https://127.0.0.1:1");

        exit.Should().Be(2);
        stderr.Should().Contain("--request");
    }

    [Fact]
    public async Task A_bad_line_in_the_targets_file_is_named()
    {
        var targets = OwnerClient.WriteFile(_dir, "targets", "https://10.0.0.5:9443\n# comment\n10.0.0.6:9443\n");

        var (exit, _, stderr) = await Run("status", "--targets", targets);

        exit.Should().Be(2);
        stderr.Should().Be($"cvm-control status: --targets {targets} line 3: \"10.0.0.6:9443\" is not https://HOST:PORT\n");
    }

    [Theory]
    [InlineData("bootstrap", "--request", "--insecure-skip-attestation", "--expected-measurement", "--client-cert", "--event-log", "--tcb-info", "--min-tcb")]
    [InlineData("rotate", "--request", "--insecure-skip-attestation", "--expected-measurement", "--client-cert", "--event-log", "--tcb-info", "--min-tcb")]
    [InlineData("shutdown", "--user-id", "--reboot", "--insecure-skip-attestation", "--expected-measurement", "--client-cert")]
    [InlineData("status", "--wait", "--client-cert", "--client-key")]
    public async Task Help_lists_the_commands_flags_and_exit_codes(string command, params string[] flags)
    {
        var (exit, stdout, _) = await Run(command, "--help");

        exit.Should().Be(0);
        stdout.Should().Contain("--url").And.Contain("--targets").And.Contain("--parallel").And.Contain("--timeout").And.Contain("--json")
            .And.Contain("Exit 0 done, 1 failed, 2 usage, 3 attestation refused");
        foreach (var flag in flags)
        {
            stdout.Should().Contain(flag);
        }
    }

    [Fact]
    public async Task Status_takes_no_attestation_flags()
    {
        var (exit, _, stderr) = await Run("status", "--url", "https://127.0.0.1:1", "--insecure-skip-attestation");

        exit.Should().Be(2);
        stderr.Should().Contain("--insecure-skip-attestation");
    }
}
