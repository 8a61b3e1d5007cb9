namespace CvmControl.Http;

/// <summary>API v1: one route module per feature under <c>/api/v1</c>.</summary>
internal static class ApiModule
{
    public static IEndpointRouteBuilder MapApiV1(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/v1");
        api.MapStatusApi();
        api.MapBootstrapApi();
        api.MapPassphraseApi();
        api.MapShutdownApi();
        api.MapPlatformApi();
        api.MapAttestationApi();
        return endpoints;
    }
}
