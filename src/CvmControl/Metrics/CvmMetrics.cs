using System.Diagnostics.Metrics;

namespace CvmControl.Metrics;

/// <summary>
/// The daemon's own instruments, on one <see cref="Meter"/> named <see cref="MeterName"/>. Other rooms
/// record through the methods here; only <see cref="PrometheusExporter"/> reads them.
/// </summary>
/// <remarks>
/// Label values are the daemon's own fixed words, plus the dm name of a volume (which the owner chose
/// and the validator limited to <c>[A-Za-z0-9._-]</c>). Never a passphrase, a user id or a volume id:
/// the methods take no argument that could carry one.
/// </remarks>
internal sealed class CvmMetrics
{
    public const string MeterName = "CvmControl";

    /// <summary>Volume steps and operations: argon2id runs take seconds, mkfs on a large disk minutes.</summary>
    private static readonly double[] SlowBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000];

    /// <summary>Attestation (a PSP or quoting enclave round trip) and KDF gate waits.</summary>
    private static readonly double[] WaitBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100];

    private readonly TimeProvider _time;
    private readonly Histogram<double> _operations;
    private readonly Histogram<double> _volumeSteps;
    private readonly Histogram<double> _kdfWaits;
    private readonly UpDownCounter<int> _kdfWaiting;
    private readonly UpDownCounter<int> _kdfRunning;
    private readonly Histogram<double> _attestations;
    private readonly Counter<long> _handshakeFailures;
    private readonly Counter<long> _clientRefusals;
    private Func<DaemonStateSample>? _state;
    private int _kdfSlots;

    public CvmMetrics(IMeterFactory meters, TimeProvider time)
        : this((meters ?? throw new ArgumentNullException(nameof(meters))).Create(MeterName), time)
    {
    }

    private CvmMetrics(Meter meter, TimeProvider time)
    {
        _time = time;
        _operations = meter.CreateHistogram("cvm_control.operation.duration", "s",
            "Bootstrap and passphrase rotation operations, from taking the daemon's single slot to their end, by kind and outcome (completed, failed).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SlowBuckets });
        _volumeSteps = meter.CreateHistogram("cvm_control.volume.step.duration", "s",
            "One volume's luksFormat, open, mkfs, e2fsck, resize2fs and mount steps, by dm name and outcome; KDF gate waits are not included.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SlowBuckets });
        _kdfWaits = meter.CreateHistogram("cvm_control.kdf.gate.wait", "s",
            "How long memory-hard KDF steps waited for room in the KDF gate's memory budget.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = WaitBuckets });
        _kdfWaiting = meter.CreateUpDownCounter<int>("cvm_control.kdf.gate.waiting", "{step}", "KDF steps waiting for room in the memory budget now.");
        _kdfRunning = meter.CreateUpDownCounter<int>("cvm_control.kdf.gate.running", "{step}", "KDF steps running under the gate now.");
        meter.CreateObservableGauge("cvm_control.kdf.gate.slots", () => Volatile.Read(ref _kdfSlots), "{step}",
            "How many KDF steps that make a new keyslot (at the configured PBKDF memory) fit at once in the gate's memory budget, three quarters of the memory available at start.");
        _attestations = meter.CreateHistogram("cvm_control.attestation.duration", "s",
            "Attestation evidence requests that reached the provider, by outcome (ok, no_provider, provider_failed).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = WaitBuckets });
        _handshakeFailures = meter.CreateCounter<long>("cvm_control.tls.handshake.failures", "{handshake}",
            "TLS handshakes that did not complete, by listener and reason.");
        _clientRefusals = meter.CreateCounter<long>("cvm_control.client_auth.refusals", "{refusal}",
            "Clients refused by client authentication: at the handshake (certificate not accepted) or at a request (authenticated but not allowed).");
        meter.CreateObservableGauge("cvm_control.state", ObserveState, "",
            "The daemon's state: 1 for the current one (bootstrap, ready or shutdown), 0 for the others.");
        meter.CreateObservableGauge("cvm_control.operation.in_progress", ObserveOperation, "",
            "1 while an operation of that kind (bootstrap, passphrase) holds the daemon's single slot.");
    }

    /// <summary>Instruments nobody exports: for components built outside a host, as unit tests do.</summary>
    public static CvmMetrics None { get; } = new(new Meter(MeterName), TimeProvider.System);

    public TimeProvider Time => _time;

    /// <summary>The daemon's state at the moment of a scrape; the tracker registers itself here.</summary>
    public void ObserveState(Func<DaemonStateSample> state) => _state = state;

    public void OperationFinished(string kind, bool succeeded, long startedTimestamp) =>
        _operations.Record(Seconds(startedTimestamp), new("kind", kind), new("outcome", succeeded ? "completed" : "failed"));

    /// <summary>Times one volume step (<see cref="VolumeSteps"/>); a step that throws counts as an error.</summary>
    public async Task<T> TimeStepAsync<T>(string step, string dmName, Func<Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var started = _time.GetTimestamp();
        var outcome = "error";
        try
        {
            var result = await work();
            outcome = "ok";
            return result;
        }
        finally
        {
            _volumeSteps.Record(Seconds(started), new("step", step), new("dm_name", dmName), new("outcome", outcome));
        }
    }

    public Task TimeStepAsync(string step, string dmName, Func<Task> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return TimeStepAsync(step, dmName, async () =>
        {
            await work();
            return true;
        });
    }

    public void KdfSlots(int slots) => Volatile.Write(ref _kdfSlots, slots);

    /// <summary>A KDF step starts waiting for a slot; returns the timestamp to hand to <see cref="KdfAcquired"/>.</summary>
    public long KdfWaiting()
    {
        _kdfWaiting.Add(1);
        return _time.GetTimestamp();
    }

    public void KdfAcquired(long waitingSince)
    {
        _kdfWaiting.Add(-1);
        _kdfWaits.Record(Seconds(waitingSince));
        _kdfRunning.Add(1);
    }

    public void KdfReleased() => _kdfRunning.Add(-1);

    public long Now() => _time.GetTimestamp();

    public void AttestationFinished(string outcome, long startedTimestamp) =>
        _attestations.Record(Seconds(startedTimestamp), new KeyValuePair<string, object?>("outcome", outcome));

    public void TlsHandshakeFailed(string listener, string reason) =>
        _handshakeFailures.Add(1, new("listener", listener), new("reason", reason));

    public void ClientRefused(string stage) => _clientRefusals.Add(1, new KeyValuePair<string, object?>("stage", stage));

    private double Seconds(long startedTimestamp) => _time.GetElapsedTime(startedTimestamp).TotalSeconds;

    private IEnumerable<Measurement<int>> ObserveState()
    {
        if (_state?.Invoke() is not { } sample)
        {
            yield break;
        }
        foreach (var state in DaemonStateSample.States)
        {
            yield return new(state == sample.State ? 1 : 0, new KeyValuePair<string, object?>("state", state));
        }
    }

    private IEnumerable<Measurement<int>> ObserveOperation()
    {
        if (_state?.Invoke() is not { } sample)
        {
            yield break;
        }
        foreach (var kind in DaemonStateSample.OperationKinds)
        {
            yield return new(kind == sample.Operation ? 1 : 0, new KeyValuePair<string, object?>("kind", kind));
        }
    }
}
