using System.Diagnostics.Metrics;
using System.Text;

namespace CvmControl.Metrics;

/// <summary>
/// Collects the measurements of this host's meters (<see cref="CvmMetrics"/>, ASP.NET Core's request
/// and Kestrel meters, the runtime's) with a <see cref="MeterListener"/> and writes them in the
/// Prometheus text exposition format 0.0.4.
/// </summary>
/// <remarks>
/// Written here rather than taken from a package: prometheus-net carries no trimming or AOT
/// annotations, and OpenTelemetry's Prometheus exporter is AOT-annotated but still a beta. What the
/// daemon needs is small: sums, last values and fixed-bucket histograms, rendered as text on request.
/// Only meters created by this host's <see cref="IMeterFactory"/> are read (plus the process-wide
/// runtime meter), so two hosts in one process (tests) never see each other's measurements.
/// </remarks>
internal sealed class PrometheusExporter : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>ASP.NET Core's request duration by method, route and status (its count is the request count).</summary>
    public const string HostingMeter = "Microsoft.AspNetCore.Hosting";

    /// <summary>Kestrel's connections and TLS handshakes.</summary>
    public const string KestrelMeter = "Microsoft.AspNetCore.Server.Kestrel";

    /// <summary>The runtime's GC, thread pool, memory and CPU figures (process-wide, so no factory scope).</summary>
    public const string RuntimeMeter = "System.Runtime";

    private readonly IMeterFactory _scope;
    private readonly MeterListener _listener;
    private readonly Lock _instrumentsGate = new();
    private readonly Lock _scrapeGate = new();
    private readonly List<InstrumentSeries> _instruments = [];

    public PrometheusExporter(IMeterFactory scope)
    {
        _scope = scope;
        _listener = new MeterListener
        {
            InstrumentPublished = OnPublished,
            MeasurementsCompleted = OnCompleted,
        };
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<short>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<byte>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>Every exported metric family as Prometheus text (format 0.0.4).</summary>
    public string Scrape()
    {
        lock (_scrapeGate)
        {
            List<InstrumentSeries> instruments;
            lock (_instrumentsGate)
            {
                instruments = [.. _instruments];
            }
            // Observable instruments report only when asked; their previous values are dropped first, so
            // a series that is no longer observed disappears instead of going stale.
            foreach (var instrument in instruments)
            {
                instrument.ResetIfObservable();
            }
            _listener.RecordObservableInstruments();

            var text = new StringBuilder(16 * 1024);
            var written = new HashSet<string>(StringComparer.Ordinal);
            foreach (var instrument in instruments.OrderBy(i => i.Name, StringComparer.Ordinal))
            {
                // Two instruments that map to one family would make an invalid exposition; the first wins.
                if (written.Add(instrument.FamilyName))
                {
                    instrument.WriteTo(text);
                }
            }
            return text.ToString();
        }
    }

    public void Dispose() => _listener.Dispose();

    private bool Exports(Meter meter) =>
        meter.Name == RuntimeMeter
        || (ReferenceEquals(meter.Scope, _scope) && meter.Name is CvmMetrics.MeterName or HostingMeter or KestrelMeter);

    private void OnPublished(Instrument instrument, MeterListener listener)
    {
        if (!Exports(instrument.Meter) || InstrumentSeries.For(instrument) is not { } series)
        {
            return;
        }
        lock (_instrumentsGate)
        {
            _instruments.Add(series);
        }
        listener.EnableMeasurementEvents(instrument, series);
    }

    private void OnCompleted(Instrument instrument, object? state)
    {
        if (state is InstrumentSeries series)
        {
            lock (_instrumentsGate)
            {
                _instruments.Remove(series);
            }
        }
    }
}
