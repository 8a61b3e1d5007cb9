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

/// <summary>Credential files in memory: contents by path, or the error a read of that path gives.</summary>
internal sealed class FakeCredentialFiles : CvmControl.Identity.ICredentialFiles
{
    private readonly Dictionary<string, byte[]> _files = [];
    private readonly Dictionary<string, string> _errors = [];

    public int Reads { get; private set; }

    public void Write(string path, string text)
    {
        lock (_files)
        {
            _errors.Remove(path);
            _files[path] = System.Text.Encoding.ASCII.GetBytes(text);
        }
    }

    /// <summary>Reads of <paramref name="path"/> fail as the real reader reports it (e.g. "permission denied").</summary>
    public void Fail(string path, string reason)
    {
        lock (_files)
        {
            _errors[path] = $"{path}: {reason}";
        }
    }

    public void Delete(string path) => Fail(path, "no such file");

    public byte[] Read(string path)
    {
        lock (_files)
        {
            Reads++;
            if (_errors.TryGetValue(path, out var error))
            {
                throw new CvmControl.Identity.CredentialException(error);
            }
            return _files.TryGetValue(path, out var bytes) ? bytes : throw new CvmControl.Identity.CredentialException($"{path}: no such file");
        }
    }
}
