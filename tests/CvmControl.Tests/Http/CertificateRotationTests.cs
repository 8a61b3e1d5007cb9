using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CvmControl.Attestation;
using CvmControl.Identity;
using CvmControl.Json;
using CvmControl.Tests.Fakes;
using CvmControl.Tests.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CvmControl.Tests.Http;

/// <summary>
/// The server certificate from files on the real server, rotated while it runs: new handshakes get
/// the new certificate, open connections carry on, and torn writes never fail a handshake.
/// </summary>
public sealed class CertificateRotationTests : IAsyncLifetime
{
    private static readonly X509Certificate2 Root = TestPki.Root("example.org root");
    private static readonly X509Certificate2 Intermediate = TestPki.Intermediate(Root, "example.org intermediate");

    private readonly TempDir _files = new();
    private readonly X509Certificate2 _first = TestPki.Server(Intermediate, "first");
    private LoopbackDaemon _daemon = null!;

    private string Cert => _files.Combine("svid.pem");

    private string Key => _files.Combine("svid_key.pem");

    public async Task InitializeAsync()
    {
        File.WriteAllText(Cert, TestPki.CertificatePem(_first, Intermediate));
        File.WriteAllText(Key, TestPki.Pkcs8Pem(_first));
        await Start();
    }

    private async Task Start(Action<IServiceCollection>? services = null)
    {
        if (_daemon is not null)
        {
            await _daemon.DisposeAsync();
        }
        _daemon = await LoopbackDaemon.StartAsync(configure: s => s with { TlsCertFile = Cert, TlsKeyFile = Key }, services: services);
    }

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        _first.Dispose();
        _files.Dispose();
    }

    /// <summary>Fresh handshakes until one presents <paramref name="expected"/> (bounded).</summary>
    private async Task WaitUntilServed(X509Certificate2 expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while ((await TlsClient.ServerCertificateOf(_daemon.Url)).Thumbprint != expected.Thumbprint)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the rotated certificate should be served within the bound");
            await Task.Delay(20);
        }
    }

    private static async Task<byte[]> AttestedKey(HttpClient http)
    {
        var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var response = await http.Get($"/api/v1/attestation?nonce={nonce}");
        await response.ShouldBe(HttpStatusCode.OK);
        var body = (await response.Content.ReadFromJsonAsync(CvmJsonContext.Default.AttestationResponse))!;
        return Convert.FromHexString(body.TlsSpkiSha256);
    }

    [Fact]
    public async Task Serves_the_certificate_and_its_intermediate_from_the_files()
    {
        var seen = new List<X509Certificate2>();
        X509Certificate2[]? sentChain = null;
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
                {
                    seen.Add(X509CertificateLoader.LoadCertificate(certificate!.GetRawCertData()));
                    sentChain = [.. chain!.ChainPolicy.ExtraStore];
                    return true;
                },
            },
        };
        using var http = new HttpClient(handler) { BaseAddress = _daemon.Url };

        await (await http.Get("/api/v1/status")).ShouldBe(HttpStatusCode.OK);

        seen.Single().Thumbprint.Should().Be(_first.Thumbprint);
        sentChain.Should().ContainSingle(c => c.Thumbprint == Intermediate.Thumbprint);
    }

    [Fact]
    public async Task A_rotation_reaches_new_handshakes_while_an_open_connection_keeps_its_key_for_attestation()
    {
        var seen = new List<X509Certificate2>();
        using var open = TlsClient.Create(_daemon.Url, seen: seen);
        (await AttestedKey(open)).Should().Equal(AttestationBinding.SpkiSha256(_first));
        using var second = TestPki.Server(Intermediate, "second");

        File.WriteAllText(Cert, TestPki.CertificatePem(second, Intermediate));
        File.WriteAllText(Key, TestPki.Pkcs8Pem(second));
        await WaitUntilServed(second);

        // The open connection was not dropped, and attestation binds the key it was served with.
        (await AttestedKey(open)).Should().Equal(AttestationBinding.SpkiSha256(_first));
        seen.Should().ContainSingle("the open connection made no second handshake");
        using var fresh = TlsClient.Create(_daemon.Url);
        (await AttestedKey(fresh)).Should().Equal(AttestationBinding.SpkiSha256(second));
        await _daemon.WaitForLog($"Reloaded --tls-cert {Cert} and --tls-key {Key}: serving 'CN=second'");
    }

    [Fact]
    public async Task Torn_writes_like_spiffe_helpers_never_fail_a_handshake()
    {
        using var second = TestPki.Server(Intermediate, "second");
        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        var served = new HashSet<string>();
        var handshakes = 0;
        var prober = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var certificate = await TlsClient.ServerCertificateOf(_daemon.Url);
                    lock (served)
                    {
                        served.Add(certificate.GetNameInfo(X509NameType.SimpleName, false));
                    }
                    Interlocked.Increment(ref handshakes);
                }
                catch (HttpRequestException ex)
                {
                    lock (failures)
                    {
                        failures.Add(ex.Message);
                    }
                }
            }
        });

        // Each torn state is held until the daemon has seen it, and said it keeps the old pair.
        await using (File.Create(Cert))
        {
        }
        await _daemon.WaitForLog($"{Cert} is empty");
        File.WriteAllText(Cert, TestPki.CertificatePem(second, Intermediate));
        await _daemon.WaitForLog($"the private key in {Key} does not match the certificate in {Cert}");
        await using (File.Create(Key))
        {
        }
        await _daemon.WaitForLog($"{Key} is empty");
        File.WriteAllText(Key, TestPki.Pkcs8Pem(second));
        await WaitUntilServed(second);
        // The prober may have been mid-handshake with the old pair; let it make one with the new one.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline && !SeenSecond())
        {
            await Task.Delay(20);
        }

        await stop.CancelAsync();
        await prober;

        failures.Should().BeEmpty();
        handshakes.Should().BeGreaterThan(0);
        served.Should().BeEquivalentTo(["first", "second"]);

        bool SeenSecond()
        {
            lock (served)
            {
                return served.Contains("second");
            }
        }
    }

    [Fact]
    public async Task An_unreadable_key_file_keeps_the_last_good_pair()
    {
        // Mode 0000 stops nobody when the tests run as root, so the read fails through the seam.
        var files = new UnreadableFiles();
        await Start(services => services.Replace(ServiceDescriptor.Singleton<ICredentialFiles>(files)));
        using var second = TestPki.Server(Intermediate, "second");

        files.Unreadable = Key;
        File.WriteAllText(Cert, TestPki.CertificatePem(second, Intermediate));
        await _daemon.WaitForLog($"{Key}: permission denied");

        (await TlsClient.ServerCertificateOf(_daemon.Url)).Thumbprint.Should().Be(_first.Thumbprint);
        files.Unreadable = null;
        File.WriteAllText(Key, TestPki.Pkcs8Pem(second));
        await WaitUntilServed(second);
    }

    [Fact]
    public async Task A_key_file_holding_a_certificate_keeps_the_last_good_pair()
    {
        using var second = TestPki.Server(Intermediate, "second");

        File.WriteAllText(Key, TestPki.CertificatePem(second));
        File.WriteAllText(Cert, TestPki.CertificatePem(second, Intermediate));
        await _daemon.WaitForLog($"{Key} holds no private key (found CERTIFICATE)");

        (await TlsClient.ServerCertificateOf(_daemon.Url)).Thumbprint.Should().Be(_first.Thumbprint);
    }

    /// <summary>The real reader, except that one path reads as the kernel's EACCES would make it.</summary>
    private sealed class UnreadableFiles : ICredentialFiles
    {
        public volatile string? Unreadable;

        public byte[] Read(string path) =>
            path == Unreadable ? throw new CredentialException($"{path}: permission denied") : CredentialFiles.Instance.Read(path);
    }
}
