using CvmControl.Api.V1;
using CvmControl.Json;
using CvmControl.Operations;
using CvmControl.OS;
using CvmControl.State;
using CvmControl.Validation;
using CvmControl.Volumes;

namespace CvmControl.Tests.Operations;

public sealed class OperationTrackerTests
{
    private readonly OperationTracker _tracker = new();

    private static BootstrapPlan Plan(string user = "alice", string volumeId = "vol-1") =>
        new(user, [], [], [new VolumePlan(new VolumeTarget("data", volumeId, "/data"), new Passphrase("pw"))]);

    private static PassphrasePlan Rotation(string dm = "data", string @new = "n") =>
        new([new PassphraseChangePlan(dm, new Passphrase("pw"), new Passphrase(@new))]);

    private static readonly byte[] A = [1];
    private static readonly byte[] B = [2];

    private RunningOperation StartAndFinishBootstrap(byte[] digest)
    {
        var op = _tracker.BeginBootstrap(Plan(), digest).Operation!;
        _tracker.FinishBootstrap(op, OperationView.Completed, BootstrapRecord.From("alice", Plan().Targets, DateTimeOffset.UnixEpoch));
        return op;
    }

    [Fact]
    public void Starts_in_bootstrap_with_both_operations_idle()
    {
        _tracker.Phase.Should().Be(DaemonPhase.Bootstrap);
        _tracker.BootstrapView.Status.Should().Be(ApiStatus.Idle);
        _tracker.PassphraseView.Status.Should().Be(ApiStatus.Idle);
    }

    [Fact]
    public void Bootstrap_holds_the_slot_until_finished()
    {
        var admission = _tracker.BeginBootstrap(Plan(), A);
        admission.Decision.Should().Be(BootstrapDecision.Start);
        _tracker.BootstrapView.Status.Should().Be(ApiStatus.InProgress);

        _tracker.BeginBootstrap(Plan(), A).Decision.Should().Be(BootstrapDecision.AlreadyRunning);
        _tracker.BeginBootstrap(Plan(), B).Decision.Should().Be(BootstrapDecision.Conflict);
        _tracker.BeginShutdown(null).Decision.Should().Be(ShutdownDecision.Conflict);
    }

    [Fact]
    public void Successful_bootstrap_makes_the_daemon_ready_and_identical_requests_idempotent()
    {
        StartAndFinishBootstrap(A);

        _tracker.Phase.Should().Be(DaemonPhase.Ready);
        _tracker.BeginBootstrap(Plan(), A).Decision.Should().Be(BootstrapDecision.AlreadyReady);
        _tracker.BeginBootstrap(Plan(), B).Should().Be(new BootstrapAdmission(BootstrapDecision.Conflict, "already bootstrapped with a different request"));
    }

    [Fact]
    public void Failed_bootstrap_stays_in_bootstrap_and_frees_the_slot()
    {
        var op = _tracker.BeginBootstrap(Plan(), A).Operation!;
        _tracker.FinishBootstrap(op, OperationView.Failed("one or more volumes failed"), record: null);

        _tracker.Phase.Should().Be(DaemonPhase.Bootstrap);
        _tracker.BootstrapView.Status.Should().Be(ApiStatus.Failed);
        _tracker.BeginBootstrap(Plan(), B).Decision.Should().Be(BootstrapDecision.Start);
    }

    [Fact]
    public void Recovered_daemon_compares_only_user_and_volume_metadata()
    {
        _tracker.Recover(BootstrapRecord.From("alice", Plan().Targets, DateTimeOffset.UnixEpoch));

        _tracker.Phase.Should().Be(DaemonPhase.Ready);
        _tracker.BootstrapView.Status.Should().Be(ApiStatus.Completed);
        _tracker.BeginBootstrap(Plan(), B).Decision.Should().Be(BootstrapDecision.AlreadyReady);
        _tracker.BeginBootstrap(Plan(user: "bob"), B).Decision.Should().Be(BootstrapDecision.Conflict);
        _tracker.BeginBootstrap(Plan(volumeId: "vol-2"), B).Decision.Should().Be(BootstrapDecision.Conflict);
    }

