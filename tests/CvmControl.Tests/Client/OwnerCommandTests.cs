using System.Net;
using System.Text;
using System.Text.Json;
using CvmControl.Attestation.Verification.Snp;
using CvmControl.Identity;
using CvmControl.OS;
using CvmControl.Tools;
using CvmControl.Tests.Attestation.Fakes;
using CvmControl.Tests.Fakes;
using CvmControl.Tests.Http;
using CvmControl.Tests.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace CvmControl.Tests.Client;

/// <summary>
/// The owner commands end to end: the real daemon on loopback HTTPS, its evidence from a fake
/// configfs-tsm whose "PSP" is a fake AMD signing whatever report data the daemon writes, and the
/// client as the binary runs it, with a stepped clock in place of sleeps.
/// </summary>
public sealed class OwnerCommandTests : IAsyncLifetime
{
    private const string Passphrase = "correct horse battery staple";

    private readonly FakeSnpReport _amd = new("Genoa");
    private readonly TempDir _files = new();
    private readonly List<LoopbackDaemon> _daemons = [];
    private LoopbackDaemon _daemon = null!;

    public async Task InitializeAsync() => _daemon = await StartDaemon();

    public async Task DisposeAsync()
    {
        foreach (var daemon in _daemons)
        {
            await daemon.DisposeAsync();
        }
        _amd.Dispose();
        _files.Dispose();
    }

    private async Task<LoopbackDaemon> StartDaemon(FakeTsm? tsm = null, Func<CvmControl.Cli.DaemonSettings, CvmControl.Cli.DaemonSettings>? configure = null)
    {
        var daemon = await LoopbackDaemon.StartAsync(tsm ?? new FakeTsm
        {
            Provider = "sev_guest",
            Outblob = inblob => _amd.Create(inblob),
            Auxblob = _ => FakeSnpReport.CertificateTable(true, (SnpCertificateTable.Vcek, _amd.Vcek.RawData)),
        }, configure);
        _daemons.Add(daemon);
        return daemon;
    }

    private OwnerClient Client(bool terminal = false) => new(_amd.Anchors) { Terminal = terminal };

    private static string Url(LoopbackDaemon daemon) => daemon.Url.GetLeftPart(UriPartial.Authority);

    private string BootstrapFile(string volumeJson = $"\"passphrase_file\":\"data.pass\"")
    {
        OwnerClient.WriteFile(_files, "data.pass", Passphrase + "\n");
        return OwnerClient.WriteFile(_files, "bootstrap.json", "{\"user_id\":\"alice\",\"volumes\":{\"data\":{\"volume_id\":\"vol-0aaa111\"," + volumeJson + "}}}");
    }

    private static HttpClient Https(LoopbackDaemon daemon) => TlsClient.Create(daemon.Url);

