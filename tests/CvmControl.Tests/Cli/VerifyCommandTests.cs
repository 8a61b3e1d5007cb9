using System.Text.Json;
using CvmControl.Cli;
using CvmControl.Tests.Attestation;

namespace CvmControl.Tests.Cli;

public sealed class VerifyCommandTests
{
    private static string Vector(string name) => Path.Combine(TestVectors.Directory, name);

    private static async Task<(int Exit, string Out, string Err)> Verify(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await CvmControlCommand.InvokeAsync(["verify", .. args], _ => null, stdout, stderr, (_, _) => throw new InvalidOperationException("the daemon must not start"));
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Offline_VLEK_report_verifies_with_exit_0_and_the_documented_json()
    {
        var (exit, stdout, stderr) = await Verify("--evidence", Vector("test-vlek-report.bin"), "--cert", Vector("test-vlek.der"), "--at", "2025-06-01", "--json");

        stderr.Should().BeEmpty();
        exit.Should().Be(0);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        root.EnumerateObject().Select(p => p.Name).Should().Equal("verified", "kind", "product", "signing_key", "measurement", "report_data", "reported_tcb", "vmpl", "errors");
        root.GetProperty("verified").GetBoolean().Should().BeTrue();
        root.GetProperty("kind").GetString().Should().Be("sev-snp");
        root.GetProperty("product").GetString().Should().Be("Milan");
        root.GetProperty("signing_key").GetString().Should().Be("vlek");
        root.GetProperty("measurement").GetString().Should().HaveLength(96);
        root.GetProperty("report_data").GetString().Should().HaveLength(128);
        root.GetProperty("vmpl").GetUInt32().Should().Be(1, "AWS's guest requested this report from VMPL 1 (byte 0x030)");
        root.GetProperty("errors").GetArrayLength().Should().Be(0);
        root.GetProperty("reported_tcb").GetString().Should().Be("4:0:24:217", "the report's TCB bytes 04 00 00 00 00 00 18 d9 in Milan's layout");
    }

    [Fact]
    public async Task Vmpl_is_printed_and_checked_against_the_expected_level()
    {
        string[] vlek = ["--evidence", Vector("test-vlek-report.bin"), "--cert", Vector("test-vlek.der"), "--at", "2025-06-01"];

        var (matching, matchingOut, _) = await Verify([.. vlek, "--vmpl", "1"]);
        var (other, otherOut, _) = await Verify([.. vlek, "--vmpl", "0"]);

        matching.Should().Be(0);
        matchingOut.Should().Contain("\nvmpl: 1\n");
        other.Should().Be(1);
        otherOut.Should().Contain("error: VMPL is 1, expected 0");
    }

    [Theory]
    [InlineData("4")]
    [InlineData("-1")]
    [InlineData("one")]
    public async Task Vmpl_outside_0_to_3_is_a_usage_error(string level)
    {
        var (exit, _, stderr) = await Verify("--evidence", Vector("test-vlek-report.bin"), "--vmpl", level);

        exit.Should().Be(2);
        stderr.Should().Be($"cvm-control verify: --vmpl must be 0, 1, 2 or 3, not \"{level}\"\n");
    }

    [Fact]
    public async Task A_tdx_quote_has_no_vmpl_to_print_or_to_expect()
    {
        var (plain, plainOut, _) = await Verify("--evidence", Vector("tdx_prod_quote_SPR_E4.dat"), "--at", "2026-01-01", "--json");
        var (expecting, expectingOut, _) = await Verify("--evidence", Vector("tdx_prod_quote_SPR_E4.dat"), "--at", "2026-01-01", "--vmpl", "0");

        plain.Should().Be(0);
        JsonDocument.Parse(plainOut).RootElement.TryGetProperty("vmpl", out _).Should().BeFalse();
        expecting.Should().Be(1);
        expectingOut.Should().Contain("error: VMPL 0 was expected, but a TDX quote has no VMPL");
    }

    [Theory]
    [InlineData("tdx_prod_quote_SPR_E4.dat", new string[0])]
    [InlineData("tdx_quote_4.dat", new[] { "--allow-debug" })]
    public async Task Offline_TDX_quotes_verify_to_the_pinned_Intel_root(string quote, string[] extra)
    {
        var (exit, stdout, _) = await Verify(["--evidence", Vector(quote), "--at", "2026-01-01", "--json", .. extra]);

        exit.Should().Be(0, stdout);
        var root = JsonDocument.Parse(stdout).RootElement;
        root.GetProperty("kind").GetString().Should().Be("tdx");
        root.GetProperty("product").ValueKind.Should().Be(JsonValueKind.Null);
        root.GetProperty("signing_key").GetString().Should().Be("pck");
    }

    [Fact]
    public async Task Offline_expired_VLEK_exits_1_and_prints_the_reason()
    {
        var (exit, stdout, _) = await Verify("--evidence", Vector("test-vlek-report.bin"), "--cert", Vector("test-vlek.der"), "--at", "2026-01-01T00:00:00Z");

        exit.Should().Be(1);
        stdout.Should().StartWith("NOT verified: sev-snp Milan, signed by VLEK").And.Contain("error: 'SEV-VLEK' expired at 2025-12-10T22:14:21Z");
    }

    [Fact]
    public async Task Offline_debug_report_exits_1_unless_debug_is_allowed()
    {
        var (refused, refusedOut, _) = await Verify("--evidence", Vector("attestation.bin"), "--cert", Vector("vcek.testcer"), "--json");
        var (allowed, _, _) = await Verify("--evidence", Vector("attestation.bin"), "--cert", Vector("vcek.testcer"), "--allow-debug");

        refused.Should().Be(1);
        JsonDocument.Parse(refusedOut).RootElement.GetProperty("errors")[0].GetString().Should().Contain("DEBUG");
        allowed.Should().Be(0);
    }

    [Fact]
    public async Task Offline_wrong_expected_report_data_exits_1()
    {
        var (exit, stdout, _) = await Verify("--evidence", Vector("attestation.bin"), "--cert", Vector("vcek.testcer"), "--allow-debug", "--expected-report-data", new string('0', 128));

        exit.Should().Be(1);
        stdout.Should().Contain("error: REPORT_DATA does not match the expected value");
    }

    [Fact]
    public async Task Every_reason_is_printed_not_just_the_first()
    {
        var (exit, stdout, _) = await Verify("--evidence", Vector("attestation.bin"), "--cert", Vector("vcek.testcer"), "--at", "2035-01-01", "--expected-measurement", new string('0', 96), "--json");

        exit.Should().Be(1);
        var errors = JsonDocument.Parse(stdout).RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetString()).ToList();
        errors.Should().Contain(e => e!.Contains("expired", StringComparison.Ordinal));
        errors.Should().Contain(e => e!.Contains("DEBUG", StringComparison.Ordinal));
        errors.Should().Contain(e => e!.StartsWith("MEASUREMENT does not match", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Garbage_evidence_exits_1_with_a_reason()
    {
        var path = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(path, [0xde, 0xad, 0xbe, 0xef]);
            var (exit, stdout, _) = await Verify("--evidence", path, "--json");

            exit.Should().Be(1);
            JsonDocument.Parse(stdout).RootElement.GetProperty("kind").ValueKind.Should().Be(JsonValueKind.Null);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(new string[0], "give exactly one of --url")]
    [InlineData(new[] { "--url", "https://127.0.0.1:9443", "--evidence", "x" }, "give exactly one of --url")]
    [InlineData(new[] { "--url", "http://127.0.0.1:9443" }, "--url must be https://HOST:PORT")]
    [InlineData(new[] { "--url", "https://127.0.0.1:9443", "--expected-report-data", "00" }, "--expected-report-data is for offline checks")]
    [InlineData(new[] { "--evidence", "/nonexistent/report.bin" }, "--evidence /nonexistent/report.bin:")]
    [InlineData(new[] { "--evidence", "VECTOR", "--expected-report-data", "zz" }, "--expected-report-data is not hex")]
    [InlineData(new[] { "--evidence", "VECTOR", "--expected-measurement", "00" }, "--expected-measurement must be 48 bytes")]
    [InlineData(new[] { "--evidence", "VECTOR", "--at", "yesterday" }, "--at \"yesterday\" is not an ISO 8601 time")]
    [InlineData(new[] { "--evidence", "VECTOR", "--cert", "VECTOR" }, "not a DER or PEM certificate")]
    [InlineData(new[] { "--evidence", "VECTOR", "--print-pin" }, "--print-pin needs --url")]
    [InlineData(new[] { "--evidence", "VECTOR", "--tcb-info", "VECTOR" }, "--tcb-info and --qe-identity go together: Intel's TCB status needs both")]
    [InlineData(new[] { "--evidence", "VECTOR", "--qe-identity", "VECTOR" }, "--tcb-info and --qe-identity go together")]
    [InlineData(new[] { "--evidence", "VECTOR", "--min-tcb-status", "OutOfDate" }, "--min-tcb-status and --allow-stale-collateral need --tcb-info and --qe-identity")]
    [InlineData(new[] { "--evidence", "VECTOR", "--allow-stale-collateral" }, "--min-tcb-status and --allow-stale-collateral need --tcb-info and --qe-identity")]
    [InlineData(new[] { "--evidence", "VECTOR", "--tcb-info", "VECTOR", "--qe-identity", "VECTOR", "--min-tcb-status", "Revoked" }, "--min-tcb-status \"Revoked\" is not one of UpToDate, SWHardeningNeeded,")]
    [InlineData(new[] { "--evidence", "VECTOR", "--tcb-info", "VECTOR", "--qe-identity", "VECTOR", "--min-tcb-status", "uptodate" }, "--min-tcb-status \"uptodate\" is not one of")]
    [InlineData(new[] { "--evidence", "VECTOR", "--tcb-info", "/nonexistent/tcb.json", "--qe-identity", "VECTOR" }, "--tcb-info /nonexistent/tcb.json:")]
    [InlineData(new[] { "--evidence", "VECTOR", "--expect-event", "app-id=00" }, "--expect-event needs --event-log FILE to find the events in")]
    [InlineData(new[] { "--evidence", "VECTOR", "--event-log", "VECTOR", "--expect-event", "app-id" }, "--expect-event \"app-id\" is not NAME=HEX")]
    [InlineData(new[] { "--evidence", "VECTOR", "--event-log", "VECTOR", "--expect-event", "=00" }, "--expect-event \"=00\" is not NAME=HEX")]
    [InlineData(new[] { "--evidence", "VECTOR", "--event-log", "VECTOR", "--expect-event", "app-id=xyz" }, "--expect-event app-id: the payload is not hex")]
    [InlineData(new[] { "--evidence", "VECTOR", "--expected-rtmr", "4=00" }, "--expected-rtmr \"4=00\" is not N=HEX with N from 0 to 3")]
    [InlineData(new[] { "--evidence", "VECTOR", "--expected-rtmr", "1=00" }, "--expected-rtmr 1: the value must be 48 bytes (96 hex digits)")]
    [InlineData(new[] { "--evidence", "VECTOR", "--expected-rtmr", "RTMR48", "--expected-rtmr", "RTMR48" }, "--expected-rtmr 2 is given twice")]
    [InlineData(new[] { "--evidence", "VECTOR", "--expected-mrtd", "00" }, "--expected-mrtd must be 48 bytes (96 hex digits)")]
    [InlineData(new[] { "--evidence", "VECTOR", "--min-tcb", "1:2:3" }, "--min-tcb \"1:2:3\" is not bl:tee:snp:ucode or bl:tee:snp:ucode:fmc, each from 0 to 255")]
    [InlineData(new[] { "--evidence", "VECTOR", "--event-log", "/nonexistent/ccel" }, "--event-log /nonexistent/ccel:")]
    public async Task Usage_errors_exit_2_with_one_line(string[] args, string message)
    {
        var (exit, stdout, stderr) = await Verify([.. args.Select(a => a switch
        {
            "VECTOR" => Vector("attestation.bin"),
            "RTMR48" => "2=" + new string('0', 96),
            _ => a,
        })]);

        exit.Should().Be(2);
        stdout.Should().BeEmpty();
        stderr.Should().StartWith("cvm-control verify: ").And.Contain(message);
        stderr.TrimEnd('\n').Should().NotContain("\n");
    }

    [Fact]
    public async Task An_event_log_over_4_MiB_is_a_usage_error()
    {
        using var dir = new TempDir();
        var path = dir.Combine("huge.log");
        await File.WriteAllBytesAsync(path, new byte[(4 << 20) + 1]);

        var (exit, _, stderr) = await Verify("--evidence", Vector("attestation.bin"), "--event-log", path);

        exit.Should().Be(2);
        stderr.Should().Be($"cvm-control verify: --event-log {path}: the file is larger than 4194304 bytes\n");
    }

    [Fact]
    public async Task Intel_collateral_judges_the_real_quote_OutOfDate_and_says_why()
    {
        var (exit, stdout, _) = await Verify("--evidence", Vector("tdx_quote_6.dat"), "--tcb-info", Vector("tcbInfo.json"), "--qe-identity", Vector("enclaveIdentity.json"), "--at", "2025-11-01");

        exit.Should().Be(1);
        stdout.Should().StartWith("NOT verified: tdx, signed by PCK")
            .And.Contain("tcb: OutOfDate (platform OutOfDate, TDX module UpToDate, QE UpToDate; FMSPC 00a06d080000, TCB date 2018-01-04T00:00:00Z, evaluation data number 17)\n")
            .And.Contain("advisories: none\n")
            .And.Contain("error: the TCB status is OutOfDate");
    }

    [Fact]
    public async Task Intel_collateral_with_OutOfDate_accepted_verifies_and_reports_the_tcb_in_json()
    {
        var (exit, stdout, _) = await Verify("--evidence", Vector("tdx_quote_6.dat"), "--tcb-info", Vector("tcbInfo.json"), "--qe-identity", Vector("enclaveIdentity.json"), "--at", "2025-11-01", "--min-tcb-status", "OutOfDate", "--json");

        exit.Should().Be(0, stdout);
        var tcb = JsonDocument.Parse(stdout).RootElement.GetProperty("tcb");
        tcb.EnumerateObject().Select(p => p.Name).Should().Equal("status", "platform_status", "tdx_module_status", "qe_status", "advisory_ids", "fmspc", "tcb_date", "tcb_evaluation_data_number");
        tcb.GetProperty("status").GetString().Should().Be("OutOfDate");
        tcb.GetProperty("tdx_module_status").GetString().Should().Be("UpToDate");
        tcb.GetProperty("advisory_ids").GetArrayLength().Should().Be(0);
        tcb.GetProperty("fmspc").GetString().Should().Be("00a06d080000");
    }

    [Fact]
    public async Task Trustees_CCEL_does_not_replay_to_the_quote_it_came_with_and_the_registers_are_named()
    {
        // A parse vector: its RTMR0 and RTMR1 events are not what tdx_quote_4.dat measured.
        var (exit, stdout, _) = await Verify("--evidence", Vector("tdx_quote_4.dat"), "--allow-debug", "--event-log", Vector("CCEL_data"), "--at", "2026-01-01", "--json");

        exit.Should().Be(1);
        var root = JsonDocument.Parse(stdout).RootElement;
        root.GetProperty("errors").EnumerateArray().Select(e => e.GetString()![..39]).Should().Equal(
            "RTMR0 does not match the event log: the",
            "RTMR1 does not match the event log: the");
        root.GetProperty("event_log").GetProperty("events").GetArrayLength().Should().Be(6);
    }

    [Fact]
    public async Task Help_lists_the_event_log_and_TCB_flags()
    {
        var (exit, stdout, _) = await Verify("--help");

        exit.Should().Be(0);
        foreach (var flag in new[] { "--event-log", "--expect-event", "--expected-rtmr", "--expected-mrtd", "--tcb-info", "--qe-identity", "--min-tcb-status", "--allow-stale-collateral", "--min-tcb" })
        {
            stdout.Should().Contain(flag);
        }
    }

    [Fact]
    public async Task An_unknown_verify_flag_is_a_usage_error()
    {
        var (exit, _, stderr) = await Verify("--evidence", Vector("attestation.bin"), "--frobnicate");

        exit.Should().Be(2);
        stderr.Should().Contain("--frobnicate");
    }
}
