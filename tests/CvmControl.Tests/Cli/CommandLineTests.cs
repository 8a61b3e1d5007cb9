using System.Net;
using CvmControl.Cli;
using Microsoft.Extensions.Logging;

namespace CvmControl.Tests.Cli;

public sealed class CommandLineTests
{
    private sealed class Run
    {
        public DaemonSettings? Settings { get; private set; }

        public StringWriter Out { get; } = new();

        public StringWriter Err { get; } = new();

        public async Task<int> Invoke(string[] args, Dictionary<string, string>? env = null)
        {
            env ??= [];
            return await CvmControlCommand.InvokeAsync(args, name => env.GetValueOrDefault(name), Out, Err, (settings, _) =>
            {
                Settings = settings;
                return Task.FromResult(0);
            });
        }
    }

    [Fact]
    public async Task Defaults_apply_when_neither_flag_nor_env_is_given()
    {
        var run = new Run();
        (await run.Invoke([])).Should().Be(0);
        run.Settings.Should().BeEquivalentTo(new DaemonSettings
        {
            Address = IPAddress.Any,
            Port = 9443,
            TlsCommonName = "cvm-control",
            LogLevel = LogLevel.Information,
            LogFormat = LogFormat.Json,
            RunDir = "/run/cvm",
            TsmDir = "/sys/kernel/config/tsm/report",
        });
    }

    [Fact]
    public async Task Env_vars_beat_defaults()
    {
        var run = new Run();
        await run.Invoke([], new()
        {
            ["CVM_CONTROL_ADDRESS"] = "127.0.0.1",
            ["CVM_CONTROL_PORT"] = "8443",
            ["CVM_CONTROL_TLS_CN"] = "vm.example",
            ["CVM_CONTROL_LOG_LEVEL"] = "debug",
            ["CVM_CONTROL_LOG_FORMAT"] = "text",
            ["CVM_CONTROL_RUN_DIR"] = "/tmp/cvm/",
        });
        run.Settings!.Address.Should().Be(IPAddress.Loopback);
        run.Settings.Port.Should().Be(8443);
        run.Settings.TlsCommonName.Should().Be("vm.example");
        run.Settings.LogLevel.Should().Be(LogLevel.Debug);
        run.Settings.LogFormat.Should().Be(LogFormat.Text);
        run.Settings.RunDir.Should().Be("/tmp/cvm");
    }

    [Fact]
    public async Task An_empty_env_var_counts_as_unset()
    {
        var run = new Run();
        await run.Invoke([], new() { ["CVM_CONTROL_PORT"] = "" });
        run.Settings!.Port.Should().Be(9443);
    }

    [Theory]
    [InlineData(new[] { "--port", "0" }, "invalid --port \"0\": must be a whole number from 1 to 65535")]
    [InlineData(new[] { "--port", "70000" }, "invalid --port \"70000\": must be a whole number from 1 to 65535")]
    [InlineData(new[] { "--port", "-1" }, "invalid --port \"-1\": must be a whole number from 1 to 65535")]
    [InlineData(new[] { "--log-level", "verbose" }, "invalid --log-level \"verbose\": must be debug, info, warn or error")]
    [InlineData(new[] { "--log-format", "xml" }, "invalid --log-format \"xml\": must be json or text")]
    [InlineData(new[] { "--tls-cn", "" }, "invalid --tls-cn \"\": must be a non-empty DNS name or IP address")]
    [InlineData(new[] { "--address", "example.com" }, "invalid --address \"example.com\": not an IP address")]
    [InlineData(new[] { "--run-dir", "relative/dir" }, "invalid --run-dir \"relative/dir\": must be an absolute, normalised path other than /")]
    [InlineData(new[] { "--run-dir", "/" }, "invalid --run-dir \"/\": must be an absolute, normalised path other than /")]
    [InlineData(new[] { "--run-dir", "/run/../etc" }, "invalid --run-dir \"/run/../etc\": must be an absolute, normalised path other than /")]
    [InlineData(new[] { "--run-dir", "//" }, "invalid --run-dir \"//\": must be an absolute, normalised path other than /")]
    [InlineData(new[] { "--tsm-dir", "sys/kernel/config/tsm/report" }, "invalid --tsm-dir \"sys/kernel/config/tsm/report\": must be an absolute, normalised path other than /")]
    [InlineData(new[] { "--tsm-dir", "/" }, "invalid --tsm-dir \"/\": must be an absolute, normalised path other than /")]
    [InlineData(new[] { "--tsm-dir", "/sys/kernel/config/tsm/../tsm/report" }, "invalid --tsm-dir \"/sys/kernel/config/tsm/../tsm/report\": must be an absolute, normalised path other than /")]
    [InlineData(new[] { "--ccel-path", "CCEL" }, "invalid --ccel-path \"CCEL\": must be an absolute, normalised file path")]
    [InlineData(new[] { "--ccel-path", "/sys/firmware/acpi/tables/data/" }, "invalid --ccel-path \"/sys/firmware/acpi/tables/data/\": must be an absolute, normalised file path")]
    [InlineData(new[] { "--ccel-path", "/sys/../tmp/CCEL" }, "invalid --ccel-path \"/sys/../tmp/CCEL\": must be an absolute, normalised file path")]
    [InlineData(new[] { "--address", "1" }, "invalid --address \"1\": not an IP address")]
    [InlineData(new[] { "--address", "127.1" }, "invalid --address \"127.1\": not an IP address")]
    public async Task Invalid_flag_prints_one_line_and_exits_2_without_starting(string[] args, string message)
    {
        var run = new Run();
        (await run.Invoke(args)).Should().Be(2);
        run.Err.ToString().Should().Be($"cvm-control: {message}\n");
        run.Settings.Should().BeNull();
    }

