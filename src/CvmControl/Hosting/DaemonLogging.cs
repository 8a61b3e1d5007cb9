using CvmControl.Cli;
using Serilog;
using System.Globalization;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Display;

namespace CvmControl.Hosting;

/// <summary>Serilog to the console, as JSON lines or text, wired into Microsoft.Extensions.Logging.</summary>
internal static class DaemonLogging
{
    /// <param name="sink">Where to write instead of the console (tests).</param>
    public static Logger Create(DaemonSettings settings, TextWriter? sink = null)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Is(ToSerilog(settings.LogLevel))
            // ASP.NET's own per-request lines would repeat ours; keep its warnings and errors.
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            // Off altogether: ASP.NET Core opens a log scope for every request whenever this category
            // is enabled at all, allocating even when nothing is logged in it.
            .MinimumLevel.Override("Microsoft.AspNetCore.Hosting.Diagnostics", LevelAlias.Off);

        if (sink is not null)
        {
            ITextFormatter formatter = settings.LogFormat == LogFormat.Json
                ? new JsonLogFormatter()
                : new MessageTemplateTextFormatter(TextTemplate, CultureInfo.InvariantCulture);
            configuration = configuration.WriteTo.Sink(new TextWriterSink(formatter, sink));
        }
        else
        {
            configuration = settings.LogFormat == LogFormat.Json
                ? configuration.WriteTo.Sink(new JsonLineSink(new JsonLogFormatter(), Console.OpenStandardOutput()))
                : configuration.WriteTo.Console(outputTemplate: TextTemplate);
        }
        return configuration.CreateLogger();
    }

    private const string TextTemplate = "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} {Level:u4} {SourceContext}: {Message:lj}{NewLine}{Exception}";

    public static LogEventLevel ToSerilog(LogLevel level) => level switch
    {
        LogLevel.Trace => LogEventLevel.Verbose,
        LogLevel.Debug => LogEventLevel.Debug,
        LogLevel.Information => LogEventLevel.Information,
        LogLevel.Warning => LogEventLevel.Warning,
        LogLevel.Error => LogEventLevel.Error,
        _ => LogEventLevel.Fatal,
    };

    private sealed class TextWriterSink(ITextFormatter formatter, TextWriter writer) : ILogEventSink
    {
        private readonly Lock _gate = new();

        public void Emit(LogEvent logEvent)
        {
            lock (_gate)
            {
                formatter.Format(logEvent, writer);
                writer.Flush();
            }
        }
    }
}
