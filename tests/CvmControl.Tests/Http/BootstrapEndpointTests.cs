using System.Net;
using CvmControl.Api.V1;

namespace CvmControl.Tests.Http;

public sealed class BootstrapEndpointTests : IDisposable
{
    private readonly CvmControlFactory _factory = new();
    private readonly HttpClient _client;

    public BootstrapEndpointTests()
    {
        _client = _factory.CreateClient();
    }

    [Fact]
    public async Task Valid_bootstrap_returns_202_in_progress_and_completes_ready()
    {
        var response = await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes);

        await response.ShouldBe(HttpStatusCode.Accepted);
        (await response.StatusOf()).Should().Be(ApiStatus.InProgress);
        response.Headers.Location!.ToString().Should().Be("/api/v1/bootstrap");
        (await _client.WaitForOperation("/api/v1/bootstrap")).Status.Should().Be(ApiStatus.Completed);
        (await _client.DaemonStatus()).Should().Be(ApiStatus.Ready);
        _factory.Volumes.Calls.Should().BeEquivalentTo("bootstrap data vol-0aaa111 /data", "bootstrap logs vol-0bbb222 /var/log/app");
    }

    [Theory]
    [InlineData("product_name", "Google Compute Engine", "Data_Disk", "data-disk-1", "on gcp, volume_id is the disk's device name")]
    [InlineData("chassis_asset_tag", "7783-7084-3265-9085-8269-3286-77", "vol-0aaa111", "3", "on azure, volume_id is the data disk's LUN")]
    [InlineData("sys_vendor", "Amazon EC2", "vol-0aaa111", "vol-0123456789abcdef0", "on aws, volume_id is an EBS volume id")]
    public async Task The_volume_id_rules_follow_the_cloud_detected_at_start(string dmiFile, string dmiValue, string wrong, string right, string why)
    {
        using var factory = new CvmControlFactory(f => f.Root.Dmi(dmiFile, dmiValue));
        var client = factory.CreateClient();
        static string Body(string volumeId) =>
            """{"user_id":"alice","volumes":{"data":{"volume_id":""" + "\"" + volumeId + "\"" + ""","passphrase":"pass-data-1"}}}""";

        var refused = await client.PostJson("/api/v1/bootstrap", Body(wrong));

        await refused.ShouldBe(HttpStatusCode.BadRequest);
        (await refused.ErrorOf()).Error.Should().StartWith($"volumes.data.volume_id: {why}");
        factory.Volumes.Calls.Should().BeEmpty();
        await (await client.PostJson("/api/v1/bootstrap", Body(right))).ShouldBe(HttpStatusCode.Accepted);
        (await client.WaitForOperation("/api/v1/bootstrap")).Status.Should().Be(ApiStatus.Completed);
        factory.Volumes.Calls.Should().Equal($"bootstrap data {right} /data");
    }

    [Fact]
    public async Task Get_bootstrap_is_idle_before_any_request()
    {
        var view = await (await _client.Get("/api/v1/bootstrap")).OperationOf();
        view.Status.Should().Be(ApiStatus.Idle);
        view.Volumes.Should().BeNull();
    }

    [Fact]
    public async Task Get_bootstrap_reports_in_progress_while_a_volume_is_running()
    {
        _factory.Volumes.Hold("data");
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);

        (await (await _client.Get("/api/v1/bootstrap")).OperationOf()).Status.Should().Be(ApiStatus.InProgress);
        (await _client.DaemonStatus()).Should().Be(ApiStatus.Bootstrap);

        _factory.Volumes.Release("data");
        (await _client.WaitForOperation("/api/v1/bootstrap")).Status.Should().Be(ApiStatus.Completed);
    }

    [Fact]
    public async Task Identical_bootstrap_while_in_progress_returns_202()
    {
        _factory.Volumes.Hold("data");
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);

        var retry = await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes);

        await retry.ShouldBe(HttpStatusCode.Accepted);
        (await retry.StatusOf()).Should().Be(ApiStatus.InProgress);
        _factory.Volumes.Release("data");
        await _client.WaitForOperation("/api/v1/bootstrap");
        _factory.Volumes.Calls.Count(c => c.StartsWith("bootstrap data", StringComparison.Ordinal)).Should().Be(1, "the retry must not start a second run");
    }

    [Fact]
    public async Task Different_bootstrap_while_in_progress_returns_409()
    {
        _factory.Volumes.Hold("data");
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);

        var different = await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes.Replace("pass-logs", "other-pass", StringComparison.Ordinal));

        await different.ShouldBe(HttpStatusCode.Conflict);
        (await different.ErrorOf()).Error.Should().Be("a different bootstrap is in progress");
        _factory.Volumes.Release("data");
    }

    [Fact]
    public async Task Identical_bootstrap_after_success_returns_200_ready_and_runs_nothing()
    {
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        await _client.WaitForOperation("/api/v1/bootstrap");
        var callsBefore = _factory.Volumes.Calls.Count;

        var again = await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes);

        await again.ShouldBe(HttpStatusCode.OK);
        (await again.StatusOf()).Should().Be(ApiStatus.Ready);
        _factory.Volumes.Calls.Count.Should().Be(callsBefore);
    }

    [Fact]
    public async Task Bootstrap_that_differs_only_in_a_passphrase_after_success_returns_409()
    {
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        await _client.WaitForOperation("/api/v1/bootstrap");

        var different = await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes.Replace("pass-data", "pass-datA", StringComparison.Ordinal));

        await different.ShouldBe(HttpStatusCode.Conflict);
        (await different.ErrorOf()).Error.Should().Be("already bootstrapped with a different request");
    }

    [Fact]
    public async Task Failed_bootstrap_reports_each_volume_and_stays_in_bootstrap()
    {
        _factory.Volumes.Fail("logs", "luksFormat failed", "Cannot format device /dev/nvme2n1.");
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);

        var view = await _client.WaitForOperation("/api/v1/bootstrap");

        view.Status.Should().Be(ApiStatus.Failed);
        view.Error.Should().Be("one or more volumes failed");
        view.Volumes!["data"].Status.Should().Be(ApiStatus.Ok);
        view.Volumes["logs"].Status.Should().Be(ApiStatus.Error);
        view.Volumes["logs"].Error.Should().Be("luksFormat failed");
        view.Volumes["logs"].Detail.Should().Be("Cannot format device /dev/nvme2n1.");
        (await _client.DaemonStatus()).Should().Be(ApiStatus.Bootstrap);
        File.Exists(_factory.RunDir.Combine("bootstrap.json")).Should().BeFalse();
        Directory.Exists(_factory.RunDir.Combine("secret")).Should().BeFalse("no secret is written unless every volume is up");
        File.Exists(_factory.RunDir.Combine("user_id.env")).Should().BeFalse();
    }

    [Fact]
    public async Task A_completed_bootstrap_has_no_volumes_in_its_answer_when_nothing_went_wrong()
    {
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        await _client.WaitForOperation("/api/v1/bootstrap");

        (await (await _client.Get("/api/v1/bootstrap")).Content.ReadAsStringAsync()).Should().Be("{\"status\":\"completed\"}");
    }

    [Fact]
    public async Task A_stale_keyslot_that_survived_cleanup_is_a_warning_on_an_ok_volume_and_secrets_are_scrubbed()
    {
        _factory.Volumes.Warn("data", "stale key slot 1 was not removed: luksKillSlot failed: pass-data? (exit code 5)");
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        await _client.WaitForOperation("/api/v1/bootstrap");

        var body = await (await _client.Get("/api/v1/bootstrap")).Content.ReadAsStringAsync();

        body.Should().Be("""{"status":"completed","volumes":{"data":{"status":"ok","warnings":["stale key slot 1 was not removed: luksKillSlot failed: [REDACTED]? (exit code 5)"]},"logs":{"status":"ok"}}}""");
        (await _client.DaemonStatus()).Should().Be(ApiStatus.Ready);
    }

    [Fact]
    public async Task Files_are_written_only_after_every_volume_is_up()
    {
        _factory.Volumes.Hold("data");
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        File.Exists(_factory.RunDir.Combine("env", "app.env")).Should().BeFalse();

        _factory.Volumes.Release("data");
        await _client.WaitForOperation("/api/v1/bootstrap");

        File.ReadAllText(_factory.RunDir.Combine("env", "app.env")).Should().Be("GREETING=\"hello \\\"world\\\" \\$HOME\"\nMODE=prod\n");
        File.ReadAllText(_factory.RunDir.Combine("user_id.env")).Should().Be("CVM_USER_ID=alice\n");
    }

    [Fact]
    public async Task After_a_failed_bootstrap_any_valid_request_starts_a_new_attempt()
    {
        _factory.Volumes.Fail("logs", "luksFormat failed");
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        await _client.WaitForOperation("/api/v1/bootstrap");
        _factory.Volumes.Succeed("logs");

        var retry = await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes.Replace("alice", "bob", StringComparison.Ordinal));

        await retry.ShouldBe(HttpStatusCode.Accepted);
        (await _client.WaitForOperation("/api/v1/bootstrap")).Status.Should().Be(ApiStatus.Completed);
        (await _client.DaemonStatus()).Should().Be(ApiStatus.Ready);
    }

    [Fact]
    public async Task Volume_detail_never_carries_a_passphrase()
    {
        _factory.Volumes.Fail("data", "luksOpen failed", "No key available with this passphrase: pass-data");
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);

        var view = await _client.WaitForOperation("/api/v1/bootstrap");

        view.Volumes!["data"].Detail.Should().NotContain("pass-data").And.Contain("[REDACTED]");
    }

    private static readonly string WithIntegrity = ApiClient.TwoVolumes.Replace(
        "\"passphrase\":\"pass-data\"", "\"passphrase\":\"pass-data\",\"integrity\":true", StringComparison.Ordinal);

    [Fact]
    public async Task The_integrity_field_reaches_the_record_per_volume()
    {
        await (await _client.PostJson("/api/v1/bootstrap", WithIntegrity)).ShouldBe(HttpStatusCode.Accepted);
        (await _client.WaitForOperation("/api/v1/bootstrap")).Status.Should().Be(ApiStatus.Completed);

        var record = await File.ReadAllTextAsync(_factory.RunDir.Combine("bootstrap.json"));

        record.Should().Contain("\"mount_point\":\"/data\",\"integrity\":true").And.Contain("\"mount_point\":\"/var/log/app\",\"integrity\":false");
    }

    [Fact]
    public async Task A_bootstrap_that_differs_only_in_integrity_after_success_returns_409()
    {
        await (await _client.PostJson("/api/v1/bootstrap", WithIntegrity)).ShouldBe(HttpStatusCode.Accepted);
        await _client.WaitForOperation("/api/v1/bootstrap");
        var callsBefore = _factory.Volumes.Calls.Count;

        var different = await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes);

        await different.ShouldBe(HttpStatusCode.Conflict);
        (await different.ErrorOf()).Error.Should().Be("already bootstrapped with a different request");
        _factory.Volumes.Calls.Count.Should().Be(callsBefore);
    }

    [Fact]
    public async Task Successful_bootstrap_writes_a_record_without_secrets()
    {
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        await _client.WaitForOperation("/api/v1/bootstrap");

        var record = await File.ReadAllTextAsync(_factory.RunDir.Combine("bootstrap.json"));

        record.Should().Contain("\"user_id\":\"alice\"").And.Contain("vol-0aaa111").And.Contain("/var/log/app");
        record.Should().NotContain("pass-data").And.NotContain("pass-logs").And.NotContain("s3cr3t-value").And.NotContain("prod");
        File.GetUnixFileMode(_factory.RunDir.Combine("bootstrap.json")).Should().Be((UnixFileMode)0b110_000_000);
    }

    [Fact]
    public async Task Nothing_secret_is_logged_during_a_bootstrap()
    {
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        await _client.WaitForOperation("/api/v1/bootstrap");

        _factory.Log.Should().Contain("/api/v1/bootstrap").And.Contain("202");
        _factory.Log.Should().NotContain("pass-data").And.NotContain("s3cr3t-value").And.NotContain("GREETING");
    }

    [Theory]
    [InlineData("""{"volumes":{"data":{"volume_id":"vol-1","passphrase":"p"}}}""", "user_id is required")]
    [InlineData("""{"user_id":"","volumes":{"data":{"volume_id":"vol-1","passphrase":"p"}}}""", "user_id is required")]
    [InlineData("""{"user_id":"u"}""", "volumes is required")]
    [InlineData("""{"user_id":"u","volumes":{"data":{"passphrase":"p"}}}""", "volumes.data.volume_id is required")]
    [InlineData("""{"user_id":"u","volumes":{"data":{"volume_id":"vol-1"}}}""", "volumes.data.passphrase is required")]
    [InlineData("""{"user_id":7,"volumes":{}}""", "user_id has the wrong type")]
    [InlineData("""{"user_id":"u","volumes":{"data":{"volume_id":["x"],"passphrase":"p"}}}""", "volumes.data.volume_id has the wrong type")]
    [InlineData("""{"user_id":"u","volumes":{"data":{"volume_id":"v","passphrase":"p","mountpoint":"/x"}}}""", "unknown field volumes.data.mountpoint")]
    [InlineData("""{"user_id":"u","user_id":"v","volumes":{}}""", "duplicate field user_id")]
    [InlineData("""{"user_id":"u", """, "malformed JSON body")]
    [InlineData("""[1,2]""", "request body must be a JSON object")]
    [InlineData("""null""", "request body must be a JSON object")]
    [InlineData("", "request body is required")]
    [InlineData("""{"user_id":"u","env":{"../x":{"A":"b"}},"volumes":{"data":{"volume_id":"v","passphrase":"p"}}}""", "env.../x: invalid file name (allowed: A-Z a-z 0-9 . _ -, not starting with -, not . or ..)")]
    [InlineData("""{"user_id":"u","volumes":{"data":{"volume_id":"v","passphrase":"p","mount_point":"/etc/x"}}}""", "volumes.data.mount_point must not be /etc or lie under it")]
    public async Task Invalid_bootstrap_returns_400_naming_the_field(string body, string error)
    {
        var response = await _client.PostJson("/api/v1/bootstrap", body);

        await response.ShouldBe(HttpStatusCode.BadRequest);
        (await response.ErrorOf()).Error.Should().Be(error);
        (await (await _client.Get("/api/v1/bootstrap")).OperationOf()).Status.Should().Be(ApiStatus.Idle, "nothing is accepted before validation passes");
        _factory.Volumes.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task Every_validation_problem_is_listed_in_the_detail()
    {
        var response = await _client.PostJson("/api/v1/bootstrap", """{"user_id":"","volumes":{"a":{"passphrase":"p"},"b":{"volume_id":"v"}}}""");

        await response.ShouldBe(HttpStatusCode.BadRequest);
        var error = await response.ErrorOf();
        error.Detail.Should().Contain("user_id is required").And.Contain("volumes.a.volume_id is required").And.Contain("volumes.b.passphrase is required");
    }

    [Fact]
    public async Task A_value_with_a_newline_is_rejected_without_echoing_it()
    {
        var response = await _client.PostJson("/api/v1/bootstrap",
            """{"user_id":"u","secret":{"s":{"TOKEN":"top\nsecret"}},"volumes":{"data":{"volume_id":"v","passphrase":"p"}}}""");

        await response.ShouldBe(HttpStatusCode.BadRequest);
        var error = await response.ErrorOf();
        error.Error.Should().Be("secret.s.TOKEN: value must not contain NUL or line breaks");
        (error.Error + error.Detail).Should().NotContain("top");
    }

    [Fact]
    public async Task Body_over_1_MiB_returns_413()
    {
        var huge = "{\"user_id\":\"" + new string('a', 1024 * 1024) + "\"}";

        var response = await _client.PostJson("/api/v1/bootstrap", huge);

        await response.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        (await response.ErrorOf()).Error.Should().Be("request body too large");
    }

    [Fact]
    public async Task Bootstrap_while_shutting_down_returns_409()
    {
        await (await _client.PostJson("/api/v1/shutdown", "{}")).ShouldBe(HttpStatusCode.OK);

        var response = await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes);

        await response.ShouldBe(HttpStatusCode.Conflict);
        (await response.ErrorOf()).Error.Should().Be("daemon is shutting down");
    }

    [Fact]
    public async Task Unknown_route_returns_404_with_an_error_body()
    {
        var response = await _client.Get("/api/v1/nothing-here");

        await response.ShouldBe(HttpStatusCode.NotFound);
        (await response.ErrorOf()).Error.Should().Be("not found");
    }

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }
}
