using System.Net;
using CvmControl.Api.V1;
using CvmControl.OS;
using CvmControl.Tools;

namespace CvmControl.Tests.Http;

public sealed class ShutdownEndpointTests : IDisposable
{
    private readonly CvmControlFactory _factory = new();
    private readonly HttpClient _client;

    public ShutdownEndpointTests()
    {
        _client = _factory.CreateClient();
    }

    private async Task BootstrapAsync()
    {
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        (await _client.WaitForOperation("/api/v1/bootstrap")).Status.Should().Be(ApiStatus.Completed);
    }

    [Fact]
    public async Task Shutdown_before_bootstrap_needs_no_credentials_and_powers_off()
    {
        var response = await _client.PostJson("/api/v1/shutdown", "");

        await response.ShouldBe(HttpStatusCode.OK);
        (await response.StatusOf()).Should().Be(ApiStatus.Ok);
        _factory.Power.Requests.Should().Equal(PowerAction.PowerOff);
        (await _client.DaemonStatus()).Should().Be(ApiStatus.Shutdown);
    }

    [Fact]
    public async Task Shutdown_with_reboot_true_reboots()
    {
        await (await _client.PostJson("/api/v1/shutdown", """{"reboot":true}""")).ShouldBe(HttpStatusCode.OK);

        _factory.Power.Requests.Should().Equal(PowerAction.Reboot);
    }

    [Fact]
    public async Task Once_ready_the_matching_user_id_shuts_down()
    {
        await BootstrapAsync();

        await (await _client.PostJson("/api/v1/shutdown", """{"user_id":"alice","reboot":false}""")).ShouldBe(HttpStatusCode.OK);

        _factory.Power.Requests.Should().Equal(PowerAction.PowerOff);
    }

    [Theory]
    [InlineData("""{"user_id":"mallory"}""", "user_id does not match")]
    [InlineData("""{"user_id":"alic"}""", "user_id does not match")]
    [InlineData("""{}""", "user_id is required")]
    [InlineData("", "user_id is required")]
    public async Task Once_ready_a_wrong_or_missing_user_id_returns_401(string body, string error)
    {
        await BootstrapAsync();

        var response = await _client.PostJson("/api/v1/shutdown", body);

        await response.ShouldBe(HttpStatusCode.Unauthorized);
        (await response.ErrorOf()).Error.Should().Be(error);
        _factory.Power.Requests.Should().BeEmpty();
        (await _client.DaemonStatus()).Should().Be(ApiStatus.Ready);
    }

    [Fact]
    public async Task Shutdown_while_a_bootstrap_runs_returns_409()
    {
        _factory.Volumes.Hold("data");
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);

        var response = await _client.PostJson("/api/v1/shutdown", "{}");

        await response.ShouldBe(HttpStatusCode.Conflict);
        (await response.ErrorOf()).Error.Should().Be("a bootstrap is in progress");
        _factory.Volumes.Release("data");
    }

    [Fact]
    public async Task Shutdown_while_a_rotation_runs_returns_409()
    {
        await BootstrapAsync();
        _factory.Volumes.Hold("data");
        await (await _client.PostJson("/api/v1/passphrase", """{"volumes":{"data":{"old_passphrase":"pass-data","new_passphrase":"n"}}}""")).ShouldBe(HttpStatusCode.Accepted);

        var response = await _client.PostJson("/api/v1/shutdown", """{"user_id":"alice"}""");

        await response.ShouldBe(HttpStatusCode.Conflict);
        (await response.ErrorOf()).Error.Should().Be("a passphrase rotation is in progress");
        _factory.Volumes.Release("data");
    }

    [Fact]
    public async Task Failing_systemctl_returns_500_with_exit_code_and_stderr_and_leaves_shutdown_state()
    {
        _factory.Power.Result = new PowerResult(false, "poweroff", 1, "Failed to connect to bus: No such file or directory");

        var response = await _client.PostJson("/api/v1/shutdown", "{}");

        await response.ShouldBe(HttpStatusCode.InternalServerError);
        var error = await response.ErrorOf();
        error.Error.Should().Be("systemctl poweroff failed with exit code 1");
        error.Detail.Should().Be("Failed to connect to bus: No such file or directory");
        (await _client.DaemonStatus()).Should().Be(ApiStatus.Bootstrap, "the VM is not going down, so the daemon keeps serving");
    }

    [Fact]
    public async Task A_second_shutdown_returns_409()
    {
        await (await _client.PostJson("/api/v1/shutdown", "{}")).ShouldBe(HttpStatusCode.OK);

        var response = await _client.PostJson("/api/v1/shutdown", "{}");

        await response.ShouldBe(HttpStatusCode.Conflict);
        (await response.ErrorOf()).Error.Should().Be("a shutdown is already in progress");
    }

    [Fact]
    public async Task Shutdown_with_a_malformed_body_returns_400()
    {
        var response = await _client.PostJson("/api/v1/shutdown", """{"reboot":"yes"}""");

        await response.ShouldBe(HttpStatusCode.BadRequest);
        (await response.ErrorOf()).Error.Should().Be("reboot has the wrong type");
        _factory.Power.Requests.Should().BeEmpty();
    }

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }
}
