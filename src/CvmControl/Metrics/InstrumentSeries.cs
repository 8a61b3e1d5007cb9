using System.Diagnostics.Metrics;
using System.Text;

namespace CvmControl.Metrics;

/// <summary>
/// The aggregated series of one instrument, keyed by label set: a running sum (counters, up-down
/// counters), the last value (gauges, observable instruments, which report totals) or a histogram with
/// fixed buckets. Written as one Prometheus metric family.
/// </summary>
internal sealed class InstrumentSeries
{
    /// <summary>A bound on label sets per instrument, so a label that misbehaves cannot grow memory without limit.</summary>
    public const int MaxSeries = 2000;

    /// <summary>OpenTelemetry's default boundaries, for a histogram that gives no advice.</summary>
    private static readonly double[] DefaultBounds = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    private readonly Lock _gate = new();
    private readonly Dictionary<int, List<Series>> _byHash = [];
    private readonly List<Series> _all = [];
    private readonly Aggregation _aggregation;
    private readonly bool _observable;
    private readonly double[] _bounds;
    private readonly string _type;
    private readonly string? _help;

    private InstrumentSeries(string name, string type, string? help, Aggregation aggregation, bool observable, double[]? bounds)
    {
        Name = name;
        _type = type;
        _help = help;
        _aggregation = aggregation;
        _observable = observable;
        _bounds = bounds ?? [];
    }

    private enum Aggregation
    {
        Sum,
        LastValue,
        Histogram,
    }

    public string Name { get; }

    /// <summary>
    /// The name parsers give the family: a counter's without its <c>_total</c>. Two instruments with the
    /// same family name would make an exposition that parsers refuse.
    /// </summary>
    public string FamilyName => _type == "counter" && Name.EndsWith("_total", StringComparison.Ordinal) ? Name[..^"_total".Length] : Name;

    /// <summary>How this exporter aggregates the instrument, or null for a kind it does not know.</summary>
    public static InstrumentSeries? For(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        var type = instrument.GetType();
        if (!type.IsGenericType)
        {
            return null;
        }
        var kind = type.GetGenericTypeDefinition();
        var help = instrument.Description;
        InstrumentSeries Make(string promType, Aggregation aggregation, bool observable, double[]? bounds = null) =>
            new(PrometheusText.MetricName(instrument.Name, instrument.Unit, promType == "counter"), promType, help, aggregation, observable, bounds);

        if (kind == typeof(Counter<>))
        {
            return Make("counter", Aggregation.Sum, observable: false);
        }
        if (kind == typeof(ObservableCounter<>))
        {
            return Make("counter", Aggregation.LastValue, observable: true);
        }
        if (kind == typeof(UpDownCounter<>))
        {
            return Make("gauge", Aggregation.Sum, observable: false);
        }
        if (kind == typeof(ObservableUpDownCounter<>) || kind == typeof(ObservableGauge<>))
        {
            return Make("gauge", Aggregation.LastValue, observable: true);
        }
        if (kind == typeof(Gauge<>))
        {
            return Make("gauge", Aggregation.LastValue, observable: false);
        }
        if (kind == typeof(Histogram<>))
        {
            return Make("histogram", Aggregation.Histogram, observable: false, BucketBounds(instrument));
        }
        return null;
    }

