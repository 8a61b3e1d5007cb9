using Microsoft.Extensions.Logging;

namespace CvmControl.Tests.Fakes;

/// <summary>Keeps every formatted message, so a test can wait for the code under test to reach a point.</summary>
internal sealed class RecordingLogger<T> : ILogger<T>
{
    private readonly List<string> _messages = [];

    public IReadOnlyList<string> Messages
    {
        get { lock (_messages) { return [.. _messages]; } }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_messages)
        {
            _messages.Add(formatter(state, exception));
        }
    }

    /// <summary>Waits (bounded) until a message containing <paramref name="text"/> has been logged.</summary>
    public async Task WaitFor(string text, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (!Messages.Any(m => m.Contains(text, StringComparison.Ordinal)))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no log message containing \"{text}\" within {bound}");
            }
            await Task.Delay(10);
        }
    }
}
