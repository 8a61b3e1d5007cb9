using System.Net;
using System.Text.Json;
using CvmControl.OS;
using CvmControl.Tests.Http;
using CvmControl.Tools;

namespace CvmControl.Tests.Hosting;

/// <summary>The one JSON line per request that Serilog.AspNetCore's request logging writes.</summary>
public sealed class RequestLoggingTests : IDisposable
{
    private readonly CvmControlFactory _factory = new();

    private List<JsonElement> RequestLines() =>
        _factory.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("properties").TryGetProperty("SourceContext", out var c) && c.GetString() == "Serilog.AspNetCore.RequestLoggingMiddleware")
            .ToList();

    [Fact]
    public async Task Each_request_writes_one_line_with_method_path_status_duration_and_connection_but_no_query()
    {
        using var client = _factory.CreateClient();

        (await client.GetAsync(new Uri("/api/v1/status?token=query-secret", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await client.GetAsync(new Uri("/no/such/route", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.NotFound);

        var lines = RequestLines();
        lines.Should().HaveCount(2);
        var status = lines[0];
        status.GetProperty("level").GetString().Should().Be("info");
        status.GetProperty("message").GetString().Should().MatchRegex(@"^GET /api/v1/status 200 \d+\.\d ms$");
        var properties = status.GetProperty("properties");
        properties.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("Method", "Path", "StatusCode", "ElapsedMs", "ConnectionId", "SourceContext");
        properties.GetProperty("Method").GetString().Should().Be("GET");
        properties.GetProperty("Path").GetString().Should().Be("/api/v1/status");
        properties.GetProperty("StatusCode").GetInt32().Should().Be(200);
        properties.GetProperty("ElapsedMs").GetDouble().Should().BeGreaterThanOrEqualTo(0);
        lines[1].GetProperty("message").GetString().Should().StartWith("GET /no/such/route 404 ");
        _factory.Log.Should().NotContain("query-secret", "the query string is never logged");
    }

    [Fact]
    public async Task A_5xx_reply_is_logged_at_error_level()
    {
        _factory.Power.Result = new PowerResult(false, "poweroff", 1, "Failed to connect to bus");
        using var client = _factory.CreateClient();

        var response = await client.PostAsync(new Uri("/api/v1/shutdown", UriKind.Relative), new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        var line = RequestLines().Should().ContainSingle().Which;
        line.GetProperty("level").GetString().Should().Be("error");
        line.GetProperty("message").GetString().Should().StartWith("POST /api/v1/shutdown 500 ");
    }

    public void Dispose() => _factory.Dispose();
}
