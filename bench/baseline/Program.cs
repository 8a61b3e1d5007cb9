using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Serialization;

// Usage: baseline <port>. Listens on 127.0.0.1 only.
var port = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 9443;

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
builder.Logging.ClearProviders();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, BaselineJson.Default));

// A new key and self-signed certificate at every start, as the daemon does.
using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
var request = new CertificateRequest("CN=baseline", key, HashAlgorithmName.SHA256);
var now = DateTimeOffset.UtcNow;
using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(1));
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.UseHttps(certificate)));

var app = builder.Build();
app.MapGet("/api/v1/status", () => TypedResults.Ok(new Status("bootstrap")));
await app.RunAsync();

internal sealed record Status([property: JsonPropertyName("status")] string Value);

[JsonSerializable(typeof(Status))]
internal sealed partial class BaselineJson : JsonSerializerContext;
