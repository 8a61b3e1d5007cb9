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
}