    [Fact]
    public async Task Invalid_env_var_names_the_variable_and_exits_2()
    {
        var run = new Run();
        (await run.Invoke([], new() { ["CVM_CONTROL_PORT"] = "abc" })).Should().Be(2);
        run.Err.ToString().Should().Be("cvm-control: invalid CVM_CONTROL_PORT \"abc\": must be a whole number from 1 to 65535\n");
        run.Settings.Should().BeNull();
    }

    [Fact]
    public async Task Tsm_dir_comes_from_the_flag_or_the_env_var_without_a_trailing_slash()
    {
        var run = new Run();
        await run.Invoke([], new() { ["CVM_CONTROL_TSM_DIR"] = "/tmp/tsm/report/" });
        run.Settings!.TsmDir.Should().Be("/tmp/tsm/report");

        await run.Invoke(["--tsm-dir", "/mnt/config/tsm/report"], new() { ["CVM_CONTROL_TSM_DIR"] = "/tmp/tsm/report" });
        run.Settings!.TsmDir.Should().Be("/mnt/config/tsm/report");
    }

    [Fact]
    public async Task Ccel_path_defaults_to_the_ACPI_table_and_comes_from_the_flag_or_the_env_var()
    {
        var run = new Run();
        await run.Invoke([]);
        run.Settings!.CcelPath.Should().Be("/sys/firmware/acpi/tables/data/CCEL");

        await run.Invoke([], new() { ["CVM_CONTROL_CCEL_PATH"] = "/tmp/ccel.bin" });
        run.Settings!.CcelPath.Should().Be("/tmp/ccel.bin");

        await run.Invoke(["--ccel-path", "/mnt/CCEL"], new() { ["CVM_CONTROL_CCEL_PATH"] = "/tmp/ccel.bin" });
        run.Settings!.CcelPath.Should().Be("/mnt/CCEL");
    }

    [Theory]
    [InlineData("30", 30_000)]
    [InlineData("30s", 30_000)]
    [InlineData("2m", 120_000)]
    [InlineData("500ms", 500)]
    [InlineData("1.5s", 1_500)]
    public async Task Device_timeout_accepts_seconds_and_unit_suffixes(string raw, int expectedMs)
    {
        var run = new Run();
        (await run.Invoke(["--device-timeout", raw])).Should().Be(0);
        run.Settings!.DeviceTimeout.Should().Be(TimeSpan.FromMilliseconds(expectedMs));
    }

