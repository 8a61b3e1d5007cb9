using System.Text.Json;
using CvmControl.Api.V1;
using CvmControl.Json;

namespace CvmControl.Client;

/// <summary>One JSON object per line and state change, flushed at once: what an orchestrator reads.</summary>
internal sealed class JsonLinesProgress(TextWriter stdout) : IProgressSink
{
    private readonly Lock _gate = new();

    public void Report(OwnerEvent e) => Write(e);

    public void Summarize(IReadOnlyList<TargetResult> results, int exitCode)
    {
        if (results.Count > 1)
        {
            Write(new OwnerEvent
            {
                Event = OwnerEvents.Summary,
                ExitCode = exitCode,
                Succeeded = results.Count(r => r.ExitCode == ClientExit.Done),
                Failed = results.Count(r => r.ExitCode != ClientExit.Done),
            });
        }
    }

    private void Write(OwnerEvent e)
    {
        var line = JsonSerializer.Serialize(e, CvmJsonContext.Default.OwnerEvent);
        lock (_gate)
        {
            stdout.WriteLine(line);
            stdout.Flush();
        }
    }
}
