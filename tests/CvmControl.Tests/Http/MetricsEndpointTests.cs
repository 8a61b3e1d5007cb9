using System.Net;
using CvmControl.Api.V1;
using CvmControl.Tests.Metrics;

namespace CvmControl.Tests.Http;

public sealed class MetricsEndpointTests : IDisposable
{
    private readonly CvmControlFactory _factory = new();
    private readonly HttpClient _client;

    public MetricsEndpointTests()
    {
        _client = _factory.CreateClient();
    }

    [Fact]
    public async Task Get_metrics_answers_in_the_prometheus_text_format_0_0_4()
    {
        var response = await _client.Get("/metrics");

        await response.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("text/plain; version=0.0.4; charset=utf-8");
        var text = await response.Content.ReadAsStringAsync();
        TestMetrics.Samples(text).Should().Contain("""cvm_control_state{state="bootstrap"}""", 1)
            .And.Contain("""cvm_control_state{state="ready"}""", 0)
            .And.Contain("""cvm_control_operation_in_progress{kind="bootstrap"}""", 0);
        text.Should().Contain("# TYPE cvm_control_volume_step_duration_seconds histogram")
            .And.Contain("# TYPE cvm_control_kdf_gate_wait_seconds histogram")
            .And.Contain("# TYPE cvm_control_tls_handshake_failures_total counter")
            .And.Contain("# TYPE cvm_control_client_auth_refusals_total counter");
    }

    [Fact]
    public async Task After_a_bootstrap_metrics_show_requests_by_route_and_status_the_operation_and_the_ready_state()
    {
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        (await _client.WaitForOperation("/api/v1/bootstrap")).Status.Should().Be(ApiStatus.Completed);
        await (await _client.Get("/api/v1/nowhere")).ShouldBe(HttpStatusCode.NotFound);

        var text = await _client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        var samples = TestMetrics.Samples(text);

        samples.Should().Contain("""cvm_control_state{state="ready"}""", 1);
        samples.Should().Contain("""cvm_control_operation_duration_seconds_count{kind="bootstrap",outcome="completed"}""", 1);
        samples.Keys.Should().Contain(k => k.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)
            && k.Contains("""http_request_method="POST",""", StringComparison.Ordinal)
            && k.Contains("""http_response_status_code="202",""", StringComparison.Ordinal)
            && k.Contains("""http_route="/api/v1/bootstrap",""", StringComparison.Ordinal));
        samples.Keys.Should().Contain(k => k.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)
            && k.Contains("""http_response_status_code="404",""", StringComparison.Ordinal));
        // The path of an unrouted request never becomes a label: only route templates do.
        text.Should().NotContain("nowhere");
    }

    [Fact]
    public async Task No_passphrase_user_id_volume_id_or_secret_value_reaches_a_label()
    {
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        await _client.WaitForOperation("/api/v1/bootstrap");

        var text = await _client.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        foreach (var secret in new[] { "pass-data", "pass-logs", "alice", "vol-0aaa111", "vol-0bbb222", "s3cr3t-value" })
        {
            text.Should().NotContain(secret);
        }
    }

    [Fact]
    public async Task Attestation_requests_are_counted_by_outcome()
    {
        await (await _client.Get("/api/v1/attestation?nonce=" + new string('a', 64))).ShouldBe(HttpStatusCode.OK);

        var samples = TestMetrics.Samples(await _client.GetStringAsync(new Uri("/metrics", UriKind.Relative)));

        samples.Should().Contain("""cvm_control_attestation_duration_seconds_count{outcome="ok"}""", 1);
    }

    [Fact]
    public async Task The_whole_exposition_after_a_bootstrap_passes_the_reference_parser()
    {
        await (await _client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        await _client.WaitForOperation("/api/v1/bootstrap");
        await _client.Get("/api/v1/status");

        var text = await _client.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        await ReferenceParser.ShouldAcceptAsync(text,
            "--nonempty-histogram", "http_server_request_duration_seconds",
            "--nonempty-histogram", "cvm_control_operation_duration_seconds",
            "--sample", "cvm_control_state", """{"state": "ready"}""", "1");
    }

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }
}
