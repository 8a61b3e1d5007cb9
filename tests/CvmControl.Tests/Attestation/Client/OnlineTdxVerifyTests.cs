using System.Text.Json;
using CvmControl.Attestation.Client;
using CvmControl.Cli;
using CvmControl.Tests.Attestation.Fakes;
using CvmControl.Tests.Fakes;
using CvmControl.Tests.Http;

namespace CvmControl.Tests.Attestation.Client;

/// <summary>
/// <c>cvm-control verify --url</c> against a TDX guest: the real daemon on loopback HTTPS, quotes
/// from the fake Intel over whatever report data the daemon writes, and a CCEL in the fake machine
/// root whose events replay to the RTMRs those quotes carry.
/// </summary>
public sealed class OnlineTdxVerifyTests : IAsyncLifetime
{
    private readonly FakeIntel _intel = new();
    private readonly SyntheticEventLog _log = SyntheticEventLog.Dstack();
    private readonly TempDir _files = new();
    private byte[][] _quotedRtmrs = null!;
    private LoopbackDaemon _daemon = null!;

    public async Task InitializeAsync()
    {
        _quotedRtmrs = _log.Rtmrs();
        var tsm = new FakeTsm
        {
            Provider = "tdx_guest",
            Outblob = inblob => _intel.Quote(new FakeQuoteSpec { ReportData = inblob, Rtmrs = _quotedRtmrs }, out _),
        };
        _daemon = await LoopbackDaemon.StartAsync(tsm);
        _daemon.Root.Ccel(_log.Ccel());
    }

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        _intel.Dispose();
        _files.Dispose();
    }

    private async Task<(int Exit, JsonElement Json)> Verify(params string[] extra)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await CvmControlCommand.InvokeAsync(
            ["verify", "--url", _daemon.Url.GetLeftPart(UriPartial.Authority), "--json", .. extra],
            _ => null,
            stdout,
            stderr,
            (_, _) => throw new InvalidOperationException("the daemon must not start"),
            () => new VerifyRunner(_intel.Anchors, TimeProvider.System, new AttestationFetcher(TimeSpan.FromSeconds(20))));
        stderr.ToString().Should().BeEmpty();
        return (exit, JsonDocument.Parse(stdout.ToString()).RootElement.Clone());
    }

    [Fact]
    public async Task The_daemons_CCEL_replays_against_its_quote()
    {
        var (exit, json) = await Verify("--expected-rtmr", $"3={Convert.ToHexStringLower(_quotedRtmrs[3])}");

        json.GetProperty("errors").EnumerateArray().Should().BeEmpty();
        exit.Should().Be(0);
        json.GetProperty("kind").GetString().Should().Be("tdx");
        json.GetProperty("rtmrs").EnumerateArray().Select(r => r.GetString()).Should().Equal(_quotedRtmrs.Select(Convert.ToHexStringLower));
        var log = json.GetProperty("event_log");
        log.GetProperty("format").GetString().Should().Be("ccel");
        var events = log.GetProperty("events").EnumerateArray().ToList();
        events.Should().HaveCount(_log.Events.Count + 1, "the spec-ID header is listed too");
        events[0].GetProperty("type_name").GetString().Should().Be("EV_NO_ACTION");
        events[0].TryGetProperty("rtmr", out _).Should().BeFalse();
        events[3].GetProperty("type_name").GetString().Should().Be("EV_SEPARATOR");
        events[3].GetProperty("rtmr").GetInt32().Should().Be(0);
        events[3].GetProperty("digest").GetString().Should().Be(Convert.ToHexStringLower(_log.Events[2].Digest));
    }

    [Fact]
    public async Task A_CCEL_that_does_not_replay_fails_naming_the_register()
    {
        var other = new SyntheticEventLog([.. _log.Events.Take(3), SyntheticEvent.Boot(1, 0x80000003, [1, 2, 3]), .. _log.Events.Skip(4)]);
        _daemon.Root.Ccel(other.Ccel());

        var (exit, json) = await Verify();

        exit.Should().Be(1);
        json.GetProperty("errors").EnumerateArray().Should().ContainSingle().Which.GetString().Should().StartWith("RTMR1 does not match the event log");
    }

    [Fact]
    public async Task A_dstack_log_given_with_event_log_takes_the_place_of_the_daemons_CCEL()
    {
        var path = _files.Combine("info.json");
        await File.WriteAllTextAsync(path, _log.DstackInfoJson());
        var appId = Convert.ToHexStringLower(_log.Events.Single(e => e.Name == "app-id").Data);

        var (exit, json) = await Verify("--event-log", path, "--expect-event", $"app-id={appId}");

        json.GetProperty("errors").EnumerateArray().Should().BeEmpty();
        exit.Should().Be(0);
        json.GetProperty("event_log").GetProperty("format").GetString().Should().Be("dstack");
        var appIdEvent = json.GetProperty("event_log").GetProperty("events").EnumerateArray().Single(e => e.TryGetProperty("name", out var n) && n.GetString() == "app-id");
        appIdEvent.GetProperty("payload").GetString().Should().Be(appId);
        appIdEvent.GetProperty("type").GetUInt32().Should().Be(0x08000001);
        appIdEvent.GetProperty("type_name").GetString().Should().Be("DSTACK_RUNTIME_EVENT");
    }

    [Fact]
    public async Task An_expected_event_fails_when_the_daemons_log_has_none()
    {
        var (exit, json) = await Verify("--expect-event", "app-id=00");

        exit.Should().Be(1);
        json.GetProperty("errors").EnumerateArray().Select(e => e.GetString()).Should().Equal("the event log has no runtime event named 'app-id'");
    }
}
