using CvmControl.Json;
using CvmControl.Provisioning;
using CvmControl.State;
using CvmControl.Volumes;
using Microsoft.Extensions.Logging.Abstractions;

namespace CvmControl.Tests.State;

public sealed class BootstrapRecordStoreTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly RunDirectory _run;
    private readonly BootstrapRecordStore _store;

    public BootstrapRecordStoreTests()
    {
        _run = new RunDirectory(_dir.Path);
        _store = new BootstrapRecordStore(_run, NullLogger<BootstrapRecordStore>.Instance);
    }

    private static readonly VolumeTarget[] Targets = [new("data", "vol-0aaa", "/data"), new("logs", "vol-0bbb", "/var/log/app")];

    [Fact]
    public void Round_trips_user_and_volume_metadata()
    {
        _store.Save(BootstrapRecord.From("alice", Targets, new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero)));

        var loaded = _store.Load()!;

        loaded.UserId.Should().Be("alice");
        loaded.Targets.Should().Equal(Targets);
        loaded.CompletedAt.Should().Be(new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero));
        File.GetUnixFileMode(_run.BootstrapRecord).Should().Be((UnixFileMode)0b110_000_000);
    }

    [Fact]
    public void Saved_record_has_the_documented_shape()
    {
        _store.Save(BootstrapRecord.From("alice", Targets[..1], DateTimeOffset.UnixEpoch));

        File.ReadAllText(_run.BootstrapRecord).Should().Be(
            """{"version":1,"user_id":"alice","completed_at":"1970-01-01T00:00:00+00:00","volumes":{"data":{"volume_id":"vol-0aaa","mount_point":"/data","integrity":false}}}""");
    }

    [Fact]
    public void A_volume_with_integrity_is_recorded_as_such_and_read_back()
    {
        VolumeTarget[] targets = [new("data", "vol-0aaa", "/data", Integrity: true), Targets[1]];

        _store.Save(BootstrapRecord.From("alice", targets, DateTimeOffset.UnixEpoch));

        File.ReadAllText(_run.BootstrapRecord).Should().Contain(
            "\"data\":{\"volume_id\":\"vol-0aaa\",\"mount_point\":\"/data\",\"integrity\":true}").And.Contain("\"integrity\":false");
        _store.Load()!.Targets.Should().Equal(targets);
    }

    [Fact]
    public void A_record_written_before_integrity_existed_reads_as_volumes_without_it()
    {
        File.WriteAllText(_run.BootstrapRecord,
            """{"version":1,"user_id":"alice","completed_at":"1970-01-01T00:00:00+00:00","volumes":{"data":{"volume_id":"vol-0aaa","mount_point":"/data"}}}""");

        _store.Load()!.Targets.Should().Equal(new VolumeTarget("data", "vol-0aaa", "/data", Integrity: false));
    }

    [Fact]
    public void Missing_record_is_null()
    {
        _store.Load().Should().BeNull();
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"version\":1,\"user_id\":\"a\"")]
    [InlineData("{\"version\":2,\"user_id\":\"a\",\"volumes\":{\"d\":{\"volume_id\":\"v\",\"mount_point\":\"/d\"}}}")]
    [InlineData("{\"version\":1,\"user_id\":\"\",\"volumes\":{\"d\":{\"volume_id\":\"v\",\"mount_point\":\"/d\"}}}")]
    [InlineData("{\"version\":1,\"user_id\":\"a\",\"volumes\":{}}")]
    [InlineData("{\"version\":1,\"user_id\":\"a\",\"volumes\":{\"d\":{\"volume_id\":\"v\",\"mount_point\":\"/etc\"}}}")]
    [InlineData("{\"version\":1,\"user_id\":\"a\",\"volumes\":{\"../x\":{\"volume_id\":\"v\",\"mount_point\":\"/d\"}}}")]
    [InlineData("{\"version\":1,\"user_id\":\"a\",\"volumes\":{\"d\":{\"volume_id\":\"v\",\"mount_point\":\"/d\",\"passphrase\":\"x\"}}}")]
    [InlineData("{\"version\":1,\"user_id\":\"a\",\"volumes\":{\"d\":{\"volume_id\":\"v\"}}}")]
    public void Corrupt_or_tampered_record_is_treated_as_absent(string contents)
    {
        File.WriteAllText(_run.BootstrapRecord, contents);

        _store.Load().Should().BeNull();
    }

    public void Dispose() => _dir.Dispose();
}
