using System.Net;
using CvmControl.Api.V1;

namespace CvmControl.Tests.Http;

public sealed class PassphraseEndpointTests : IDisposable
{
    private const string Rotate = """{"volumes":{"data":{"old_passphrase":"pass-data","new_passphrase":"new-data"}}}""";

    private readonly CvmControlFactory _factory = new();
    private readonly HttpClient _client;

    public PassphraseEndpointTests()
    {
        _client = _factory.CreateClient();
    }

    private async Task BootstrapAsync()
    {
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        (await _client.WaitForOperation("/api/v1/bootstrap")).Status.Should().Be(ApiStatus.Completed);
    }

    [Fact]
    public async Task Rotation_before_bootstrap_returns_409()
    {
        var response = await _client.PostJson("/api/v1/passphrase", Rotate);

        await response.ShouldBe(HttpStatusCode.Conflict);
        (await response.ErrorOf()).Error.Should().Be("daemon is not bootstrapped");
    }

    [Fact]
    public async Task Rotation_returns_202_and_completes_with_per_volume_results()
    {
        await BootstrapAsync();

        var response = await _client.PostJson("/api/v1/passphrase", Rotate);

        await response.ShouldBe(HttpStatusCode.Accepted);
        var view = await _client.WaitForOperation("/api/v1/passphrase");
        view.Status.Should().Be(ApiStatus.Completed);
        view.Volumes!["data"].Status.Should().Be(ApiStatus.Ok);
        _factory.Volumes.Unlocks("data", "new-data").Should().BeTrue();
    }