    [Fact]
    public async Task Bootstrap_attests_sends_over_the_attested_key_and_follows_the_volume_to_completion()
    {
        var request = BootstrapFile();
        _daemon.Volumes.Hold("data");
        var client = Client();

        var exit = await client.Run(["bootstrap", "--url", Url(_daemon), "--request", request, "--expected-measurement", Convert.ToHexStringLower(FakeSnpReport.Measurement)],
            beforeStep: () => _daemon.Volumes.Release("data"));

        client.Stderr.Should().BeEmpty();
        exit.Should().Be(0);
        var events = client.Events;
        events.Select(e => e.GetProperty("event").GetString()).Should().StartWith(["attested", "accepted", "progress"]).And.EndWith(["progress", "done"]);
        var certificate = _daemon.App.Services.GetRequiredService<ServerIdentity>().Current.Certificate;
        var pin = $"sha256//{Convert.ToBase64String(CvmControl.Attestation.AttestationBinding.SpkiSha256(certificate))}";
        events[0].GetProperty("pinned_pubkey").GetString().Should().Be(pin);
        events[0].GetProperty("attestation").GetProperty("verified").GetBoolean().Should().BeTrue();
        events[0].GetProperty("attestation").GetProperty("product").GetString().Should().Be("Genoa");
        events[1].GetProperty("operation").GetString().Should().Be("bootstrap");
        events[2].GetProperty("status").GetString().Should().Be("in_progress", "the volume was held when the client first looked");
        events[^2].GetProperty("status").GetString().Should().Be("completed");
        events[^1].GetProperty("exit_code").GetInt32().Should().Be(0);
        _daemon.Volumes.BootstrappedWith["data"].Should().Be(Passphrase, "the file's final line break is not part of the passphrase");
        client.Clock.Polls.Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task Through_a_TLS_terminating_proxy_the_client_refuses_before_any_secret_is_sent()
    {
        var request = BootstrapFile("\"passphrase\":\"" + Passphrase + "\"");
        await using var proxy = new TlsTerminatingProxy(_daemon.Url);
        var client = Client();

        var exit = await client.Run(["bootstrap", "--url", proxy.Url.GetLeftPart(UriPartial.Authority), "--request", request]);

        exit.Should().Be(3);
        var refused = client.EventsOf("refused").Should().ContainSingle().Subject;
        refused.GetProperty("attestation").GetProperty("errors").EnumerateArray().Select(e => e.GetString())
            .Should().Contain(e => e!.Contains("something between client and daemon terminates TLS"));
        client.EventsOf("done").Single().GetProperty("error").GetString().Should().Be("attestation refused");
        proxy.PlaintextText.Should().StartWith("GET /api/v1/attestation?nonce=", "the proxy saw the attestation request, which holds no secret")
            .And.NotContain("POST").And.NotContain(Passphrase).And.NotContain("content-length", "no request carried a body");
        proxy.Connections.Should().Be(1);
        _daemon.Volumes.Calls.Should().BeEmpty();
        (await Https(_daemon).DaemonStatus()).Should().Be("bootstrap");
    }

    [Fact]
    public async Task A_later_connection_that_shows_another_key_is_refused_at_the_handshake_and_nothing_is_sent_on_it()
    {
        var request = BootstrapFile("\"passphrase\":\"" + Passphrase + "\"");
        // Attestation passes through untouched; the proxy steps in from the second connection on.
        await using var proxy = new TlsTerminatingProxy(_daemon.Url) { PassThroughConnections = 1 };
        var client = Client();

        var exit = await client.Run(["bootstrap", "--url", proxy.Url.GetLeftPart(UriPartial.Authority), "--request", request]);

        exit.Should().Be(3);
        client.EventsOf("attested").Should().ContainSingle();
        var done = client.EventsOf("done").Single();
        done.GetProperty("error").GetString().Should().Be("the daemon's key changed");
        done.GetProperty("detail").GetString().Should().Contain(TestPki.PinOf(proxy.Certificate)).And.Contain("refused before anything was sent");
        proxy.Connections.Should().Be(2);
        proxy.Plaintext.Should().BeEmpty("the client refused the proxy's key inside the handshake");
        _daemon.Volumes.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task Evidence_that_fails_an_expectation_exits_3_and_sends_nothing()
    {
        var request = BootstrapFile();
        var client = Client();

        var exit = await client.Run(["bootstrap", "--url", Url(_daemon), "--request", request, "--expected-measurement", new string('a', 96)]);

        exit.Should().Be(3);
        client.EventsOf("refused").Single().GetProperty("attestation").GetProperty("errors")[0].GetString().Should().StartWith("MEASUREMENT does not match");
        _daemon.Volumes.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task A_daemon_without_a_TEE_is_refused_unless_attestation_is_skipped_and_then_a_warning_is_printed()
    {
        var daemon = await StartDaemon(FakeTsm.Absent());
        var request = BootstrapFile();

        var refusedClient = Client();
        var refused = await refusedClient.Run(["bootstrap", "--url", Url(daemon), "--request", request]);
        var skipping = Client();
        var skipped = await skipping.Run(["bootstrap", "--url", Url(daemon), "--request", request, "--insecure-skip-attestation"]);

        refused.Should().Be(3);
        refusedClient.EventsOf("refused").Single().GetProperty("attestation").GetProperty("errors")[0].GetString().Should().Contain("501");
        refusedClient.Stderr.Should().BeEmpty();
        skipped.Should().Be(0);
        skipping.Stderr.Should().Contain("warning: --insecure-skip-attestation: the daemon is NOT attested");
        var certificate = daemon.App.Services.GetRequiredService<ServerIdentity>().Current.Certificate;
        skipping.EventsOf("attestation_skipped").Single().GetProperty("pinned_pubkey").GetString()
            .Should().Be($"sha256//{Convert.ToBase64String(CvmControl.Attestation.AttestationBinding.SpkiSha256(certificate))}");
        daemon.Volumes.BootstrappedWith["data"].Should().Be(Passphrase);
    }

    [Fact]
    public async Task Nothing_listening_exits_4()
    {
        var request = BootstrapFile();
        var closed = $"https://127.0.0.1:{FreePort()}";
        var client = Client();
        var statusClient = Client();

        var exit = await client.Run(["bootstrap", "--url", closed, "--request", request]);
        var statusExit = await statusClient.Run(["status", "--url", closed]);

        exit.Should().Be(4);
        client.EventsOf("done").Single().GetProperty("detail").GetString().Should().StartWith("cannot fetch evidence from");
        statusExit.Should().Be(4);
        statusClient.EventsOf("done").Single().GetProperty("error").GetString().Should().Be("unreachable");
    }

    [Fact]
    public async Task An_operation_that_does_not_end_in_time_exits_4_and_says_where_it_was()
    {
        var request = BootstrapFile();
        _daemon.Volumes.Hold("data");
        var client = Client();

        var exit = await client.Run(["bootstrap", "--url", Url(_daemon), "--request", request, "--timeout", "5s"]);

        exit.Should().Be(4);
        var done = client.EventsOf("done").Single();
        done.GetProperty("error").GetString().Should().Be("timed out");
        done.GetProperty("detail").GetString().Should().Contain("no end within --timeout 00:00:05").And.Contain("in_progress when last read");
        client.Clock.Polls.Should().BeGreaterThanOrEqualTo(5);
        _daemon.Volumes.Release("data");
    }

    [Fact]
    public async Task A_failed_volume_exits_1_with_the_daemons_error()
    {
        var request = BootstrapFile();
        _daemon.Volumes.Fail("data", "luksFormat failed", "device busy");
        var client = Client();

        var exit = await client.Run(["bootstrap", "--url", Url(_daemon), "--request", request]);

        exit.Should().Be(1);
        var done = client.EventsOf("done").Single();
        done.GetProperty("status").GetString().Should().Be("failed");
        done.GetProperty("error").GetString().Should().Be("one or more volumes failed");
        done.GetProperty("detail").GetString().Should().Be("data: luksFormat failed");
        done.GetProperty("volumes").GetProperty("data").GetProperty("detail").GetString().Should().Be("device busy");
    }

    [Fact]
    public async Task A_request_the_daemon_refuses_exits_1_with_its_reply()
    {
        var request = OwnerClient.WriteFile(_files, "bad.json", """{"user_id":"alice","volumes":{"data":{"volume_id":"../etc","passphrase":"x"}}}""");
        var client = Client();

        var exit = await client.Run(["bootstrap", "--url", Url(_daemon), "--request", request]);

        exit.Should().Be(1);
        var done = client.EventsOf("done").Single();
        done.GetProperty("error").GetString().Should().Be("request refused");
        done.GetProperty("detail").GetString().Should().StartWith("400 volumes.data.volume_id");
    }

    [Fact]
    public async Task An_identical_bootstrap_after_success_is_done_at_once()
    {
        var request = BootstrapFile();
        await Client().Run(["bootstrap", "--url", Url(_daemon), "--request", request]);
        var again = Client();

        var exit = await again.Run(["bootstrap", "--url", Url(_daemon), "--request", request]);

        exit.Should().Be(0);
        again.EventsOf("accepted").Single().GetProperty("status").GetString().Should().Be("ready");
        again.EventsOf("progress").Should().BeEmpty();
        _daemon.Volumes.Calls.Where(c => c.StartsWith("bootstrap", StringComparison.Ordinal)).Should().ContainSingle();
    }

    [Fact]
    public async Task The_request_may_come_from_stdin_with_a_passphrase_from_the_clients_environment()
    {
        var client = Client();
        client.Stdin = Encoding.UTF8.GetBytes("""{"user_id":"alice","volumes":{"data":{"volume_id":"vol-0aaa111","passphrase_env":"DATA_PASSPHRASE"}}}""");
        client.Environment["DATA_PASSPHRASE"] = Passphrase;

        var exit = await client.Run(["bootstrap", "--url", Url(_daemon), "--request", "-"]);

        exit.Should().Be(0);
        client.Stderr.Should().BeEmpty("stdin has no mode to warn about");
        _daemon.Volumes.BootstrappedWith["data"].Should().Be(Passphrase);
    }

    [Fact]
    public async Task Request_and_passphrase_files_that_others_can_read_are_warned_about()
    {
        var request = BootstrapFile();
        File.SetUnixFileMode(request, (UnixFileMode)0b110_100_100);
        File.SetUnixFileMode(_files.Combine("data.pass"), (UnixFileMode)0b110_100_000);
        var client = Client();

        var exit = await client.Run(["bootstrap", "--url", Url(_daemon), "--request", request]);

        exit.Should().Be(0);
        client.Stderr.Should().Be(
            $"cvm-control bootstrap: warning: the request file {request} is readable by group or others (mode 0644); it holds secrets: chmod 600 it\n" +
            $"cvm-control bootstrap: warning: volumes.data.passphrase_file {_files.Combine("data.pass")} is readable by group or others (mode 0640); it holds secrets: chmod 600 it\n");
    }

    [Fact]
    public async Task Shutdown_attests_then_powers_off_with_the_user_id_and_sees_the_daemon_shutting_down()
    {
        await Client().Run(["bootstrap", "--url", Url(_daemon), "--request", BootstrapFile()]);
        var wrong = Client();
        var client = Client();

        var wrongExit = await wrong.Run(["shutdown", "--url", Url(_daemon), "--user-id", "mallory"]);
        var exit = await client.Run(["shutdown", "--url", Url(_daemon), "--user-id", "alice", "--reboot"]);

        wrongExit.Should().Be(1);
        wrong.EventsOf("done").Single().GetProperty("detail").GetString().Should().Be("401 user_id does not match");
        exit.Should().Be(0);
        client.Events.Select(e => e.GetProperty("event").GetString()).Should().Equal("attested", "accepted", "done");
        client.EventsOf("done").Single().GetProperty("status").GetString().Should().Be("shutdown");
        _daemon.Power.Requests.Should().Equal(PowerAction.Reboot);
    }

    [Fact]
    public async Task Status_needs_no_attestation_and_shows_the_daemon_and_both_operations()
    {
        var daemon = await StartDaemon(FakeTsm.Absent());
        var client = Client();

        var exit = await client.Run(["status", "--url", Url(daemon)]);

        exit.Should().Be(0);
        client.Stderr.Should().BeEmpty();
        var status = client.EventsOf("status").Single();
        status.GetProperty("status").GetString().Should().Be("bootstrap");
        status.GetProperty("bootstrap").GetProperty("status").GetString().Should().Be("idle");
        status.GetProperty("passphrase").GetProperty("status").GetString().Should().Be("idle");
        status.TryGetProperty("attestation", out _).Should().BeFalse();
        daemon.Tsm.Inblobs.Should().BeEmpty("status asks for no evidence");
    }

    [Fact]
    public async Task Status_wait_follows_a_running_bootstrap_to_its_end()
    {
        _daemon.Volumes.Hold("data");
        using var http = Https(_daemon);
        await (await http.PostJson("/api/v1/bootstrap", "{\"user_id\":\"alice\",\"volumes\":{\"data\":{\"volume_id\":\"vol-0aaa111\",\"passphrase\":\"" + Passphrase + "\"}}}")).ShouldBe(HttpStatusCode.Accepted);
        var client = Client();

        var exit = await client.Run(["status", "--url", Url(_daemon), "--wait"], beforeStep: () => _daemon.Volumes.Release("data"));

        exit.Should().Be(0);
        var statuses = client.EventsOf("status").ToList();
        statuses[0].GetProperty("bootstrap").GetProperty("status").GetString().Should().Be("in_progress");
        statuses[^1].GetProperty("status").GetString().Should().Be("ready");
        statuses[^1].GetProperty("bootstrap").GetProperty("status").GetString().Should().Be("completed");
    }

    [Fact]
    public async Task Status_presents_a_client_certificate_to_a_daemon_that_requires_one()
    {
        using var owner = TestPki.SelfSignedClient("owner");
        var cert = OwnerClient.WriteFile(_files, "owner.pem", TestPki.CertificatePem(owner));
        var key = OwnerClient.WriteFile(_files, "owner.key", TestPki.Sec1Pem(owner));
        var daemon = await StartDaemon(configure: s => s with { AllowedClientKeys = [KeyPin.Of(owner)] });
        var with = Client();
        var without = Client();

        var exit = await with.Run(["status", "--url", Url(daemon), "--client-cert", cert, "--client-key", key]);
        var refused = await without.Run(["status", "--url", Url(daemon)]);

        exit.Should().Be(0);
        refused.Should().Be(4, "the daemon refuses the handshake");
    }

    [Fact]
    public async Task Bootstrap_presents_the_client_certificate_for_attestation_and_the_request()
    {
        using var owner = TestPki.SelfSignedClient("owner");
        var cert = OwnerClient.WriteFile(_files, "owner.pem", TestPki.CertificatePem(owner) + TestPki.Sec1Pem(owner));
        var daemon = await StartDaemon(configure: s => s with { AllowedClientKeys = [KeyPin.Of(owner)] });
        var client = Client();

        var exit = await client.Run(["bootstrap", "--url", Url(daemon), "--request", BootstrapFile(), "--client-cert", cert]);

        exit.Should().Be(0);
        daemon.Volumes.BootstrappedWith["data"].Should().Be(Passphrase);
    }

    [Fact]
    public async Task On_a_terminal_each_volume_gets_a_line_that_is_redrawn_in_place()
    {
        var request = BootstrapFile();
        _daemon.Volumes.Hold("data");
        var client = Client(terminal: true);

        var exit = await client.Run(["bootstrap", "--url", Url(_daemon), "--request", request], beforeStep: () => _daemon.Volumes.Release("data"));

        exit.Should().Be(0);
        var text = client.Stdout;
        text.Should().Contain($"{Url(_daemon)}  attested: sev-snp Genoa, signed by VCEK, key sha256//")
            .And.Contain($"{Url(_daemon)}  bootstrap accepted")
            .And.Contain($"{Url(_daemon)}  data  in_progress  luksFormat\n", "the daemon reports the volume's step")
            .And.Contain("\u001b[1A\r\u001b[J", "the live line is redrawn in place")
            .And.EndWith($"{Url(_daemon)}  bootstrap completed\n{Url(_daemon)}  done: completed (exit 0)\n");
        text.Should().NotContain("{\"", "a person gets lines, not JSON");
    }

    [Fact]
    public async Task A_revoking_rotation_follows_the_steps_and_ends_with_the_revoked_slots_and_only_the_new_passphrase()
    {
        (await Client().Run(["bootstrap", "--url", Url(_daemon), "--request", BootstrapFile()])).Should().Be(0);
        OwnerClient.WriteFile(_files, "new.pass", "the new passphrase\n");
        var request = OwnerClient.WriteFile(_files, "rotate.json",
            """{"volumes":{"data":{"old_passphrase_file":"data.pass","new_passphrase_file":"new.pass","revoke_old":true}}}""");
        _daemon.Volumes.Hold("data");
        var client = Client();

        // The first step waits until the add is under way (the next poll sees it), the second releases it.
        var steps = 0;
        var exit = await client.Run(["rotate", "--url", Url(_daemon), "--request", request], beforeStep: () =>
        {
            if (steps++ == 0)
            {
                SpinWait.SpinUntil(() => _daemon.Volumes.Calls.Contains("add data"), TimeSpan.FromSeconds(20)).Should().BeTrue("the add starts");
            }
            else
            {
                _daemon.Volumes.Release("data");
            }
        });

        exit.Should().Be(0, client.Stderr);
        var events = client.Events;
        events.Should().Contain(e => e.GetProperty("event").GetString() == "progress"
            && e.GetProperty("volumes").GetProperty("data").GetProperty("step").GetString() == "luksAddKey", "the daemon's step reaches the owner");
        events[^2].GetProperty("volumes").GetProperty("data").GetProperty("revoked_slots").EnumerateArray().Select(s => s.GetInt32()).Should().Equal(0);
        _daemon.Volumes.Unlocks("data", "the new passphrase").Should().BeTrue();
        _daemon.Volumes.Unlocks("data", Passphrase).Should().BeFalse();
    }

    [Fact]
    public async Task On_a_terminal_a_revoking_rotation_ends_with_the_revoked_key_slots()
    {
        (await Client().Run(["bootstrap", "--url", Url(_daemon), "--request", BootstrapFile()])).Should().Be(0);
        OwnerClient.WriteFile(_files, "new.pass", "the new passphrase\n");
        var request = OwnerClient.WriteFile(_files, "rotate.json",
            """{"volumes":{"data":{"old_passphrase_file":"data.pass","new_passphrase_file":"new.pass","revoke_old":true}}}""");
        var client = Client(terminal: true);

        (await client.Run(["rotate", "--url", Url(_daemon), "--request", request])).Should().Be(0);

        client.Stdout.Should().Contain("data  ok  revoked key slots: 0");
    }

    [Fact]
    public async Task Json_on_a_terminal_prints_objects_instead_of_lines()
    {
        var client = Client(terminal: true);

        var exit = await client.Run(["status", "--url", Url(_daemon), "--json"]);

        exit.Should().Be(0);
        client.Stdout.Should().NotContain("\u001b");
        client.Events.Select(e => e.GetProperty("event").GetString()).Should().Equal("status", "done");
    }

    [Fact]
    public async Task A_fleet_runs_every_target_and_exits_0_only_when_all_succeeded()
    {
        var second = await StartDaemon();
        var targets = OwnerClient.WriteFile(_files, "targets", $"# the fleet\n{Url(_daemon)}\n\n{Url(second)}\n");
        var client = Client();

        var exit = await client.Run(["bootstrap", "--targets", targets, "--request", BootstrapFile()]);

        exit.Should().Be(0);
        client.EventsOf("done").Select(e => e.GetProperty("target").GetString()).Should().BeEquivalentTo([Url(_daemon), Url(second)]);
        var summary = client.Events[^1];
        summary.GetProperty("event").GetString().Should().Be("summary");
        summary.GetProperty("succeeded").GetInt32().Should().Be(2);
        summary.GetProperty("failed").GetInt32().Should().Be(0);
        summary.GetProperty("exit_code").GetInt32().Should().Be(0);
        second.Volumes.BootstrappedWith["data"].Should().Be(Passphrase);
    }

    [Fact]
    public async Task A_mixed_fleet_exits_with_the_most_serious_failure_and_prints_a_table_on_a_terminal()
    {
        var request = BootstrapFile();
        await using var proxy = new TlsTerminatingProxy(_daemon.Url);
        var good = await StartDaemon();
        var closed = $"https://127.0.0.1:{FreePort()}";
        var unreachableOnly = Client();
        var mixed = Client(terminal: true);

        var unreachableExit = await unreachableOnly.Run(["bootstrap", "--url", Url(good), "--url", closed, "--request", request]);
        var mixedExit = await mixed.Run(["bootstrap", "--url", closed, "--url", proxy.Url.GetLeftPart(UriPartial.Authority), "--url", Url(good), "--request", request]);

        unreachableExit.Should().Be(4, "one target succeeded and one was unreachable");
        unreachableOnly.Events[^1].GetProperty("exit_code").GetInt32().Should().Be(4);
        mixedExit.Should().Be(3, "a refused attestation outranks an unreachable target");
        var table = mixed.Stdout[mixed.Stdout.LastIndexOf("TARGET", StringComparison.Ordinal)..].Split('\n');
        table[0].Should().MatchRegex("^TARGET +EXIT  OUTCOME +DETAIL$");
        table[1].Should().MatchRegex($"^{closed} +4  unreachable +cannot fetch evidence");
        table[2].Should().MatchRegex($"^{proxy.Url.GetLeftPart(UriPartial.Authority)} +3  attestation refused +");
        table[3].Should().MatchRegex($"^{Url(good)} +0  completed *$");
        table[4].Should().Be("1 of 3 targets succeeded; exit 3");
    }

    [Fact]
    public async Task At_most_parallel_targets_run_at_once()
    {
        var daemons = new[] { _daemon, await StartDaemon(), await StartDaemon() };
        foreach (var daemon in daemons)
        {
            daemon.Volumes.Hold("data");
        }
        var client = Client();
        var mostBegun = 0;
        var stepsWithTwoRunning = 0;
        var released = false;

        var exit = await client.Run(
            ["bootstrap", "--url", Url(daemons[0]), "--url", Url(daemons[1]), "--url", Url(daemons[2]), "--request", BootstrapFile(), "--parallel", "2"],
            beforeStep: () =>
            {
                if (released)
                {
                    return;
                }
                var begun = daemons.Count(d => !d.Volumes.Calls.IsEmpty);
                mostBegun = Math.Max(mostBegun, begun);
                // Two targets hold their slots, polling; give a third ample chance to begin, then let all go.
                if (begun >= 2 && ++stepsWithTwoRunning >= 5)
                {
                    released = true;
                    foreach (var daemon in daemons)
                    {
                        daemon.Volumes.Release("data");
                    }
                }
            });

        exit.Should().Be(0, client.Stdout[^Math.Min(1500, client.Stdout.Length)..]);
        released.Should().BeTrue();
        mostBegun.Should().Be(2, "the third target waits for a free slot");
        daemons.Should().OnlyContain(d => d.Volumes.BootstrappedWith["data"] == Passphrase);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