    public void Record<T>(T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : struct, IConvertible
    {
        var number = value.ToDouble(System.Globalization.CultureInfo.InvariantCulture);
        if (double.IsNaN(number))
        {
            return;
        }
        lock (_gate)
        {
            if (Find(tags) is not { } series)
            {
                return;
            }
            switch (_aggregation)
            {
                case Aggregation.Sum:
                    series.Value += number;
                    break;
                case Aggregation.LastValue:
                    series.Value = number;
                    break;
                case Aggregation.Histogram:
                    // Buckets are "less than or equal": the first bound at or above the value.
                    var bucket = 0;
                    while (bucket < _bounds.Length && number > _bounds[bucket])
                    {
                        bucket++;
                    }
                    series.Buckets![bucket]++;
                    series.Sum += number;
                    series.Count++;
                    break;
            }
        }
    }

    /// <summary>Observable instruments are asked afresh at every scrape; what they no longer report goes.</summary>
    public void ResetIfObservable()
    {
        if (!_observable)
        {
            return;
        }
        lock (_gate)
        {
            _byHash.Clear();
            _all.Clear();
        }
    }

    public void WriteTo(StringBuilder text)
    {
        if (_help is { Length: > 0 })
        {
            text.Append("# HELP ").Append(Name).Append(' ');
            PrometheusText.AppendHelp(text, _help);
            text.Append('\n');
        }
        text.Append("# TYPE ").Append(Name).Append(' ').Append(_type).Append('\n');
        lock (_gate)
        {
            foreach (var series in _all.OrderBy(s => s.Labels, StringComparer.Ordinal))
            {
                if (_aggregation == Aggregation.Histogram)
                {
                    WriteHistogram(text, series);
                }
                else
                {
                    Sample(text, Name, series.Labels, null, PrometheusText.Number(series.Value));
                }
            }
        }
    }

    private void WriteHistogram(StringBuilder text, Series series)
    {
        long cumulative = 0;
        for (var i = 0; i < _bounds.Length; i++)
        {
            cumulative += series.Buckets![i];
            Sample(text, Name + "_bucket", series.Labels, PrometheusText.Number(_bounds[i]), PrometheusText.Number(cumulative));
        }
        cumulative += series.Buckets![_bounds.Length];
        Sample(text, Name + "_bucket", series.Labels, "+Inf", PrometheusText.Number(cumulative));
        Sample(text, Name + "_sum", series.Labels, null, PrometheusText.Number(series.Sum));
        Sample(text, Name + "_count", series.Labels, null, PrometheusText.Number(series.Count));
    }

    private static void Sample(StringBuilder text, string name, string labels, string? le, string value)
    {
        text.Append(name);
        if (labels.Length > 0 || le is not null)
        {
            text.Append('{').Append(labels);
            if (le is not null)
            {
                text.Append(labels.Length > 0 ? ",le=\"" : "le=\"").Append(le).Append('"');
            }
            text.Append('}');
        }
        text.Append(' ').Append(value).Append('\n');
    }

    private Series? Find(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        // Order-independent, so that the same labels given in another order meet the same series.
        var hash = 0;
        foreach (var tag in tags)
        {
            hash += HashCode.Combine(tag.Key, tag.Value);
        }
        if (_byHash.TryGetValue(hash, out var candidates))
        {
            foreach (var candidate in candidates)
            {
                if (candidate.Matches(tags))
                {
                    return candidate;
                }
            }
        }
        if (_all.Count >= MaxSeries)
        {
            return null;
        }
        var created = new Series(tags.ToArray(), _aggregation == Aggregation.Histogram ? new long[_bounds.Length + 1] : null);
        if (candidates is null)
        {
            candidates = [];
            _byHash[hash] = candidates;
        }
        candidates.Add(created);
        _all.Add(created);
        return created;
    }

    private static double[] BucketBounds(Instrument instrument)
    {
        IReadOnlyList<double>? bounds = instrument switch
        {
            Instrument<double> d => d.Advice?.HistogramBucketBoundaries,
            Instrument<float> f => f.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToList(),
            Instrument<long> l => l.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToList(),
            Instrument<int> i => i.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToList(),
            _ => null,
        };
        // Prometheus wants increasing bounds; anything else falls back to the default set.
        if (bounds is null || bounds.Count == 0 || bounds.Zip(bounds.Skip(1)).Any(p => p.First >= p.Second) || bounds.Any(double.IsNaN))
        {
            return DefaultBounds;
        }
        return [.. bounds.Where(b => !double.IsPositiveInfinity(b))];
    }

    private sealed class Series
    {
        private readonly KeyValuePair<string, object?>[] _tags;

        public Series(KeyValuePair<string, object?>[] tags, long[]? buckets)
        {
            _tags = tags;
            Buckets = buckets;
            Labels = Render(tags);
        }

        /// <summary>The label pairs as written between the braces, sorted by name.</summary>
        public string Labels { get; }

        public double Value { get; set; }

        public long[]? Buckets { get; }

        public double Sum { get; set; }

        public long Count { get; set; }

        public bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length != _tags.Length)
            {
                return false;
            }
            foreach (var tag in tags)
            {
                var found = false;
                foreach (var mine in _tags)
                {
                    if (string.Equals(mine.Key, tag.Key, StringComparison.Ordinal))
                    {
                        found = Equals(mine.Value, tag.Value);
                        break;
                    }
                }
                if (!found)
                {
                    return false;
                }
            }
            return true;
        }

        private static string Render(KeyValuePair<string, object?>[] tags)
        {
            var text = new StringBuilder();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (name, value) in tags
                .Select(t => (Name: PrometheusText.LabelName(t.Key), Value: PrometheusText.LabelValue(t.Value)))
                .OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                // "le" belongs to the histogram's buckets, and a name may appear only once.
                if (name == "le" || !seen.Add(name))
                {
                    continue;
                }
                if (text.Length > 0)
                {
                    text.Append(',');
                }
                text.Append(name).Append("=\"");
                PrometheusText.AppendLabelValue(text, value);
                text.Append('"');
            }
            return text.ToString();
        }
    }
}