    [Fact]
    public async Task Rotation_through_the_real_rotator_keeps_the_old_keyslot_on_the_device()
    {
        using var factory = new CvmControlFactory(f => f.RealVolumes = true);
        using var client = factory.CreateClient();
        await (await client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        (await client.WaitForOperation("/api/v1/bootstrap")).Status.Should().Be(ApiStatus.Completed);

        await (await client.PostJson("/api/v1/passphrase", Rotate)).ShouldBe(HttpStatusCode.Accepted);
        var view = await client.WaitForOperation("/api/v1/passphrase");

        view.Status.Should().Be(ApiStatus.Completed, view.Volumes?["data"].Detail);
        // The disk's header as cryptsetup would read it from the device's bytes.
        var data = factory.Disks!.Disks.Values.Single(d => d.Path.EndsWith("nvme1n1", StringComparison.Ordinal));
        data.Slots.Should().Equal(new Dictionary<int, string> { [0] = "pass-data", [1] = "new-data" }, "the old keyslot is kept");
        factory.Disks.Argvs("cryptsetup").Should().NotContain(a => a[0] == "luksKillSlot" || a[0] == "luksRemoveKey");
    }

    [Fact]
    public async Task Get_passphrase_is_idle_before_any_rotation()
    {
        (await (await _client.Get("/api/v1/passphrase")).OperationOf()).Status.Should().Be(ApiStatus.Idle);
    }

    [Fact]
    public async Task Wrong_old_passphrase_returns_401_naming_the_volumes_and_starts_nothing()
    {
        await BootstrapAsync();

        var response = await _client.PostJson("/api/v1/passphrase",
            """{"volumes":{"data":{"old_passphrase":"nope","new_passphrase":"x1"},"logs":{"old_passphrase":"pass-logs","new_passphrase":"x2"}}}""");

        await response.ShouldBe(HttpStatusCode.Unauthorized);
        var error = await response.ErrorOf();
        error.Error.Should().Be("old passphrase is wrong");
        error.Detail.Should().Be("volumes: data");
        _factory.Volumes.Calls.Should().NotContain(c => c.StartsWith("add", StringComparison.Ordinal));
        (await (await _client.Get("/api/v1/passphrase")).OperationOf()).Status.Should().Be(ApiStatus.Idle);

        // The slot is free again.
        await (await _client.PostJson("/api/v1/passphrase", Rotate)).ShouldBe(HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task Rotation_of_a_volume_that_was_not_bootstrapped_returns_400()
    {
        await BootstrapAsync();

        var response = await _client.PostJson("/api/v1/passphrase", """{"volumes":{"cache":{"old_passphrase":"a","new_passphrase":"b"}}}""");

        await response.ShouldBe(HttpStatusCode.BadRequest);
        (await response.ErrorOf()).Error.Should().Be("not a bootstrapped volume: cache");
    }

    [Fact]
    public async Task Identical_rotation_while_in_progress_returns_202_and_a_different_one_409()
    {
        await BootstrapAsync();
        _factory.Volumes.Hold("data");
        await (await _client.PostJson("/api/v1/passphrase", Rotate)).ShouldBe(HttpStatusCode.Accepted);

        await (await _client.PostJson("/api/v1/passphrase", Rotate)).ShouldBe(HttpStatusCode.Accepted);
        var different = await _client.PostJson("/api/v1/passphrase", Rotate.Replace("new-data", "newer", StringComparison.Ordinal));
        await different.ShouldBe(HttpStatusCode.Conflict);
        (await different.ErrorOf()).Error.Should().Be("a different passphrase rotation is in progress");

        _factory.Volumes.Release("data");
        (await _client.WaitForOperation("/api/v1/passphrase")).Status.Should().Be(ApiStatus.Completed);
        _factory.Volumes.Calls.Count(c => c == "add data").Should().Be(1);
    }

    [Fact]
    public async Task Different_bootstrap_while_a_rotation_runs_returns_409_and_an_identical_one_200()
    {
        await BootstrapAsync();
        _factory.Volumes.Hold("data");
        await (await _client.PostJson("/api/v1/passphrase", Rotate)).ShouldBe(HttpStatusCode.Accepted);

        var different = await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes.Replace("alice", "bob", StringComparison.Ordinal));
        var identical = await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes);

        await different.ShouldBe(HttpStatusCode.Conflict);
        (await different.ErrorOf()).Error.Should().Be("a passphrase rotation is in progress");
        await identical.ShouldBe(HttpStatusCode.OK);
        (await identical.StatusOf()).Should().Be(ApiStatus.Ready);
        _factory.Volumes.Release("data");
    }

    [Fact]
    public async Task Identical_rotation_during_the_old_passphrase_check_shares_its_verdict()
    {
        await BootstrapAsync();
        _factory.Volumes.HoldChecks();
        var first = _client.PostJson("/api/v1/passphrase", Rotate.Replace("pass-data", "wrong-old", StringComparison.Ordinal));
        await _factory.Volumes.WaitForCheck();

        var second = _client.PostJson("/api/v1/passphrase", Rotate.Replace("pass-data", "wrong-old", StringComparison.Ordinal));
        await ApiClient.WaitUntil(() => _factory.Log.Contains("joins the one being checked", StringComparison.Ordinal), "the second request joins the first");
        _factory.Volumes.ReleaseChecks();

        await (await first).ShouldBe(HttpStatusCode.Unauthorized);
        await (await second).ShouldBe(HttpStatusCode.Unauthorized);
        _factory.Volumes.Calls.Count(c => c == "check data").Should().Be(1, "the retry joined the first check instead of running its own");
    }

    [Fact]
    public async Task Same_old_and_new_passphrase_is_ok_without_changes()
    {
        await BootstrapAsync();

        await (await _client.PostJson("/api/v1/passphrase", """{"volumes":{"data":{"old_passphrase":"pass-data","new_passphrase":"pass-data"}}}""")).ShouldBe(HttpStatusCode.Accepted);

        (await _client.WaitForOperation("/api/v1/passphrase")).Volumes!["data"].Status.Should().Be(ApiStatus.Ok);
        _factory.Volumes.Calls.Should().NotContain("add data");
    }

    [Fact]
    public async Task New_passphrase_that_already_unlocks_is_ok_without_changes()
    {
        await BootstrapAsync();
        _factory.Volumes.Opens("data", "already-there");

        await (await _client.PostJson("/api/v1/passphrase", """{"volumes":{"data":{"old_passphrase":"pass-data","new_passphrase":"already-there"}}}""")).ShouldBe(HttpStatusCode.Accepted);

        (await _client.WaitForOperation("/api/v1/passphrase")).Status.Should().Be(ApiStatus.Completed);
        _factory.Volumes.Calls.Should().NotContain("add data");
    }

    [Fact]
    public async Task A_failed_volume_makes_the_rotation_failed_while_the_other_succeeds()
    {
        await BootstrapAsync();
        _factory.Volumes.Fail("logs", "luksAddKey failed", "No space for new keyslot.");

        await (await _client.PostJson("/api/v1/passphrase",
            """{"volumes":{"data":{"old_passphrase":"pass-data","new_passphrase":"n1"},"logs":{"old_passphrase":"pass-logs","new_passphrase":"n2"}}}""")).ShouldBe(HttpStatusCode.Accepted);

        var view = await _client.WaitForOperation("/api/v1/passphrase");
        view.Status.Should().Be(ApiStatus.Failed);
        view.Error.Should().Be("one or more volumes failed");
        view.Volumes!["data"].Status.Should().Be(ApiStatus.Ok);
        view.Volumes["logs"].Error.Should().Be("luksAddKey failed");
        view.Volumes["logs"].Detail.Should().Be("No space for new keyslot.");
    }

    [Fact]
    public async Task A_check_that_cannot_run_returns_500_with_the_reason()
    {
        await BootstrapAsync();
        _factory.Volumes.CheckThrows = _ => new CvmControl.Volumes.VolumeOperationException("cryptsetup open --test-passphrase failed", "Device /dev/nvme1n1 is not a valid LUKS device.");

        var response = await _client.PostJson("/api/v1/passphrase", Rotate);

        await response.ShouldBe(HttpStatusCode.InternalServerError);
        var error = await response.ErrorOf();
        error.Error.Should().Be("could not check the old passphrase");
        error.Detail.Should().Contain("data: cryptsetup open --test-passphrase failed");
    }

    [Theory]
    [InlineData("""{}""", "volumes is required")]
    [InlineData("""{"volumes":{}}""", "volumes must not be empty")]
    [InlineData("""{"volumes":{"data":{"old_passphrase":"a"}}}""", "volumes.data.new_passphrase is required")]
    [InlineData("""{"volumes":{"data":{"new_passphrase":"a"}}}""", "volumes.data.old_passphrase is required")]
    public async Task Invalid_rotation_returns_400_naming_the_field(string body, string error)
    {
        await BootstrapAsync();

        var response = await _client.PostJson("/api/v1/passphrase", body);

        await response.ShouldBe(HttpStatusCode.BadRequest);
        (await response.ErrorOf()).Error.Should().Be(error);
    }

    [Fact]
    public async Task Rotation_while_shutting_down_returns_409()
    {
        await BootstrapAsync();
        await (await _client.PostJson("/api/v1/shutdown", """{"user_id":"alice"}""")).ShouldBe(HttpStatusCode.OK);

        var response = await _client.PostJson("/api/v1/passphrase", Rotate);

        await response.ShouldBe(HttpStatusCode.Conflict);
        (await response.ErrorOf()).Error.Should().Be("daemon is shutting down");
    }

    private const string Revoke = """{"volumes":{"data":{"old_passphrase":"pass-data","new_passphrase":"new-data","revoke_old":true}}}""";

    [Fact]
    public async Task A_rotation_without_revoke_old_answers_exactly_as_before()
    {
        await BootstrapAsync();
        await (await _client.PostJson("/api/v1/passphrase", Rotate)).ShouldBe(HttpStatusCode.Accepted);
        await _client.WaitForOperation("/api/v1/passphrase");

        (await (await _client.Get("/api/v1/passphrase")).Content.ReadAsStringAsync()).Should().Be("""{"status":"completed","volumes":{"data":{"status":"ok"}}}""");
        _factory.Volumes.Unlocks("data", "pass-data").Should().BeTrue("revoke_old defaults to false");
    }

    [Fact]
    public async Task A_revoking_rotation_adds_first_then_revokes_and_lists_the_revoked_slots()
    {
        await BootstrapAsync();

        await (await _client.PostJson("/api/v1/passphrase", Revoke)).ShouldBe(HttpStatusCode.Accepted);
        await _client.WaitForOperation("/api/v1/passphrase");

        (await (await _client.Get("/api/v1/passphrase")).Content.ReadAsStringAsync()).Should().Be("""{"status":"completed","volumes":{"data":{"status":"ok","revoked_slots":[0]}}}""");
        _factory.Volumes.Unlocks("data", "new-data").Should().BeTrue();
        _factory.Volumes.Unlocks("data", "pass-data").Should().BeFalse();
        _factory.Volumes.Calls.Where(c => c.EndsWith(" data", StringComparison.Ordinal) && !c.StartsWith("check", StringComparison.Ordinal))
            .Should().Equal("add data", "revoke data");
    }

    [Fact]
    public async Task While_the_old_slots_are_revoked_get_passphrase_reports_luksKillSlot()
    {
        await BootstrapAsync();
        _factory.Volumes.HoldRevoke("data");

        await (await _client.PostJson("/api/v1/passphrase", Revoke)).ShouldBe(HttpStatusCode.Accepted);

        await ApiClient.WaitUntil(() => _factory.Volumes.Calls.Contains("revoke data"), "the revocation started");
        var view = await (await _client.Get("/api/v1/passphrase")).OperationOf();
        view.Status.Should().Be(ApiStatus.InProgress);
        view.Volumes!["data"].Step.Should().Be("luksKillSlot");
        _factory.Volumes.Unlocks("data", "new-data").Should().BeTrue("the new passphrase is in place before anything is revoked");
        _factory.Volumes.ReleaseRevoke("data");
        (await _client.WaitForOperation("/api/v1/passphrase")).Volumes!["data"].RevokedSlots.Should().Equal(0);
    }

    [Fact]
    public async Task Retrying_a_revoking_rotation_that_went_through_is_accepted_and_revokes_nothing_more()
    {
        await BootstrapAsync();
        await (await _client.PostJson("/api/v1/passphrase", Revoke)).ShouldBe(HttpStatusCode.Accepted);
        await _client.WaitForOperation("/api/v1/passphrase");

        // The old passphrase no longer opens; knowing the new one that does is the proof.
        await (await _client.PostJson("/api/v1/passphrase", Revoke)).ShouldBe(HttpStatusCode.Accepted);
        var view = await _client.WaitForOperation("/api/v1/passphrase");

        view.Status.Should().Be(ApiStatus.Completed);
        view.Volumes!["data"].RevokedSlots.Should().BeEmpty();
        _factory.Volumes.Unlocks("data", "new-data").Should().BeTrue();
    }

    [Fact]
    public async Task A_revoking_rotation_with_neither_passphrase_opening_returns_401()
    {
        await BootstrapAsync();

        var response = await _client.PostJson("/api/v1/passphrase", """{"volumes":{"data":{"old_passphrase":"wrong","new_passphrase":"new-data","revoke_old":true}}}""");

        await response.ShouldBe(HttpStatusCode.Unauthorized);
        _factory.Volumes.Unlocks("data", "pass-data").Should().BeTrue();
    }

    [Fact]
    public async Task Revoke_old_must_be_a_boolean()
    {
        await BootstrapAsync();

        var response = await _client.PostJson("/api/v1/passphrase", """{"volumes":{"data":{"old_passphrase":"pass-data","new_passphrase":"new-data","revoke_old":"yes"}}}""");

        await response.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).Should().NotContain("pass-data").And.NotContain("new-data");
        _factory.Volumes.Unlocks("data", "pass-data").Should().BeTrue();
    }

    [Fact]
    public async Task A_revoking_rotation_through_the_real_rotator_leaves_only_the_new_keyslot_on_the_device()
    {
        using var factory = new CvmControlFactory(f => f.RealVolumes = true);
        using var client = factory.CreateClient();
        await (await client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        (await client.WaitForOperation("/api/v1/bootstrap")).Status.Should().Be(ApiStatus.Completed);

        await (await client.PostJson("/api/v1/passphrase", Revoke)).ShouldBe(HttpStatusCode.Accepted);
        var view = await client.WaitForOperation("/api/v1/passphrase");

        view.Status.Should().Be(ApiStatus.Completed, view.Volumes?["data"].Detail);
        view.Volumes!["data"].RevokedSlots.Should().Equal(0);
        var data = factory.Disks!.Disks.Values.Single(d => d.Path.EndsWith("nvme1n1", StringComparison.Ordinal));
        data.Slots.Should().Equal(new Dictionary<int, string> { [1] = "new-data" });
        factory.Disks.Argvs("cryptsetup").Where(a => a[0] == "luksKillSlot").Should().ContainSingle().Which[^1].Should().Be("0");
    }

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }
}
