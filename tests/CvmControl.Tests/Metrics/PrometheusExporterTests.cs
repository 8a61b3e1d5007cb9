using System.Diagnostics.Metrics;
using CvmControl.Metrics;

namespace CvmControl.Tests.Metrics;

public sealed class PrometheusExporterTests : IDisposable
{
    private readonly SteppedTime _time = new();
    private readonly TestMetrics _metrics;
    private readonly Meter _meter;

    public PrometheusExporterTests()
    {
        _metrics = new TestMetrics(_time);
        _meter = _metrics.MeterFactory.Create(CvmMetrics.MeterName);
    }

    [Fact]
    public void A_counter_is_summed_per_label_set_and_named_with_its_unit_and_total()
    {
        var counter = _meter.CreateCounter<long>("cvm_control.test.things", "By", "Things seen.");
        counter.Add(2, new KeyValuePair<string, object?>("kind", "a"));
        counter.Add(3, new KeyValuePair<string, object?>("kind", "a"));
        counter.Add(1, new KeyValuePair<string, object?>("kind", "b"));

        var text = _metrics.Scrape();

        text.Should().Contain("""
            # HELP cvm_control_test_things_bytes_total Things seen.
            # TYPE cvm_control_test_things_bytes_total counter
            cvm_control_test_things_bytes_total{kind="a"} 5
            cvm_control_test_things_bytes_total{kind="b"} 1

            """.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void The_same_labels_in_another_order_are_one_series_with_labels_sorted_by_name()
    {
        var counter = _meter.CreateCounter<int>("cvm_control.test.ordered");
        counter.Add(1, new("b", "2"), new("a", "1"));
        counter.Add(1, new("a", "1"), new("b", "2"));

        TestMetrics.Samples(_metrics.Scrape()).Should().Contain("""cvm_control_test_ordered_total{a="1",b="2"}""", 2);
    }

    [Fact]
    public void A_histogram_has_cumulative_buckets_from_its_advice_an_inf_bucket_a_sum_and_a_count()
    {
        var histogram = _meter.CreateHistogram("cvm_control.test.wait", "s", "Waits.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1, 2] });
        foreach (var value in new[] { 0.1, 0.5, 0.7, 1.5, 9 })
        {
            histogram.Record(value, new KeyValuePair<string, object?>("step", "open"));
        }

        _metrics.Scrape().Should().Contain("""
            # TYPE cvm_control_test_wait_seconds histogram
            cvm_control_test_wait_seconds_bucket{step="open",le="0.5"} 2
            cvm_control_test_wait_seconds_bucket{step="open",le="1"} 3
            cvm_control_test_wait_seconds_bucket{step="open",le="2"} 4
            cvm_control_test_wait_seconds_bucket{step="open",le="+Inf"} 5
            cvm_control_test_wait_seconds_sum{step="open"} 11.8
            cvm_control_test_wait_seconds_count{step="open"} 5

            """.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Label_values_and_help_text_are_escaped_as_the_format_requires()
    {
        var counter = _meter.CreateCounter<long>("cvm_control.test.escaped", description: "a \\ and a\nnew line");
        counter.Add(1, new KeyValuePair<string, object?>("dm_name", "quote\" back\\slash\nline"));

        var text = _metrics.Scrape();

        text.Should().Contain("# HELP cvm_control_test_escaped_total a \\\\ and a\\nnew line\n");
        text.Should().Contain("cvm_control_test_escaped_total{dm_name=\"quote\\\" back\\\\slash\\nline\"} 1\n");
    }

    [Fact]
    public async Task An_exposition_with_every_kind_of_instrument_passes_the_reference_parser()
    {
        _meter.CreateCounter<long>("cvm_control.test.count").Add(1, new KeyValuePair<string, object?>("x", "\"odd\" \\ value\n"));
        _meter.CreateUpDownCounter<int>("cvm_control.test.level").Add(-3);
        _meter.CreateGauge<double>("cvm_control.test.gauge", "s").Record(0.25);
        _meter.CreateObservableGauge("cvm_control.test.observed", () => 7);
        _meter.CreateObservableCounter("cvm_control.test.ticks", () => 12L);
        _meter.CreateHistogram<double>("cvm_control.test.default_buckets").Record(42);

        var text = _metrics.Scrape();

        await ReferenceParser.ShouldAcceptAsync(text,
            "--nonempty-histogram", "cvm_control_test_default_buckets",
            "--sample", "cvm_control_test_level", "{}", "-3",
            "--sample", "cvm_control_test_gauge_seconds", "{}", "0.25",
            "--sample", "cvm_control_test_observed", "{}", "7",
            "--sample", "cvm_control_test_ticks_total", "{}", "12",
            "--sample", "cvm_control_test_count_total", """{"x": "\"odd\" \\ value\n"}""", "1");
    }

    [Fact]
    public async Task A_malformed_exposition_is_refused_by_the_reference_parser()
    {
        // The check must be able to fail: a histogram whose +Inf bucket disagrees with its count.
        const string Broken = """
            # TYPE broken_seconds histogram
            broken_seconds_bucket{le="1"} 2
            broken_seconds_bucket{le="+Inf"} 1
            broken_seconds_sum 3
            broken_seconds_count 2

            """;

        var (exit, _, errors) = await ReferenceParser.CheckAsync(Broken.ReplaceLineEndings("\n"));

        exit.Should().Be(1);
        errors.Should().Contain("not cumulative");
    }

    [Fact]
    public void Observable_instruments_are_asked_afresh_at_each_scrape()
    {
        var sample = new DaemonStateSample("bootstrap", "bootstrap");
        _metrics.Metrics.ObserveState(() => sample);

        var first = TestMetrics.Samples(_metrics.Scrape());
        sample = new DaemonStateSample("ready", null);
        var second = TestMetrics.Samples(_metrics.Scrape());

        first.Should().Contain("""cvm_control_state{state="bootstrap"}""", 1).And.Contain("""cvm_control_state{state="ready"}""", 0);
        first.Should().Contain("""cvm_control_operation_in_progress{kind="bootstrap"}""", 1);
        second.Should().Contain("""cvm_control_state{state="bootstrap"}""", 0).And.Contain("""cvm_control_state{state="ready"}""", 1);
        second.Should().Contain("""cvm_control_operation_in_progress{kind="bootstrap"}""", 0);
    }

    [Fact]
    public async Task Of_two_instruments_that_map_to_one_family_only_the_first_by_name_is_written()
    {
        _meter.CreateCounter<long>("cvm_control.test.twin").Add(1);
        _meter.CreateObservableGauge("cvm_control.test.twin", () => 5);

        var text = _metrics.Scrape();

        text.Should().Contain("cvm_control_test_twin 5\n").And.NotContain("cvm_control_test_twin_total");
        await ReferenceParser.ShouldAcceptAsync(text);
    }

    [Fact]
    public void Meters_of_another_host_are_not_exported()
    {
        using var other = new TestMetrics(_time);
        other.MeterFactory.Create(CvmMetrics.MeterName).CreateCounter<long>("cvm_control.test.elsewhere").Add(1);
        using var unscoped = new Meter(CvmMetrics.MeterName);
        unscoped.CreateCounter<long>("cvm_control.test.unscoped").Add(1);

        var text = _metrics.Scrape();

        text.Should().NotContain("elsewhere").And.NotContain("unscoped");
        other.Scrape().Should().Contain("cvm_control_test_elsewhere_total 1");
    }

    [Fact]
    public void Label_sets_beyond_the_bound_are_dropped_instead_of_growing_memory()
    {
        var counter = _meter.CreateCounter<long>("cvm_control.test.many");
        for (var i = 0; i < InstrumentSeries.MaxSeries + 10; i++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("i", i));
        }

        TestMetrics.Samples(_metrics.Scrape()).Keys.Count(k => k.StartsWith("cvm_control_test_many_total", StringComparison.Ordinal))
            .Should().Be(InstrumentSeries.MaxSeries);
    }

    [Fact]
    public async Task Step_timing_records_the_duration_dm_name_and_outcome_and_rethrows_failures()
    {
        await _metrics.Metrics.TimeStepAsync(VolumeSteps.Open, "data", () =>
        {
            _time.Advance(TimeSpan.FromSeconds(3));
            return Task.FromResult(0);
        });
        var failing = () => _metrics.Metrics.TimeStepAsync(VolumeSteps.Mkfs, "data", () =>
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            throw new InvalidOperationException("mkfs failed");
        });

        await failing.Should().ThrowAsync<InvalidOperationException>();
        var samples = TestMetrics.Samples(_metrics.Scrape());
        samples.Should().Contain("""cvm_control_volume_step_duration_seconds_sum{dm_name="data",outcome="ok",step="open"}""", 3);
        samples.Should().Contain("""cvm_control_volume_step_duration_seconds_count{dm_name="data",outcome="error",step="mkfs"}""", 1);
    }

    public void Dispose()
    {
        _meter.Dispose();
        _metrics.Dispose();
    }
}
