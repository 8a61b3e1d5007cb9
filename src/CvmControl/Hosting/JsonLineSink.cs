using Serilog.Core;
using Serilog.Events;

namespace CvmControl.Hosting;

/// <summary>
/// Writes <see cref="JsonLogFormatter"/> lines as UTF-8 straight to a stream (standard output in the
/// daemon): one write per line, so journald never sees half a line, and no per-line string. Serilog's
/// console sink would render each line into a new <see cref="StringWriter"/> first.
/// </summary>
internal sealed class JsonLineSink(JsonLogFormatter formatter, Stream output) : ILogEventSink, IDisposable
{
    private readonly Lock _gate = new();

    public void Emit(LogEvent logEvent) =>
        formatter.FormatUtf8(logEvent, this, static (line, sink) => sink.Write(line));

    private void Write(ReadOnlySpan<byte> line)
    {
        lock (_gate)
        {
            output.Write(line);
        }
    }

    public void Dispose() => output.Dispose();
}