    [Fact]
    public async Task Luks_cost_flags_default_to_cryptsetups_and_can_be_set_by_env()
    {
        var run = new Run();
        await run.Invoke([]);
        run.Settings!.LuksPbkdfMemoryKiB.Should().BeNull();
        run.Settings.LuksIterTimeMs.Should().BeNull();
        run.Settings.DeviceTimeout.Should().Be(TimeSpan.FromSeconds(30));

        await run.Invoke([], new() { ["CVM_CONTROL_LUKS_PBKDF_MEMORY"] = "65536", ["CVM_CONTROL_LUKS_ITER_TIME"] = "200", ["CVM_CONTROL_DEVICE_TIMEOUT"] = "5s" });
        run.Settings!.LuksPbkdfMemoryKiB.Should().Be(65536);
        run.Settings.LuksIterTimeMs.Should().Be(200);
        run.Settings.DeviceTimeout.Should().Be(TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData("--device-timeout", "0")]
    [InlineData("--device-timeout", "soon")]
    [InlineData("--luks-pbkdf-memory", "16")]
    [InlineData("--luks-iter-time", "0")]
    public async Task Invalid_volume_flags_exit_2(string flag, string value)
    {
        var run = new Run();
        (await run.Invoke([flag, value])).Should().Be(2);
        run.Err.ToString().Should().StartWith($"cvm-control: invalid {flag} \"{value}\": ");
    }

    [Fact]
    public async Task Unknown_flag_exits_2_with_one_line()
    {
        var run = new Run();
        (await run.Invoke(["--prot", "1"])).Should().Be(2);
        run.Err.ToString().TrimEnd('\n').Should().StartWith("cvm-control: ").And.NotContain("\n");
        run.Settings.Should().BeNull();
    }

    private const string Owner = "spiffe://example.org/owner";
    private const string Ops = "spiffe://example.org/ops/*";

    /// <summary>
    /// Every daemon flag: its env var as --help names it, its default as --help shows it, a flag value and
    /// an env value, the setting (as text) each gives, and what else the flag needs to be valid.
    /// </summary>
    private static readonly (string Flag, string Env, string Default, string FlagValue, string EnvValue, Func<DaemonSettings, string?> Setting, string FlagResult, string[] Needs)[] EveryFlag =
    [
        ("--address", "CVM_CONTROL_ADDRESS", "0.0.0.0", "::1", "127.0.0.1", s => s.Address.ToString(), "::1", []),
        ("--port", "CVM_CONTROL_PORT", "9443", "7443", "8443", s => s.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "7443", []),
        ("--tls-cn", "CVM_CONTROL_TLS_CN", "cvm-control", "flag.example", "env.example", s => s.TlsCommonName, "flag.example", []),
        ("--log-level", "CVM_CONTROL_LOG_LEVEL", "info", "warn", "debug", s => s.LogLevel.ToString(), nameof(LogLevel.Warning), []),
        ("--log-format", "CVM_CONTROL_LOG_FORMAT", "json", "text", "json", s => s.LogFormat.ToString(), nameof(LogFormat.Text), []),
        ("--run-dir", "CVM_CONTROL_RUN_DIR", "/run/cvm", "/tmp/flag", "/tmp/env", s => s.RunDir, "/tmp/flag", []),
        ("--device-timeout", "CVM_CONTROL_DEVICE_TIMEOUT", "30s", "2m", "5s", s => s.DeviceTimeout.ToString(), "00:02:00", []),
        ("--luks-pbkdf-memory", "CVM_CONTROL_LUKS_PBKDF_MEMORY", "cryptsetup's", "65536", "32768", s => s.LuksPbkdfMemoryKiB?.ToString(System.Globalization.CultureInfo.InvariantCulture), "65536", []),
        ("--luks-iter-time", "CVM_CONTROL_LUKS_ITER_TIME", "cryptsetup's", "200", "100", s => s.LuksIterTimeMs?.ToString(System.Globalization.CultureInfo.InvariantCulture), "200", []),
        ("--tsm-dir", "CVM_CONTROL_TSM_DIR", "/sys/kernel/config/tsm/report", "/tmp/tsm-flag", "/tmp/tsm-env", s => s.TsmDir, "/tmp/tsm-flag", []),
        ("--ccel-path", "CVM_CONTROL_CCEL_PATH", "/sys/firmware/acpi/tables/data/CCEL", "/tmp/ccel-flag", "/tmp/ccel-env", s => s.CcelPath, "/tmp/ccel-flag", []),
        ("--tls-cert", "CVM_CONTROL_TLS_CERT", "a self-signed certificate", "/tmp/flag.pem", "/tmp/env.pem", s => s.TlsCertFile, "/tmp/flag.pem", []),
        ("--tls-key", "CVM_CONTROL_TLS_KEY", "the key in --tls-cert", "/tmp/flag-key.pem", "/tmp/env-key.pem", s => s.TlsKeyFile, "/tmp/flag-key.pem", ["--tls-cert", "/tmp/cert.pem"]),
        ("--client-ca", "CVM_CONTROL_CLIENT_CA", "none", "/tmp/flag-ca.pem", "/tmp/env-ca.pem", s => s.ClientCaFile, "/tmp/flag-ca.pem", ["--allow-client", Owner]),
        ("--allow-client", "CVM_CONTROL_ALLOW_CLIENT, a comma-separated list", "none", Ops, Owner, s => string.Join(' ', s.AllowedClients), Ops, ["--client-ca", "/tmp/ca.pem"]),
        ("--allow-client-key", "CVM_CONTROL_ALLOW_CLIENT_KEY, a comma-separated list", "none", PinB, PinA, s => string.Join(' ', s.AllowedClientKeys), PinB, []),
        ("--unix-socket", "CVM_CONTROL_UNIX_SOCKET", "none", "/run/flag.sock", "/run/env.sock", s => s.UnixSocket, "/run/flag.sock", []),
        ("--unix-socket-full-api", "CVM_CONTROL_UNIX_SOCKET_FULL_API", "false", "true", "false", s => s.UnixSocketFullApi.ToString(), bool.TrueString, []),
        ("--cloud", "CVM_CONTROL_CLOUD", "auto", "gcp", "azure", s => s.Cloud?.ToString(), "Gcp", []),
    ];

    [Fact]
    public async Task Help_lists_every_flag_with_its_env_var_and_default_and_no_other()
    {
        var run = new Run();
        (await run.Invoke(["--help"])).Should().Be(0);
        var help = run.Out.ToString();
        foreach (var (flag, env, def, _, _, _, _, _) in EveryFlag)
        {
            help.Should().MatchRegex($@"(?m)^\s+{flag} <[\w|-]+>\s.*\[env: {System.Text.RegularExpressions.Regex.Escape(env)}\] \[default: {System.Text.RegularExpressions.Regex.Escape(def)}\]$");
        }
        help.Split('\n').Count(l => l.Contains("[env: CVM_CONTROL_", StringComparison.Ordinal)).Should().Be(EveryFlag.Length, "a new flag belongs in this table");
        run.Settings.Should().BeNull();
    }

    [Theory]
    [InlineData(new[] { "--cloud", "aws" }, null, "aws")]
    [InlineData(new[] { "--cloud", "gcp" }, "azure", "gcp")]
    [InlineData(new string[0], "azure", "azure")]
    [InlineData(new[] { "--cloud", "generic" }, null, "generic")]
    [InlineData(new[] { "--cloud", "auto" }, "aws", null)]
    [InlineData(new string[0], null, null)]
    public async Task Cloud_is_auto_unless_a_flag_or_env_var_names_one(string[] args, string? env, string? expected)
    {
        var run = new Run();
        (await run.Invoke(args, env is null ? null : new() { ["CVM_CONTROL_CLOUD"] = env })).Should().Be(0);
        run.Settings!.Cloud.Should().Be(expected is null ? null : CvmControl.Volumes.Devices.CloudNames.Parse(expected));
    }

    [Theory]
    [InlineData("AWS")]
    [InlineData("ec2")]
    [InlineData("")]
    public async Task An_unknown_cloud_exits_2_naming_the_choices(string value)
    {
        var run = new Run();
        (await run.Invoke(["--cloud", value])).Should().Be(2);
        run.Err.ToString().Should().Be($"cvm-control: invalid --cloud \"{value}\": must be auto, aws, gcp, azure or generic\n");
    }

    [Fact]
    public async Task Every_flag_beats_its_env_var()
    {
        foreach (var (flag, env, _, flagValue, envValue, setting, expected, needs) in EveryFlag)
        {
            var run = new Run();
            (await run.Invoke([flag, flagValue, .. needs], new() { [env.Split(',')[0]] = envValue })).Should().Be(0, "{0}: {1}", flag, run.Err);
            setting(run.Settings!).Should().Be(expected, flag);
        }
    }

    private const string PinA = "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    private const string PinB = "sha256//LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";

    [Fact]
    public async Task Tls_files_come_from_flags_or_env_vars_as_absolute_paths()
    {
        var run = new Run();
        await run.Invoke(["--tls-cert", "/etc/cvm/svid.pem", "--tls-key", "svid_key.pem"], new() { ["CVM_CONTROL_TLS_CERT"] = "/ignored.pem" });
        run.Settings!.TlsCertFile.Should().Be("/etc/cvm/svid.pem");
        run.Settings.TlsKeyFile.Should().Be(Path.Combine(Environment.CurrentDirectory, "svid_key.pem"));

        await run.Invoke([], new() { ["CVM_CONTROL_TLS_CERT"] = "/run/spiffe/svid.pem", ["CVM_CONTROL_TLS_KEY"] = "/run/spiffe/svid_key.pem" });
        run.Settings!.TlsCertFile.Should().Be("/run/spiffe/svid.pem");
        run.Settings.TlsKeyFile.Should().Be("/run/spiffe/svid_key.pem");
        run.Settings.Tls.Clients.Enabled.Should().BeFalse("client authentication is off by default");
    }

    [Fact]
    public async Task Allow_client_repeats_and_needs_a_client_ca()
    {
        var run = new Run();
        (await run.Invoke(["--client-ca", "/etc/cvm/bundle.pem", "--allow-client", "spiffe://example.org/owner", "--allow-client", "spiffe://example.org/ops/*", "--allow-client", "spiffe://example.org/owner"])).Should().Be(0);

        run.Settings!.AllowedClients.Select(p => p.ToString()).Should().Equal("spiffe://example.org/owner", "spiffe://example.org/ops/*");
        run.Settings.ClientCaFile.Should().Be("/etc/cvm/bundle.pem");
        run.Settings.Tls.Clients.Spiffe.Should().BeTrue();
    }

    [Fact]
    public async Task Allow_client_key_repeats_and_its_env_var_takes_a_list()
    {
        var run = new Run();
        await run.Invoke(["--allow-client-key", PinA, "--allow-client-key", PinB]);
        run.Settings!.AllowedClientKeys.Select(p => p.ToString()).Should().Equal(PinA, PinB);

        await run.Invoke([], new() { ["CVM_CONTROL_ALLOW_CLIENT_KEY"] = $"{PinA}, {PinB}" });
        run.Settings!.AllowedClientKeys.Select(p => p.ToString()).Should().Equal(PinA, PinB);

        await run.Invoke([], new() { ["CVM_CONTROL_CLIENT_CA"] = "/b.pem", ["CVM_CONTROL_ALLOW_CLIENT"] = "spiffe://example.org/a spiffe://example.org/b" });
        run.Settings!.AllowedClients.Should().HaveCount(2);
    }

    [Fact]
    public async Task A_repeatable_flag_replaces_its_whole_env_list()
    {
        var run = new Run();
        await run.Invoke(["--allow-client-key", PinB], new() { ["CVM_CONTROL_ALLOW_CLIENT_KEY"] = PinA });

        run.Settings!.AllowedClientKeys.Select(p => p.ToString()).Should().Equal(PinB);
    }

    [Theory]
    [InlineData(new[] { "--tls-key", "/k.pem" }, "--tls-key needs --tls-cert")]
    [InlineData(new[] { "--allow-client", "spiffe://example.org/owner" }, "--allow-client needs --client-ca, the trust bundle that client certificates must chain to")]
    [InlineData(new[] { "--client-ca", "/b.pem" }, "--client-ca needs at least one --allow-client naming who may connect")]
    [InlineData(new[] { "--client-ca", "/b.pem", "--allow-client", "spiffe://Example.org/owner" }, "invalid --allow-client \"spiffe://Example.org/owner\": not a SPIFFE ID: it has an uppercase letter ('E') in its trust domain; trust domains are lowercase")]
    [InlineData(new[] { "--client-ca", "/b.pem", "--allow-client", "spiffe://example.org/a/../b" }, "invalid --allow-client \"spiffe://example.org/a/../b\": not a SPIFFE ID: it has a '..' path segment")]
    [InlineData(new[] { "--client-ca", "/b.pem", "--allow-client", "spiffe://example.org/owner?x=1" }, "invalid --allow-client \"spiffe://example.org/owner?x=1\": not a SPIFFE ID: it has a query ('?')")]
    [InlineData(new[] { "--allow-client-key", "sha256//nope" }, "invalid --allow-client-key \"sha256//nope\": must be sha256// and the base64 SHA-256 of a public key (SubjectPublicKeyInfo), as curl --pinnedpubkey takes")]
    [InlineData(new[] { "--tls-cert", "" }, "invalid --tls-cert \"\": must be a file path")]
    public async Task Invalid_tls_settings_print_one_line_and_exit_2(string[] args, string message)
    {
        var run = new Run();
        (await run.Invoke(args)).Should().Be(2);
        run.Err.ToString().Should().Be($"cvm-control: {message}\n");
        run.Settings.Should().BeNull();
    }

    [Fact]
    public async Task An_invalid_entry_in_an_env_list_names_the_variable_and_the_entry()
    {
        var run = new Run();
        (await run.Invoke([], new() { ["CVM_CONTROL_ALLOW_CLIENT_KEY"] = $"{PinA},md5//x" })).Should().Be(2);
        run.Err.ToString().Should().StartWith("cvm-control: invalid CVM_CONTROL_ALLOW_CLIENT_KEY \"md5//x\": ");
    }

    [Fact]
    public async Task Unix_socket_takes_an_absolute_path_from_flag_or_env_and_is_off_by_default()
    {
        var run = new Run();
        await run.Invoke([]);
        run.Settings!.UnixSocket.Should().BeNull();
        run.Settings.UnixSocketFullApi.Should().BeFalse();

        await run.Invoke(["--unix-socket", "/run/cvm-control/api.sock"]);
        run.Settings!.UnixSocket.Should().Be("/run/cvm-control/api.sock");

        await run.Invoke([], new() { ["CVM_CONTROL_UNIX_SOCKET"] = "/run/x.sock" });
        run.Settings!.UnixSocket.Should().Be("/run/x.sock");
    }

    [Theory]
    [InlineData(new[] { "--unix-socket-full-api" }, null, true)]
    [InlineData(new[] { "--unix-socket-full-api", "true" }, null, true)]
    [InlineData(new[] { "--unix-socket-full-api", "false" }, "true", false)]
    [InlineData(new string[0], "true", true)]
    [InlineData(new string[0], "false", false)]
    public async Task Unix_socket_full_api_is_a_switch_that_also_takes_true_or_false(string[] args, string? env, bool expected)
    {
        var run = new Run();
        (await run.Invoke(args, env is null ? null : new() { ["CVM_CONTROL_UNIX_SOCKET_FULL_API"] = env })).Should().Be(0);
        run.Settings!.UnixSocketFullApi.Should().Be(expected);
    }

    [Theory]
    [InlineData(new[] { "--unix-socket", "api.sock" }, "invalid --unix-socket \"api.sock\": must be an absolute, normalised file path of at most 107 bytes")]
    [InlineData(new[] { "--unix-socket", "/run/cvm/" }, "invalid --unix-socket \"/run/cvm/\": must be an absolute, normalised file path of at most 107 bytes")]
    [InlineData(new[] { "--unix-socket-full-api", "yes" }, "invalid --unix-socket-full-api \"yes\": must be true or false, or the flag alone")]
    public async Task Invalid_unix_socket_settings_exit_2_with_one_line(string[] args, string expected)
    {
        var run = new Run();
        (await run.Invoke(args)).Should().Be(2);
        run.Err.ToString().Should().Be($"cvm-control: {expected}\n");
    }

    [Fact]
    public async Task A_unix_socket_path_longer_than_sun_path_is_refused()
    {
        var run = new Run();
        (await run.Invoke(["--unix-socket", "/" + new string('a', 107)])).Should().Be(2);
        (await run.Invoke(["--unix-socket", "/" + new string('a', 106)])).Should().Be(0);
    }

    [Fact]
    public async Task Version_prints_the_version()
    {
        var run = new Run();
        (await run.Invoke(["--version"])).Should().Be(0);
        run.Out.ToString().Should().MatchRegex(@"^\d+\.\d+\.\d+");
        run.Settings.Should().BeNull();
    }
}
