using System.Net;
using System.Net.Http.Json;
using CvmControl.Api.V1;
using CvmControl.Json;

namespace CvmControl.Tests.Http;

public sealed class StatusEndpointTests : IDisposable
{
    private readonly CvmControlFactory _factory = new();

    [Fact]
    public async Task Status_is_bootstrap_at_start()
    {
        var client = _factory.CreateClient();
        var response = await client.GetAsync(new Uri("/api/v1/status", UriKind.Relative));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var body = await response.Content.ReadFromJsonAsync(CvmJsonContext.Default.StatusResponse);
        body!.Status.Should().Be(ApiStatus.Bootstrap);
    }

    public void Dispose() => _factory.Dispose();
}
