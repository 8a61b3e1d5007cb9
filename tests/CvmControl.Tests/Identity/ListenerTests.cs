using System.Net;
using System.Net.Sockets;
using CvmControl.Api.V1;
using CvmControl.Cli;
using CvmControl.Identity;
using CvmControl.Systemd;
using CvmControl.Tests.Http;
using CvmControl.Tests.Metrics;

namespace CvmControl.Tests.Identity;

/// <summary>The real host's listeners: sockets passed as systemd passes them, --unix-socket, and what each serves.</summary>
public sealed class ListenerTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly List<Socket> _sockets = [];

    private Socket Listening(AddressFamily family, string? path = null)
    {
        var socket = family == AddressFamily.Unix
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(family == AddressFamily.Unix ? new UnixDomainSocketEndPoint(path!) : new IPEndPoint(IPAddress.Loopback, 0));
        socket.Listen();
        _sockets.Add(socket);
        return socket;
    }

    private static SystemdEnvironment Passing(params (Socket Socket, string? Name)[] sockets) =>
        new() { Passed = [.. sockets.Select(s => new PassedSocket(SocketClients.Duplicate(s.Socket), s.Name))] };

    [Fact]
    public async Task A_passed_tcp_socket_serves_https_in_place_of_address_and_port()
    {
        var tcp = Listening(AddressFamily.InterNetwork);
        var port = ((IPEndPoint)tcp.LocalEndPoint!).Port;

        await using var daemon = await LoopbackDaemon.StartAsync(systemd: Passing((tcp, null)));
        using var client = SocketClients.Https(new Uri($"https://127.0.0.1:{port}"));

        (await client.DaemonStatus()).Should().Be(ApiStatus.Bootstrap);
        await (await client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        daemon.Addresses.Should().ContainSingle("--address and --port were not bound").Which.Should().EndWith($":{port}");
    }

    [Fact]
    public async Task A_passed_tcp_socket_admits_only_the_pinned_client_key_when_client_authentication_is_on()
    {
        var tcp = Listening(AddressFamily.InterNetwork);
        var url = new Uri($"https://127.0.0.1:{((IPEndPoint)tcp.LocalEndPoint!).Port}");
        using var ownerKey = TestPki.SelfSignedClient("owner");
        using var strangerKey = TestPki.SelfSignedClient("stranger");

        await using var daemon = await LoopbackDaemon.StartAsync(configure: s => s with { AllowedClientKeys = [KeyPin.Of(ownerKey)] }, systemd: Passing((tcp, null)));
        using var owner = TlsClient.Create(url, ownerKey);
        using var stranger = TlsClient.Create(url, strangerKey);

        (await owner.DaemonStatus()).Should().Be(ApiStatus.Bootstrap);
        await (await owner.Get("/metrics")).ShouldBe(HttpStatusCode.OK);
        await (await stranger.Get("/metrics")).ShouldBe(HttpStatusCode.Forbidden);
        await (await stranger.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Forbidden);
        daemon.Volumes.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task A_passed_unix_socket_serves_plain_http_with_status_platform_and_metrics_only()
    {
        var path = _dir.Combine("api.sock");
        var unix = Listening(AddressFamily.Unix, path);

        await using var daemon = await LoopbackDaemon.StartAsync(systemd: Passing((unix, null)));
        using var client = SocketClients.Unix(path);

        (await client.DaemonStatus()).Should().Be(ApiStatus.Bootstrap);
        await (await client.Get("/api/v1/platform")).ShouldBe(HttpStatusCode.OK);
        await (await client.Get("/metrics")).ShouldBe(HttpStatusCode.OK);
        var bootstrap = await client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes);
        await bootstrap.ShouldBe(HttpStatusCode.Forbidden);
        (await bootstrap.ErrorOf()).Detail.Should().Contain("--unix-socket-full-api");
        await (await client.Get("/api/v1/attestation?nonce=" + new string('a', 64))).ShouldBe(HttpStatusCode.Forbidden);
        await (await client.PostJson("/api/v1/shutdown", "{}")).ShouldBe(HttpStatusCode.Forbidden);
        daemon.Volumes.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task A_unix_socket_named_https_serves_tls_and_the_whole_api()
    {
        var path = _dir.Combine("tls.sock");
        var unix = Listening(AddressFamily.Unix, path);

        await using var daemon = await LoopbackDaemon.StartAsync(systemd: Passing((unix, "https")));
        using var client = SocketClients.Unix(path, tls: true);

        (await client.DaemonStatus()).Should().Be(ApiStatus.Bootstrap);
        await (await client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        using var plain = SocketClients.Unix(path);
        var act = () => plain.Get("/api/v1/status");
        await act.Should().ThrowAsync<HttpRequestException>("plain HTTP is not spoken there");
    }

    [Fact]
    public void Sockets_the_daemon_cannot_serve_stop_it_with_the_reason()
    {
        using var datagram = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        datagram.Bind(new UnixDomainSocketEndPoint(_dir.Combine("dgram.sock")));
        using var idle = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        idle.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var tcp = Listening(AddressFamily.InterNetwork);
        var settings = new ListenerOptions();

        foreach (var (socket, name, reason) in new[]
        {
            (datagram, (string?)null, "*Dgram socket*ListenStream=*"),
            (idle, null, "*is not listening*"),
            (tcp, "local", "*plain HTTP is served on Unix sockets only*"),
        })
        {
            var systemd = Passing((socket, name));
            FluentActions.Invoking(() => ListenerPlan.Create(settings, systemd)).Should().Throw<ListenerException>().WithMessage(reason);
            CloseDuplicate(systemd.Passed[0].Fd);
        }
    }

    [Fact]
    public void Passed_sockets_are_made_close_on_exec_so_children_do_not_inherit_them()
    {
        var tcp = Listening(AddressFamily.InterNetwork);
        var systemd = Passing((tcp, null));

        var plan = ListenerPlan.Create(new ListenerOptions(), systemd);

        plan.Should().ContainSingle().Which.Fd.Should().Be(systemd.Passed[0].Fd);
        var flags = File.ReadAllLines($"/proc/self/fdinfo/{systemd.Passed[0].Fd}").Single(l => l.StartsWith("flags:", StringComparison.Ordinal))["flags:".Length..].Trim();
        (Convert.ToInt64(flags, 8) & 0x80000).Should().NotBe(0, "O_CLOEXEC (octal 02000000) is set in {0}", flags);
        CloseDuplicate(systemd.Passed[0].Fd);
    }

    [Fact]
    public async Task Unix_socket_serves_the_local_routes_replaces_a_stale_file_and_is_owner_and_group_only()
    {
        var path = _dir.Combine("api.sock");
        await OS.UnixSocketFileTests.LeaveStaleSocketAsync(path);

        await using var daemon = await LoopbackDaemon.StartAsync(configure: s => s with { UnixSocket = path });
        using var client = SocketClients.Unix(path);

        (await client.DaemonStatus()).Should().Be(ApiStatus.Bootstrap);
        (await client.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Should().Contain("cvm_control_state{state=\"bootstrap\"} 1");
        await (await client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Forbidden);
        File.GetUnixFileMode(path).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        using var https = SocketClients.Https(daemon.Url);
        (await https.DaemonStatus()).Should().Be(ApiStatus.Bootstrap, "the HTTPS listener is still there");
    }

    [Fact]
    public async Task With_the_full_api_the_unix_socket_serves_every_route()
    {
        var path = _dir.Combine("api.sock");

        await using var daemon = await LoopbackDaemon.StartAsync(configure: s => s with { UnixSocket = path, UnixSocketFullApi = true });
        using var client = SocketClients.Unix(path);

        await (await client.PostJson("/api/v1/bootstrap", ApiClient.TwoVolumes)).ShouldBe(HttpStatusCode.Accepted);
        (await client.WaitForOperation("/api/v1/bootstrap")).Status.Should().Be(ApiStatus.Completed);
    }

    [Fact]
    public async Task A_unix_socket_path_held_by_a_live_listener_stops_the_start()
    {
        var path = _dir.Combine("api.sock");
        Listening(AddressFamily.Unix, path);

        var act = () => LoopbackDaemon.StartAsync(configure: s => s with { UnixSocket = path });

        await act.Should().ThrowAsync<ListenerException>().WithMessage("*is in use*");
    }

    [Fact]
    public async Task Failed_tls_handshakes_are_counted_by_listener_and_reason()
    {
        await using var daemon = await LoopbackDaemon.StartAsync();
        var endpoint = new IPEndPoint(IPAddress.Loopback, daemon.Url.Port);
        using (var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await silent.ConnectAsync(endpoint);
        }
        using (var plain = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await plain.ConnectAsync(endpoint);
            await plain.SendAsync("GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            await plain.ReceiveAsync(new byte[256]);
        }
        using (var hangUp = new TcpClient())
        {
            // A client that sends its ClientHello and hangs up: the server has begun, and cannot finish.
            await hangUp.ConnectAsync(endpoint);
            using var tls = new System.Net.Security.SslStream(new HangUpAfterFirstWrite(hangUp.GetStream()), false, (_, _, _, _) => true);
            var handshake = () => tls.AuthenticateAsClientAsync("cvm.test");
            await handshake.Should().ThrowAsync<Exception>();
        }
        using var client = SocketClients.Https(daemon.Url);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        IReadOnlyDictionary<string, double> samples;
        do
        {
            samples = TestMetrics.Samples(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
        }
        while ((!samples.ContainsKey("""cvm_control_tls_handshake_failures_total{listener="tcp",reason="handshake_failed"}""")
            || samples.GetValueOrDefault("""cvm_control_tls_handshake_failures_total{listener="tcp",reason="no_client_hello"}""") < 2)
            && DateTime.UtcNow < deadline && await Task.Delay(50).ContinueWith(_ => true));

        samples.Where(kv => kv.Key.StartsWith("cvm_control_tls", StringComparison.Ordinal)).Should().BeEquivalentTo(new Dictionary<string, double>
        {
            ["""cvm_control_tls_handshake_failures_total{listener="tcp",reason="handshake_failed"}"""] = 1,
            ["""cvm_control_tls_handshake_failures_total{listener="tcp",reason="no_client_hello"}"""] = 2,
        });
        // Closed at once, and plain HTTP: neither sent a TLS ClientHello.
        samples.Should().Contain("""cvm_control_tls_handshake_failures_total{listener="tcp",reason="no_client_hello"}""", 2);
    }

    /// <summary>Passes the first write (a TLS ClientHello) on, then closes the connection.</summary>
    private sealed class HangUpAfterFirstWrite(NetworkStream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken);
            inner.Socket.Shutdown(SocketShutdown.Both);
            inner.Close();
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static void CloseDuplicate(int fd) => new SafeSocketHandle(fd, ownsHandle: true).Dispose();

    public void Dispose()
    {
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }
        _dir.Dispose();
    }
}
