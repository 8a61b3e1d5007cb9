using System.Diagnostics;
using System.Text;
using CvmControl.Tests.Fakes;
using CvmControl.Tests.Http;

namespace CvmControl.Tests.Client;

/// <summary>
/// The built binary as an owner's client process: while it drives a bootstrap, neither its command
/// line nor its environment holds the passphrase; it came from a file or stdin.
/// </summary>
public sealed class ClientProcessTests : IAsyncLifetime
{
    private const string Passphrase = "process-level-passphrase-4711";
    private readonly TempDir _files = new();
    private LoopbackDaemon _daemon = null!;

    public async Task InitializeAsync() => _daemon = await LoopbackDaemon.StartAsync(FakeTsm.Absent());

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        _files.Dispose();
    }

    private ProcessStartInfo Client(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in (string[])["exec", "--runtimeconfig", Path.Combine(AppContext.BaseDirectory, "cvm-control.runtimeconfig.json"), Path.Combine(AppContext.BaseDirectory, "cvm-control.dll"), .. args])
        {
            start.ArgumentList.Add(arg);
        }
        return start;
    }

    [Theory]
    [InlineData("file")]
    [InlineData("stdin")]
    public async Task The_clients_argv_and_environment_never_hold_the_passphrase(string source)
    {
        OwnerClient.WriteFile(_files, "data.pass", Passphrase);
        var json = source == "file"
            ? """{"user_id":"alice","volumes":{"data":{"volume_id":"vol-0aaa111","passphrase_file":"data.pass"}}}"""
            : """{"user_id":"alice","volumes":{"data":{"volume_id":"vol-0aaa111","passphrase":"PASS"}}}""".Replace("PASS", Passphrase, StringComparison.Ordinal);
        var request = OwnerClient.WriteFile(_files, "request.json", json);
        _daemon.Volumes.Hold("data");

        using var process = Process.Start(Client("bootstrap", "--url", _daemon.Url.GetLeftPart(UriPartial.Authority), "--request", source == "file" ? request : "-", "--insecure-skip-attestation"))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (source == "stdin")
        {
            await process.StandardInput.WriteAsync(json);
        }
        process.StandardInput.Close();
        await WaitUntil(() => _daemon.Volumes.Calls.Any(c => c.StartsWith("bootstrap data", StringComparison.Ordinal)));

        // The client is alive and has sent the passphrase: look at it from outside, as ps would.
        var cmdline = await File.ReadAllBytesAsync($"/proc/{process.Id}/cmdline");
        var environ = await File.ReadAllBytesAsync($"/proc/{process.Id}/environ");
        _daemon.Volumes.Release("data");
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        process.ExitCode.Should().Be(0, await stdout + await stderr);
        Encoding.UTF8.GetString(cmdline).Should().Contain("bootstrap").And.NotContain(Passphrase);
        Encoding.UTF8.GetString(environ).Should().NotBeEmpty().And.NotContain(Passphrase);
        _daemon.Volumes.BootstrappedWith["data"].Should().Be(Passphrase);
        (await stderr).Should().Contain("warning: --insecure-skip-attestation");
        (await stdout).Should().NotContain(Passphrase).And.Contain("\"event\":\"done\"");
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the condition should hold within a minute");
            await Task.Delay(50);
        }
    }
}
