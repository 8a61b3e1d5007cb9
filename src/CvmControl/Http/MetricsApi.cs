using CvmControl.Metrics;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CvmControl.Http;

/// <summary><c>GET /metrics</c>: Prometheus text format 0.0.4, on every listener and under the same authentication as the API.</summary>
internal static class MetricsApi
{
    public const string Path = "/metrics";

    public static IEndpointRouteBuilder MapMetricsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(Path, GetMetrics);
        return endpoints;
    }

    public static ContentHttpResult GetMetrics(PrometheusExporter exporter) =>
        TypedResults.Text(exporter.Scrape(), PrometheusExporter.ContentType);
}
