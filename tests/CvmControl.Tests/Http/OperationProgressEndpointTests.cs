using System.Net;
using System.Text.Json.Nodes;
using CvmControl.Api.V1;

namespace CvmControl.Tests.Http;

/// <summary>Issue 15: each volume's step in GET /api/v1/bootstrap and GET /api/v1/passphrase while they run.</summary>
public sealed class OperationProgressEndpointTests : IDisposable
{
    private readonly CvmControlFactory _factory = new();
    private readonly HttpClient _client;

    public OperationProgressEndpointTests()
    {
        _client = _factory.CreateClient();
    }

    private async Task<JsonObject> Raw(string path) =>
        JsonNode.Parse(await (await _client.Get(path)).Content.ReadAsStringAsync())!.AsObject();

    /// <summary>Polls GET <paramref name="path"/> (at most 20 s) until <paramref name="done"/> holds for its raw JSON, and returns that JSON.</summary>
    private async Task<JsonObject> RawWhen(string path, Func<JsonObject, bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var body = await Raw(path);
            if (done(body))
            {
                return body;
            }
            DateTime.UtcNow.Should().BeBefore(deadline, "{0} within 20 s; last answer {1}", what, body.ToJsonString());
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Get_bootstrap_while_running_reports_each_volumes_step_and_finished_volumes_as_ok()
    {
        _factory.Volumes.Hold("data");
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);

        var body = await RawWhen("/api/v1/bootstrap", b => b["volumes"]?["logs"]?["status"]?.GetValue<string>() == ApiStatus.Ok && b["volumes"]?["data"]?["step"]?.GetValue<string>() == "luksFormat", "logs finished and data held in luksFormat");

        body.ToJsonString().Should().Be("""{"status":"in_progress","volumes":{"data":{"status":"in_progress","step":"luksFormat"},"logs":{"status":"ok"}}}""");
        _factory.Volumes.Release("data");
        (await _client.WaitForOperation("/api/v1/bootstrap")).Status.Should().Be(ApiStatus.Completed);
    }

    [Fact]
    public async Task A_completed_bootstrap_answers_exactly_as_before_without_steps()
    {
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        await _client.WaitForOperation("/api/v1/bootstrap");

        (await Raw("/api/v1/bootstrap")).ToJsonString().Should().Be("""{"status":"completed"}""");
        (await Raw("/api/v1/passphrase")).ToJsonString().Should().Be("""{"status":"idle"}""");
    }

    [Fact]
    public async Task A_failed_bootstrap_keeps_its_per_volume_results_without_steps()
    {
        _factory.Volumes.Fail("data", "luksFormat failed", "device busy");
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        await _client.WaitForOperation("/api/v1/bootstrap");

        (await Raw("/api/v1/bootstrap")).ToJsonString().Should().Be(
            """{"status":"failed","error":"one or more volumes failed","volumes":{"data":{"status":"error","error":"luksFormat failed","detail":"device busy"},"logs":{"status":"ok"}}}""");
    }

    [Fact]
    public async Task Get_passphrase_while_running_reports_the_volumes_step_and_the_bootstrap_view_stays_completed()
    {
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        await _client.WaitForOperation("/api/v1/bootstrap");
        _factory.Volumes.Hold("data");

        await (await _client.PostJson("/api/v1/passphrase", """{"volumes":{"data":{"old_passphrase":"pass-data","new_passphrase":"new-data"}}}""")).ShouldBe(HttpStatusCode.Accepted);

        var body = await RawWhen("/api/v1/passphrase", b => b["volumes"]?["data"]?["step"]?.GetValue<string>() == "luksAddKey", "the add under way");
        body.ToJsonString().Should().Be("""{"status":"in_progress","volumes":{"data":{"status":"in_progress","step":"luksAddKey"}}}""");
        (await Raw("/api/v1/bootstrap")).ToJsonString().Should().Be("""{"status":"completed"}""", "only the running operation shows steps");
        _factory.Volumes.Release("data");
        var done = await _client.WaitForOperation("/api/v1/passphrase");
        done.Status.Should().Be(ApiStatus.Completed);
        done.Volumes!["data"].Step.Should().BeNull("a finished operation carries results, not steps");
    }

    [Fact]
    public async Task A_second_bootstrap_after_a_failure_starts_from_fresh_steps()
    {
        _factory.Volumes.Fail("data", "luksFormat failed");
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        await _client.WaitForOperation("/api/v1/bootstrap");
        _factory.Volumes.Succeed("data");
        _factory.Volumes.Hold("data");
        _factory.Volumes.Hold("logs");
        _factory.Volumes.HeldStep = "device";

        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);

        var body = await RawWhen("/api/v1/bootstrap", b => b["volumes"]?["logs"]?["step"]?.GetValue<string>() == "device" && b["volumes"]?["data"]?["step"]?.GetValue<string>() == "device", "both volumes on their first step");
        body.ToJsonString().Should().Be("""{"status":"in_progress","volumes":{"data":{"status":"in_progress","step":"device"},"logs":{"status":"in_progress","step":"device"}}}""");
        _factory.Volumes.Release("data");
        _factory.Volumes.Release("logs");
        (await _client.WaitForOperation("/api/v1/bootstrap")).Status.Should().Be(ApiStatus.Completed);
    }

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }
}
