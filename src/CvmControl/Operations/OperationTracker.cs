using System.Security.Cryptography;
using System.Text;
using CvmControl.Api.V1;
using CvmControl.Json;
using CvmControl.Metrics;
using CvmControl.State;
using CvmControl.Validation;
using CvmControl.Volumes;

namespace CvmControl.Operations;

internal enum DaemonPhase
{
    Bootstrap,
    Ready,
    Shutdown,
}

internal enum OperationKind
{
    Bootstrap,
    Passphrase,
}

/// <summary>The operation that holds the single slot.</summary>
internal sealed class RunningOperation(OperationKind kind, byte[] digest, long started = 0)
{
    public OperationKind Kind { get; } = kind;

    /// <summary>When the slot was taken, as a <see cref="TimeProvider"/> timestamp.</summary>
    public long Started { get; } = started;

    public byte[] Digest { get; } = digest;

    /// <summary>For a passphrase rotation: the verdict of the old-passphrase check, shared with identical retries.</summary>
    public TaskCompletionSource<PassphraseAdmission> Admission { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

internal enum BootstrapDecision
{
    Start,
    AlreadyRunning,
    AlreadyReady,
    Conflict,
}

internal sealed record BootstrapAdmission(BootstrapDecision Decision, string? Reason = null, RunningOperation? Operation = null);

internal enum PassphraseDecision
{
    /// <summary>The slot is reserved; check the old passphrases, then accept or abandon.</summary>
    Check,

    /// <summary>An identical request holds the slot; share its verdict.</summary>
    Join,
    Accepted,
    Conflict,
    UnknownVolumes,
    Unauthorized,
    CheckFailed,
}

internal sealed record PassphraseAdmission(
    PassphraseDecision Decision,
    string? Reason = null,
    RunningOperation? Operation = null,
    IReadOnlyList<VolumeTarget>? Targets = null,
    string? Detail = null);

internal enum ShutdownDecision
{
    Begin,
    Conflict,
    Unauthorized,
}

internal sealed record ShutdownAdmission(ShutdownDecision Decision, string? Reason = null, DaemonPhase PreviousPhase = DaemonPhase.Bootstrap);

/// <summary>
/// The daemon's state machine: phase (bootstrap → ready → shutdown), the single operation slot that a
/// bootstrap or a passphrase rotation holds, and the last result of each. Every decision is made under
/// one lock that is never held across I/O, so status reads never wait on a running operation.
/// </summary>
internal sealed class OperationTracker
{
    private readonly Lock _gate = new();
    private readonly CvmMetrics _metrics;
    private DaemonPhase _phase = DaemonPhase.Bootstrap;
    private BootstrapRecord? _record;
    private byte[]? _completedDigest;
    private RunningOperation? _running;
    private OperationView _bootstrapView = OperationView.Idle;
    private OperationView _passphraseView = OperationView.Idle;

    public OperationTracker(CvmMetrics? metrics = null)
    {
        _metrics = metrics ?? CvmMetrics.None;
        _metrics.ObserveState(Sample);
    }

    /// <summary>
    /// Raised after the phase changes or an operation takes or leaves the slot, outside the lock and on
    /// the thread that made the change: handlers must be quick and must not throw.
    /// </summary>
    public event Action? Changed;

    /// <summary>Where each volume of the running operation is; reset when an operation takes the slot.</summary>
    public VolumeProgress Progress { get; } = new();

    public DaemonPhase Phase
    {
        get { lock (_gate) { return _phase; } }
    }

    /// <summary>The phase and the operation holding the slot, read together.</summary>
    public (DaemonPhase Phase, OperationKind? Running) State
    {
        get { lock (_gate) { return (_phase, _running?.Kind); } }
    }

    public OperationView BootstrapView
    {
        get { lock (_gate) { return _bootstrapView; } }
    }

    public OperationView PassphraseView
    {
        get { lock (_gate) { return _passphraseView; } }
    }

    /// <summary>The answer to <c>GET /api/v1/bootstrap</c>: while it runs, with each volume's step.</summary>
    public OperationStatusResponse BootstrapStatus()
    {
        lock (_gate) { return WithProgress(_bootstrapView); }
    }

    /// <summary>The answer to <c>GET /api/v1/passphrase</c>: while it runs, with each volume's step.</summary>
    public OperationStatusResponse PassphraseStatus()
    {
        lock (_gate) { return WithProgress(_passphraseView); }
    }

    // Under the gate, so that a view that says in_progress is read with the progress of the same operation.
    private OperationStatusResponse WithProgress(OperationView view) =>
        view.Status == ApiStatus.InProgress ? view.ToResponse(Progress.Snapshot()) : view.ToResponse();

    /// <summary>Comes up ready from a record whose volumes are all still mounted. Only before any request.</summary>
    public void Recover(BootstrapRecord record)
    {
        lock (_gate)
        {
            if (_phase != DaemonPhase.Bootstrap || _running is not null || _record is not null)
            {
                throw new InvalidOperationException("recovery must happen before the daemon serves requests");
            }
            _record = record;
            _phase = DaemonPhase.Ready;
            _bootstrapView = OperationView.Completed;
        }
        Changed?.Invoke();
    }

    public BootstrapAdmission BeginBootstrap(BootstrapPlan plan, byte[] digest)
    {
        var admission = Admit(plan, digest);
        if (admission.Decision == BootstrapDecision.Start)
        {
            Changed?.Invoke();
        }
        return admission;
    }

    private BootstrapAdmission Admit(BootstrapPlan plan, byte[] digest)
    {
        lock (_gate)
        {
            if (_phase == DaemonPhase.Shutdown)
            {
                return new(BootstrapDecision.Conflict, "daemon is shutting down");
            }
            // An identical request after success is answered from state, whatever else runs: nothing re-runs.
            if (_phase == DaemonPhase.Ready && IsSameAsCompleted(plan, digest))
            {
                return new(BootstrapDecision.AlreadyReady);
            }
            if (_running is { } running)
            {
                return running.Kind == OperationKind.Bootstrap && RequestDigest.Same(running.Digest, digest)
                    ? new(BootstrapDecision.AlreadyRunning, Operation: running)
                    : new(BootstrapDecision.Conflict, running.Kind == OperationKind.Bootstrap
                        ? "a different bootstrap is in progress"
                        : "a passphrase rotation is in progress");
            }
            if (_phase == DaemonPhase.Ready)
            {
                return new(BootstrapDecision.Conflict, "already bootstrapped with a different request");
            }
            var operation = new RunningOperation(OperationKind.Bootstrap, digest, _metrics.Now());
            _running = operation;
            Progress.Reset(plan.Volumes.Select(v => v.Target.DmName));
            _bootstrapView = OperationView.InProgress;
            return new(BootstrapDecision.Start, Operation: operation);
        }
    }

    /// <summary>Ends a bootstrap. A non-null <paramref name="record"/> means it succeeded and the daemon is ready.</summary>
    public void FinishBootstrap(RunningOperation operation, OperationView view, BootstrapRecord? record)
    {
        lock (_gate)
        {
            EnsureHolds(operation);
            _running = null;
            _bootstrapView = view;
            if (record is not null)
            {
                _record = record;
                _completedDigest = operation.Digest;
                _phase = DaemonPhase.Ready;
            }
        }
        _metrics.OperationFinished("bootstrap", record is not null, operation.Started);
        Changed?.Invoke();
    }

    public PassphraseAdmission BeginPassphrase(PassphrasePlan plan, byte[] digest)
    {
        var admission = Admit(plan, digest);
        if (admission.Decision == PassphraseDecision.Check)
        {
            Changed?.Invoke();
        }
        return admission;
    }

    private PassphraseAdmission Admit(PassphrasePlan plan, byte[] digest)
    {
        lock (_gate)
        {
            if (_phase != DaemonPhase.Ready)
            {
                return new(PassphraseDecision.Conflict, _phase == DaemonPhase.Shutdown ? "daemon is shutting down" : "daemon is not bootstrapped");
            }
            if (_running is { } running)
            {
                return running.Kind == OperationKind.Passphrase && RequestDigest.Same(running.Digest, digest)
                    ? new(PassphraseDecision.Join, Operation: running)
                    : new(PassphraseDecision.Conflict, running.Kind == OperationKind.Passphrase
                        ? "a different passphrase rotation is in progress"
                        : "a bootstrap is in progress");
            }
            var known = _record!.Volumes;
            var unknown = plan.Volumes.Select(v => v.DmName).Where(n => !known.ContainsKey(n)).ToList();
            if (unknown.Count > 0)
            {
                return new(PassphraseDecision.UnknownVolumes, $"not a bootstrapped volume: {string.Join(", ", unknown)}");
            }
            var operation = new RunningOperation(OperationKind.Passphrase, digest, _metrics.Now());
            _running = operation;
            // No view shows this progress until the rotation is accepted.
            Progress.Reset(plan.Volumes.Select(v => v.DmName));
            var targets = _record.Targets.Where(t => plan.Volumes.Any(v => v.DmName == t.DmName)).ToList();
            return new(PassphraseDecision.Check, Operation: operation, Targets: targets);
        }
    }

    /// <summary>The old passphrases were right: the rotation is now in progress.</summary>
    public void AcceptPassphrase(RunningOperation operation)
    {
        lock (_gate)
        {
            EnsureHolds(operation);
            _passphraseView = OperationView.InProgress;
        }
    }

    /// <summary>Releases the slot without a result, e.g. after a wrong old passphrase.</summary>
    public void AbandonPassphrase(RunningOperation operation)
    {
        lock (_gate)
        {
            EnsureHolds(operation);
            _running = null;
        }
        Changed?.Invoke();
    }

    public void FinishPassphrase(RunningOperation operation, OperationView view)
    {
        lock (_gate)
        {
            EnsureHolds(operation);
            _running = null;
            _passphraseView = view;
        }
        _metrics.OperationFinished("passphrase", view.Status == ApiStatus.Completed, operation.Started);
        Changed?.Invoke();
    }

    /// <summary>Checks the caller and moves to <see cref="DaemonPhase.Shutdown"/>, which blocks new operations.</summary>
    public ShutdownAdmission BeginShutdown(string? userId)
    {
        var admission = AdmitShutdown(userId);
        if (admission.Decision == ShutdownDecision.Begin)
        {
            Changed?.Invoke();
        }
        return admission;
    }

    private ShutdownAdmission AdmitShutdown(string? userId)
    {
        lock (_gate)
        {
            if (_running is { } running)
            {
                return new(ShutdownDecision.Conflict, running.Kind == OperationKind.Bootstrap ? "a bootstrap is in progress" : "a passphrase rotation is in progress");
            }
            if (_phase == DaemonPhase.Shutdown)
            {
                return new(ShutdownDecision.Conflict, "a shutdown is already in progress");
            }
            if (_phase == DaemonPhase.Ready)
            {
                if (string.IsNullOrEmpty(userId))
                {
                    return new(ShutdownDecision.Unauthorized, "user_id is required");
                }
                if (!FixedTimeEquals(userId, _record!.UserId))
                {
                    return new(ShutdownDecision.Unauthorized, "user_id does not match");
                }
            }
            var previous = _phase;
            _phase = DaemonPhase.Shutdown;
            return new(ShutdownDecision.Begin, PreviousPhase: previous);
        }
    }

    /// <summary>The init system refused: the VM is not going down, so the daemon goes back to where it was.</summary>
    public void AbortShutdown(DaemonPhase previous)
    {
        lock (_gate)
        {
            if (_phase == DaemonPhase.Shutdown)
            {
                _phase = previous;
            }
        }
        Changed?.Invoke();
    }

    private DaemonStateSample Sample()
    {
        var (phase, running) = State;
        return new(
            phase switch { DaemonPhase.Ready => "ready", DaemonPhase.Shutdown => "shutdown", _ => "bootstrap" },
            running switch { OperationKind.Bootstrap => "bootstrap", OperationKind.Passphrase => "passphrase", _ => null });
    }

    /// <summary>
    /// In this process the whole request (secrets included) is compared by digest. After a restart only
    /// the record is left, so only user_id and the volumes' names, ids and mount points can be compared.
    /// </summary>
    private bool IsSameAsCompleted(BootstrapPlan plan, byte[] digest)
    {
        if (_completedDigest is not null)
        {
            return RequestDigest.Same(_completedDigest, digest);
        }
        return _record is not null
            && string.Equals(_record.UserId, plan.UserId, StringComparison.Ordinal)
            && _record.Targets.SequenceEqual(plan.Targets);
    }

    private void EnsureHolds(RunningOperation operation)
    {
        if (!ReferenceEquals(_running, operation))
        {
            throw new InvalidOperationException("the operation does not hold the slot");
        }
    }

    // Hashing first makes the comparison independent of the lengths as well as the contents.
    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(a)),
            SHA256.HashData(Encoding.UTF8.GetBytes(b)));
}
