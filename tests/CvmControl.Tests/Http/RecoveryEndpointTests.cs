using System.Net;
using CvmControl.Api.V1;

namespace CvmControl.Tests.Http;

/// <summary>A restarted daemon, simulated by a record left in the run dir before the host starts.</summary>
public sealed class RecoveryEndpointTests
{
    private const string Record = """
        {"version":1,"user_id":"alice","completed_at":"2026-11-21T10:00:00+00:00",
         "volumes":{"data":{"volume_id":"vol-0aaa111","mount_point":"/data"},"logs":{"volume_id":"vol-0bbb222","mount_point":"/var/log/app"}}}
        """;

    private static CvmControlFactory Restarted(bool allMounted, string record = Record, string logsSource = "/dev/mapper/logs") => new(f =>
    {
        File.WriteAllText(f.RunDir.Combine("bootstrap.json"), record);
        f.Mounts.Mount("/data", "/dev/mapper/data");
        if (allMounted)
        {
            f.Mounts.Mount("/var/log/app", logsSource);
        }
    });

    [Fact]
    public async Task Restart_with_every_volume_mounted_comes_up_ready()
    {
        using var factory = Restarted(allMounted: true);
        using var client = factory.CreateClient();

        (await client.DaemonStatus()).Should().Be(ApiStatus.Ready);
        (await (await client.Get("/api/v1/bootstrap")).OperationOf()).Status.Should().Be(ApiStatus.Completed);
    }

    [Fact]
    public async Task Restart_deletes_the_key_files_a_killed_run_left_and_names_them_in_the_log()
    {
        using var factory = new CvmControlFactory(f =>
        {
            Directory.CreateDirectory(f.RunDir.Combine("keys"));
            File.WriteAllText(f.RunDir.Combine("keys", "newkey-5f1d"), "new-pass-never-logged");
            File.WriteAllText(f.RunDir.Combine("keys", "header-77aa"), "header bytes");
        });
        using var client = factory.CreateClient();

        (await client.DaemonStatus()).Should().Be(ApiStatus.Bootstrap);
        Directory.EnumerateFileSystemEntries(factory.RunDir.Combine("keys")).Should().BeEmpty();
        factory.Log.Should().Contain("Removed 2 file(s) an earlier run left in the key directory")
            .And.Contain("newkey-5f1d").And.Contain("header-77aa").And.NotContain("new-pass-never-logged");
    }

    [Fact]
    public async Task Restart_with_a_volume_not_mounted_stays_in_bootstrap_and_logs_why()
    {
        using var factory = Restarted(allMounted: false);
        using var client = factory.CreateClient();

        (await client.DaemonStatus()).Should().Be(ApiStatus.Bootstrap);
        factory.Log.Should().Contain("not every volume is mounted").And.Contain("logs (/var/log/app)");
    }

    [Fact]
    public async Task Restart_with_something_else_mounted_at_a_mount_point_stays_in_bootstrap()
    {
        using var factory = Restarted(allMounted: true, logsSource: "tmpfs");
        using var client = factory.CreateClient();

        (await client.DaemonStatus()).Should().Be(ApiStatus.Bootstrap);
        factory.Log.Should().Contain("logs (/var/log/app)");
    }

    [Fact]
    public async Task Corrupt_record_is_logged_and_ignored()
    {
        using var factory = Restarted(allMounted: true, record: "{\"version\":1,\"user_");
        using var client = factory.CreateClient();

        (await client.DaemonStatus()).Should().Be(ApiStatus.Bootstrap);
        factory.Log.Should().Contain("Ignoring bootstrap record");
    }

    [Fact]
    public async Task After_restart_the_same_user_and_volumes_count_as_identical()
    {
        using var factory = Restarted(allMounted: true);
        using var client = factory.CreateClient();

        // Env, secrets and passphrases are not in the record, so they cannot be compared after a restart.
        var response = await client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes.Replace("pass-data", "whatever", StringComparison.Ordinal));

        await response.ShouldBe(HttpStatusCode.OK);
        (await response.StatusOf()).Should().Be(ApiStatus.Ready);
        factory.Volumes.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task After_restart_a_different_volume_set_returns_409()
    {
        using var factory = Restarted(allMounted: true);
        using var client = factory.CreateClient();

        var response = await client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes.Replace("vol-0bbb222", "vol-0ccc333", StringComparison.Ordinal));

        await response.ShouldBe(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task After_restart_shutdown_is_authenticated_against_the_recorded_user()
    {
        using var factory = Restarted(allMounted: true);
        using var client = factory.CreateClient();

        await (await client.PostJson("/api/v1/shutdown", """{"user_id":"bob"}""")).ShouldBe(HttpStatusCode.Unauthorized);
        await (await client.PostJson("/api/v1/shutdown", """{"user_id":"alice"}""")).ShouldBe(HttpStatusCode.OK);
    }
}
