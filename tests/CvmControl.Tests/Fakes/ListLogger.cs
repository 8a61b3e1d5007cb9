using Microsoft.Extensions.Logging;

namespace CvmControl.Tests.Fakes;

/// <summary>Keeps every log line (level and formatted message) in memory, for tests that assert on logs.</summary>
internal sealed class ListLogger : ILoggerFactory, ILoggerProvider, ILogger
{
    private readonly List<(LogLevel Level, string Message)> _lines = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Lines
    {
        get { lock (_lines) { return [.. _lines]; } }
    }

    public IEnumerable<string> At(LogLevel level) => Lines.Where(l => l.Level == level).Select(l => l.Message);

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lines)
        {
            _lines.Add((logLevel, formatter(state, exception)));
        }
    }

    public void Dispose()
    {
    }
}