    [Fact]
    public void Recovery_is_refused_once_the_daemon_has_state()
    {
        _tracker.BeginBootstrap(Plan(), A);
        var act = () => _tracker.Recover(BootstrapRecord.From("alice", Plan().Targets, DateTimeOffset.UnixEpoch));
        act.Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void Passphrase_requires_ready()
    {
        _tracker.BeginPassphrase(Rotation(), A).Should().Be(new PassphraseAdmission(PassphraseDecision.Conflict, "daemon is not bootstrapped"));
    }

    [Fact]
    public void Passphrase_check_reserves_the_slot_and_identical_requests_join_it()
    {
        StartAndFinishBootstrap(A);

        var first = _tracker.BeginPassphrase(Rotation(), B);
        first.Decision.Should().Be(PassphraseDecision.Check);
        first.Targets.Should().Equal(new VolumeTarget("data", "vol-1", "/data"));
        _tracker.PassphraseView.Status.Should().Be(ApiStatus.Idle, "nothing is accepted until the old passphrases are checked");

        var join = _tracker.BeginPassphrase(Rotation(), B);
        join.Decision.Should().Be(PassphraseDecision.Join);
        join.Operation.Should().BeSameAs(first.Operation);
        _tracker.BeginPassphrase(Rotation(), A).Decision.Should().Be(PassphraseDecision.Conflict);
        _tracker.BeginBootstrap(Plan(user: "bob"), B).Decision.Should().Be(BootstrapDecision.Conflict);
    }

    [Fact]
    public void Identical_bootstrap_after_success_is_ready_even_while_a_rotation_holds_the_slot()
    {
        StartAndFinishBootstrap(A);
        _tracker.BeginPassphrase(Rotation(), B);

        _tracker.BeginBootstrap(Plan(), A).Decision.Should().Be(BootstrapDecision.AlreadyReady);
        _tracker.BeginBootstrap(Plan(), B).Decision.Should().Be(BootstrapDecision.Conflict);
    }

    [Fact]
    public void Abandoned_rotation_frees_the_slot_without_a_result()
    {
        StartAndFinishBootstrap(A);
        var op = _tracker.BeginPassphrase(Rotation(), B).Operation!;

        _tracker.AbandonPassphrase(op);

        _tracker.PassphraseView.Status.Should().Be(ApiStatus.Idle);
        _tracker.BeginPassphrase(Rotation(), B).Decision.Should().Be(PassphraseDecision.Check);
    }

    [Fact]
    public void Accepted_rotation_is_in_progress_until_finished()
    {
        StartAndFinishBootstrap(A);
        var op = _tracker.BeginPassphrase(Rotation(), B).Operation!;

        _tracker.AcceptPassphrase(op);
        _tracker.PassphraseView.Status.Should().Be(ApiStatus.InProgress);
        _tracker.FinishPassphrase(op, OperationView.Completed);

        _tracker.PassphraseView.Status.Should().Be(ApiStatus.Completed);
        _tracker.Phase.Should().Be(DaemonPhase.Ready);
    }

    [Fact]
    public void Unknown_volumes_are_named()
    {
        StartAndFinishBootstrap(A);
        _tracker.BeginPassphrase(Rotation(dm: "cache"), B).Should().Be(new PassphraseAdmission(PassphraseDecision.UnknownVolumes, "not a bootstrapped volume: cache"));
    }

    [Fact]
    public void Finishing_an_operation_that_does_not_hold_the_slot_is_a_bug()
    {
        var stale = new RunningOperation(OperationKind.Bootstrap, A);
        var act = () => _tracker.FinishBootstrap(stale, OperationView.Completed, null);
        act.Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void Shutdown_before_bootstrap_needs_no_user()
    {
        _tracker.BeginShutdown(null).Should().Be(new ShutdownAdmission(ShutdownDecision.Begin, PreviousPhase: DaemonPhase.Bootstrap));
        _tracker.Phase.Should().Be(DaemonPhase.Shutdown);
        _tracker.BeginBootstrap(Plan(), A).Decision.Should().Be(BootstrapDecision.Conflict);
    }

    [Fact]
    public void Shutdown_once_ready_checks_the_user()
    {
        StartAndFinishBootstrap(A);

        _tracker.BeginShutdown(null).Decision.Should().Be(ShutdownDecision.Unauthorized);
        _tracker.BeginShutdown("alicE").Decision.Should().Be(ShutdownDecision.Unauthorized);
        _tracker.BeginShutdown("alice").Decision.Should().Be(ShutdownDecision.Begin);
        _tracker.BeginShutdown("alice").Should().Be(new ShutdownAdmission(ShutdownDecision.Conflict, "a shutdown is already in progress"));
    }

    [Fact]
    public void Aborted_shutdown_returns_to_the_previous_phase()
    {
        StartAndFinishBootstrap(A);
        var admission = _tracker.BeginShutdown("alice");

        _tracker.AbortShutdown(admission.PreviousPhase);

        _tracker.Phase.Should().Be(DaemonPhase.Ready);
    }

    [Fact]
    public async Task Status_reads_do_not_wait_for_a_running_operation()
    {
        _tracker.BeginBootstrap(Plan(), A);

        // Many concurrent readers while the slot is held: none blocks.
        var reads = Enumerable.Range(0, 200).Select(_ => Task.Run(() => (_tracker.Phase, _tracker.BootstrapView.Status)));
        var results = await Task.WhenAll(reads).WaitAsync(TimeSpan.FromSeconds(10));

        results.Should().OnlyContain(r => r.Phase == DaemonPhase.Bootstrap && r.Status == ApiStatus.InProgress);
    }
}
