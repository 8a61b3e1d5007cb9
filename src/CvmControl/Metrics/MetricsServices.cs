namespace CvmControl.Metrics;

internal static class MetricsServices
{
    /// <summary>The daemon's instruments and the exporter that reads them (and ASP.NET Core's) for <c>GET /metrics</c>.</summary>
    public static IServiceCollection AddCvmMetrics(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton<CvmMetrics>();
        services.AddSingleton<PrometheusExporter>();
        return services;
    }
}
