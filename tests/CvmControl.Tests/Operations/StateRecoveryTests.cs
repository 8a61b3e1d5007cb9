using CvmControl.Json;
using CvmControl.Operations;
using CvmControl.Provisioning;
using CvmControl.State;
using CvmControl.Tests.Fakes;
using CvmControl.Volumes;
using CvmControl.Volumes.Devices;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CvmControl.Tests.Operations;

public sealed class StateRecoveryTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly BootstrapRecordStore _store;

    public StateRecoveryTests()
    {
        _store = new BootstrapRecordStore(new RunDirectory(_dir.Path), NullLogger<BootstrapRecordStore>.Instance);
    }

    private static readonly VolumeTarget[] Targets = [new("data", "vol-0aaa", "/data"), new("logs", "vol-0bbb", "/var/log/app")];

    [Fact]
    public void Recovery_comes_up_ready_only_when_every_volume_is_mounted()
    {
        _store.Save(BootstrapRecord.From("alice", Targets, DateTimeOffset.UnixEpoch));
        var mounts = new FakeMountTable();
        mounts.Mount("/data", "/dev/mapper/data");
        var devices = Options.Create(new DeviceOptions());
        var partial = new OperationTracker();
        new StateRecovery(_store, mounts, partial, devices, NullLogger<StateRecovery>.Instance).Recover();
        partial.Phase.Should().Be(DaemonPhase.Bootstrap);

        mounts.Mount("/var/log/app", "/dev/sdz1");
        var wrongSource = new OperationTracker();
        new StateRecovery(_store, mounts, wrongSource, devices, NullLogger<StateRecovery>.Instance).Recover();
        wrongSource.Phase.Should().Be(DaemonPhase.Bootstrap, "a mount point holding another device is not the volume");

        mounts.Mount("/var/log/app", "/dev/mapper/logs");
        var full = new OperationTracker();
        new StateRecovery(_store, mounts, full, devices, NullLogger<StateRecovery>.Instance).Recover();
        full.Phase.Should().Be(DaemonPhase.Ready);
    }

    public void Dispose() => _dir.Dispose();
}
