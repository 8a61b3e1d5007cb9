using System.Text;
using System.Text.Json;
using CvmControl.Cli;
using CvmControl.Hosting;
using Serilog;

namespace CvmControl.Tests.Hosting;

public sealed class JsonLogFormatterTests
{
    [Fact]
    public void Writes_one_json_object_per_line_with_timestamp_level_message_and_properties()
    {
        var output = new StringWriter();
        using (var logger = DaemonLogging.Create(new DaemonSettings { LogFormat = LogFormat.Json }, output))
        {
            logger.ForContext("SourceContext", "Test").Information("Volume {DmName} failed after {Ms} ms", "data", 42);
            logger.Warning("second \"line\"");
        }

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(2);
        using var first = JsonDocument.Parse(lines[0]);
        var root = first.RootElement;
        root.GetProperty("timestamp").GetString().Should().MatchRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$");
        root.GetProperty("level").GetString().Should().Be("info");
        root.GetProperty("message").GetString().Should().Be("Volume data failed after 42 ms");
        root.GetProperty("properties").GetProperty("DmName").GetString().Should().Be("data");
        root.GetProperty("properties").GetProperty("Ms").GetInt64().Should().Be(42);
        using var second = JsonDocument.Parse(lines[1]);
        second.RootElement.GetProperty("level").GetString().Should().Be("warn");
        second.RootElement.GetProperty("message").GetString().Should().Be("second \"line\"");
    }

    [Fact]
    public void Reused_buffers_never_carry_one_line_into_the_next()
    {
        var output = new StringWriter();
        var huge = new string('x', 40_000);
        using (var logger = DaemonLogging.Create(new DaemonSettings { LogFormat = LogFormat.Json }, output))
        {
            logger.Information("long {Text} héllo ✓", new string('y', 3000));
            logger.Information("short");
            logger.Error(new InvalidOperationException(huge), "failed {Path}", "/api/v1/status");
            logger.Information("after the big one");
        }

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(4);
        var messages = lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("message").GetString()).ToList();
        messages.Should().Equal($"long {new string('y', 3000)} héllo ✓", "short", "failed /api/v1/status", "after the big one");
        JsonDocument.Parse(lines[2]).RootElement.GetProperty("exception").GetString().Should().Contain(huge);
        JsonDocument.Parse(lines[3]).RootElement.GetProperty("properties").EnumerateObject().Should().BeEmpty();
    }

    [Fact]
    public void Text_format_writes_readable_lines()
    {
        var output = new StringWriter();
        using (var logger = DaemonLogging.Create(new DaemonSettings { LogFormat = LogFormat.Text }, output))
        {
            logger.ForContext("SourceContext", "CvmControl").Information("Listening on {Port}", 9443);
        }

        output.ToString().Should().MatchRegex(@"^\d{4}-\d\d-\d\dT\S+ INFO CvmControl: Listening on 9443\n$");
    }

    [Fact]
    public void Level_filter_drops_lower_levels()
    {
        var output = new StringWriter();
        using (var logger = DaemonLogging.Create(new DaemonSettings { LogLevel = Microsoft.Extensions.Logging.LogLevel.Warning }, output))
        {
            logger.Information("hidden");
            logger.Error("shown");
        }

        output.ToString().Should().NotContain("hidden").And.Contain("shown");
    }

    [Fact]
    public void Json_line_sink_writes_each_event_as_one_utf8_write_ending_in_its_newline()
    {
        var stream = new RecordingStream();
        using (var logger = new LoggerConfiguration().WriteTo.Sink(new JsonLineSink(new JsonLogFormatter(), stream)).CreateLogger())
        {
            logger.Information("héllo {Name}", "wörld ✓");
            logger.Warning("second");
        }

        stream.Writes.Should().HaveCount(2);
        var first = Encoding.UTF8.GetString(stream.Writes[0]);
        first.Should().EndWith("\n");
        first.Count(c => c == '\n').Should().Be(1);
        JsonDocument.Parse(first).RootElement.GetProperty("message").GetString().Should().Be("héllo wörld ✓");
        JsonDocument.Parse(stream.Writes[1]).RootElement.GetProperty("level").GetString().Should().Be("warn");
        stream.Disposed.Should().BeTrue("disposing the logger closes the sink's stream");
    }

    private sealed class RecordingStream : Stream
    {
        public List<byte[]> Writes { get; } = [];

        public bool Disposed { get; private set; }

        public override void Write(ReadOnlySpan<byte> buffer) => Writes.Add(buffer.ToArray());

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
