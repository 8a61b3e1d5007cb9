using System.Text;
using System.Text.Json;
using CvmControl.Attestation.Client;
using CvmControl.Attestation.Verification;
using CvmControl.Cli;
using CvmControl.Client;

namespace CvmControl.Tests.Client;

/// <summary>
/// Runs an owner command in this process as the binary would, against real daemons, with its stdin,
/// terminal and environment under the test's control and its clock stepped by the test.
/// </summary>
internal sealed class OwnerClient(TrustAnchors anchors)
{
    private readonly StringWriter _stdout = new();
    private readonly StringWriter _stderr = new();

    public SteppedClock Clock { get; } = new();

    public Dictionary<string, string> Environment { get; } = [];

    public byte[] Stdin { get; set; } = [];

    public bool Terminal { get; init; }

    public string Stdout
    {
        get { lock (_stdout) { return _stdout.ToString(); } }
    }

    public string Stderr
    {
        get { lock (_stderr) { return _stderr.ToString(); } }
    }

    /// <summary>The JSON lines printed so far.</summary>
    public IReadOnlyList<JsonElement> Events => [.. Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    public IEnumerable<JsonElement> EventsOf(string kind) => Events.Where(e => e.GetProperty("event").GetString() == kind);

    /// <summary>Runs the command to its end, stepping the clock at each poll; <paramref name="beforeStep"/> runs before each step.</summary>
    public Task<int> Run(string[] args, Action? beforeStep = null) => Clock.Drive(Start(args), beforeStep);

    public Task<int> Start(string[] args)
    {
        var console = new ClientConsole(new MemoryStream(Stdin), Terminal, 100, name => Environment.GetValueOrDefault(name), Clock);
        return Task.Run(() => CvmControlCommand.InvokeAsync(
            args,
            _ => null,
            TextWriter.Synchronized(_stdout),
            TextWriter.Synchronized(_stderr),
            (_, _) => throw new InvalidOperationException("the daemon must not start"),
            () => new VerifyRunner(anchors, TimeProvider.System, new AttestationFetcher(TimeSpan.FromSeconds(20))),
            () => console));
    }

    /// <summary>A request file of mode 0600 (or <paramref name="mode"/>) in <paramref name="dir"/>.</summary>
    public static string WriteFile(TempDir dir, string name, string content, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        var path = dir.Combine(name);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        File.SetUnixFileMode(path, mode);
        return path;
    }
}
