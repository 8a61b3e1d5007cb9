using System.Net;
using System.Net.Http.Json;
using System.Text;
using CvmControl.Api.V1;
using CvmControl.Json;

namespace CvmControl.Tests.Http;

/// <summary>Raw-JSON helpers, so tests state exactly the bytes on the wire.</summary>
internal static class ApiClient
{
    public static Task<HttpResponseMessage> PostJson(this HttpClient client, string path, string json) =>
        client.PostAsync(new Uri(path, UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"));

    public static Task<HttpResponseMessage> Get(this HttpClient client, string path) =>
        client.GetAsync(new Uri(path, UriKind.Relative));

    public static async Task<ErrorResponse> ErrorOf(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync(CvmJsonContext.Default.ErrorResponse))!;

    public static async Task<string> StatusOf(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync(CvmJsonContext.Default.StatusResponse))!.Status;

    public static async Task<OperationStatusResponse> OperationOf(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync(CvmJsonContext.Default.OperationStatusResponse))!;

    public static async Task<string> DaemonStatus(this HttpClient client) => await (await client.Get("/api/v1/status")).StatusOf();

    /// <summary>Polls GET <paramref name="path"/> until it leaves in_progress (bounded).</summary>
    public static async Task<OperationStatusResponse> WaitForOperation(this HttpClient client, string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var view = await (await client.Get(path)).OperationOf();
            if (view.Status is not ApiStatus.InProgress || DateTime.UtcNow > deadline)
            {
                return view;
            }
            await Task.Delay(10);
        }
    }

    /// <summary>Waits, at most 20 s, until <paramref name="condition"/> holds; fails naming <paramref name="what"/> otherwise.</summary>
    public static async Task WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "{0} within 20 s", what);
            await Task.Delay(10);
        }
    }

    public static async Task ShouldBe(this HttpResponseMessage response, HttpStatusCode code)
    {
        if (response.StatusCode != code)
        {
            var body = await response.Content.ReadAsStringAsync();
            response.StatusCode.Should().Be(code, "body was {0}", body);
        }
    }

    public const string TwoVolumes = """
        {"user_id":"alice",
         "env":{"app.env":{"MODE":"prod","GREETING":"hello \"world\" $HOME"}},
         "secret":{"db.env":{"DB_PASSWORD":"s3cr3t-value"}},
         "volumes":{"data":{"volume_id":"vol-0aaa111","passphrase":"pass-data"},
                    "logs":{"volume_id":"vol-0bbb222","passphrase":"pass-logs","mount_point":"/var/log/app"}}}
        """;
}
