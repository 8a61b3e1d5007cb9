using System.Net.Sockets;
using CvmControl.OS;

namespace CvmControl.Tests.OS;

public sealed class UnixSocketFileTests : IDisposable
{
    private readonly TempDir _dir = new();

    private static Socket Bind(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    /// <summary>
    /// A socket file nobody listens on, as a killed daemon leaves it: bound by another process that then
    /// exits (.NET removes the file of a socket it bound when the socket is disposed, so it cannot make one).
    /// </summary>
    internal static async Task LeaveStaleSocketAsync(string path)
    {
        var start = new System.Diagnostics.ProcessStartInfo(Metrics.ReferenceParser.Python) { RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import socket, sys; socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).bind(sys.argv[1])");
        start.ArgumentList.Add(path);
        using var python = System.Diagnostics.Process.Start(start)!;
        await python.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        python.ExitCode.Should().Be(0, await python.StandardError.ReadToEndAsync());
        Path.Exists(path).Should().BeTrue();
    }

    [Fact]
    public void A_free_path_is_left_as_it_is()
    {
        var path = _dir.Combine("api.sock");

        UnixSocketFile.PrepareForBind(path);

    }

    [Fact]
    public async Task A_stale_socket_file_that_nobody_listens_on_is_removed()
    {
        var path = _dir.Combine("api.sock");
        await LeaveStaleSocketAsync(path);

        UnixSocketFile.PrepareForBind(path);

        Path.Exists(path).Should().BeFalse();
        using var again = Bind(path);
    }

    [Fact]
    public void A_socket_that_a_live_process_listens_on_is_refused_and_kept()
    {
        var path = _dir.Combine("api.sock");
        using var live = Bind(path);
        live.Listen();

        var act = () => UnixSocketFile.PrepareForBind(path);

        act.Should().Throw<IOException>().WithMessage("*is in use*");
        Path.Exists(path).Should().BeTrue();
    }

    [Fact]
    public void A_regular_file_is_never_removed()
    {
        var path = _dir.Combine("api.sock");
        File.WriteAllText(path, "precious");

        var act = () => UnixSocketFile.PrepareForBind(path);

        act.Should().Throw<IOException>().WithMessage("*is not a socket*");
        File.ReadAllText(path).Should().Be("precious");
    }

    [Fact]
    public async Task A_symbolic_link_to_a_stale_socket_is_not_followed()
    {
        var target = _dir.Combine("real.sock");
        await LeaveStaleSocketAsync(target);
        var path = _dir.Combine("api.sock");
        File.CreateSymbolicLink(path, target);

        var act = () => UnixSocketFile.PrepareForBind(path);

        act.Should().Throw<IOException>().WithMessage("*is not a socket*");
        Path.Exists(target).Should().BeTrue();
    }

    [Fact]
    public void A_missing_directory_is_reported_not_created()
    {
        var path = _dir.Combine("missing", "api.sock");

        var act = () => UnixSocketFile.PrepareForBind(path);

        act.Should().Throw<IOException>().WithMessage("*does not exist*");
        Directory.Exists(_dir.Combine("missing")).Should().BeFalse();
    }

    public void Dispose() => _dir.Dispose();
}
