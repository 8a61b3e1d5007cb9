using System.Net.Sockets;
using System.Security.Cryptography;
using CvmControl.Systemd;

namespace CvmControl.Identity;

/// <summary>
/// The readiness and watchdog probe: <c>GET /api/v1/status</c> on a listener of its own, an abstract
/// Unix socket with a random name that accepts connections from this process only, over a new
/// connection each time. It travels the same way a client's request does: Kestrel's accept loop and
/// HTTP parser, the middleware, routing and the status handler (which takes the state lock).
/// </summary>
/// <remarks>
/// Not the public listener: with client authentication on, the probe would need a client certificate,
/// and a socket passed by systemd may be reachable only through a proxy.
/// </remarks>
internal sealed class SelfProbe : IPipelineProbe, IDisposable
{
    private readonly HttpClient _client;

    public SelfProbe()
    {
        // Abstract: nothing on the file system to clean up or to find; the peer check keeps others out.
        EndPoint = new UnixDomainSocketEndPoint("\0cvm-control-probe-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)));
        _client = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(EndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public UnixDomainSocketEndPoint EndPoint { get; }

    public async Task<bool> AnswersAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("http://cvm-control" + ListenerFeature.ProbePath));
            // A fresh connection every time, so a dead accept loop cannot hide behind a kept-alive one.
            request.Headers.ConnectionClose = true;
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseContentRead, deadline.Token);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public void Dispose() => _client.Dispose();
}
