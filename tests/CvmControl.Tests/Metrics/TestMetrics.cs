using System.Globalization;
using System.Text.RegularExpressions;
using CvmControl.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace CvmControl.Tests.Metrics;

/// <summary>The metrics room as a host composes it (one meter factory, its exporter listening), without the host.</summary>
internal sealed partial class TestMetrics : IDisposable
{
    private readonly ServiceProvider _services;

    public TestMetrics(TimeProvider? time = null)
    {
        _services = new ServiceCollection()
            .AddSingleton(time ?? TimeProvider.System)
            .AddCvmMetrics()
            .BuildServiceProvider();
        Exporter = _services.GetRequiredService<PrometheusExporter>();
        Metrics = _services.GetRequiredService<CvmMetrics>();
    }

    public PrometheusExporter Exporter { get; }

    public CvmMetrics Metrics { get; }

    public System.Diagnostics.Metrics.IMeterFactory MeterFactory => _services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();

    public string Scrape() => Exporter.Scrape();

    /// <summary>Every sample line of an exposition, keyed by its name and label text as written.</summary>
    public static IReadOnlyDictionary<string, double> Samples(string exposition) =>
        exposition.Split('\n')
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => SampleLine().Match(line))
            .Where(m => m.Success)
            .ToDictionary(m => m.Groups["key"].Value, m => Value(m.Groups["value"].Value), StringComparer.Ordinal);

    private static double Value(string text) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(text, CultureInfo.InvariantCulture),
    };

    public void Dispose() => _services.Dispose();

    [GeneratedRegex("""^(?<key>[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})?) (?<value>\S+)$""")]
    private static partial Regex SampleLine();
}
