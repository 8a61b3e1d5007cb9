namespace CvmControl.Operations;

/// <summary>
/// Runs accepted operations off the request path and, on shutdown, asks them to stop between steps
/// and waits for the step in progress to finish (bounded by the host's shutdown timeout).
/// </summary>
internal sealed partial class BackgroundOperations(ILogger<BackgroundOperations> logger) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly HashSet<Task> _running = [];

    /// <summary>Fires when the daemon is stopping; operations check it between steps.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public void Start(string name, Func<CancellationToken, Task> work)
    {
        var task = Task.Run(async () =>
        {
            try
            {
                await work(_stopping.Token);
            }
            catch (Exception ex)
            {
                LogCrashed(logger, name, ex);
            }
        });
        lock (_gate)
        {
            _running.Add(task);
        }
        _ = task.ContinueWith(t => { lock (_gate) { _running.Remove(t); } }, TaskScheduler.Default);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task[] running;
        lock (_gate)
        {
            running = [.. _running];
        }
        await _stopping.CancelAsync();
        if (running.Length > 0)
        {
            LogWaiting(logger, running.Length);
            await Task.WhenAll(running).WaitAsync(cancellationToken);
        }
    }

    public void Dispose() => _stopping.Dispose();

    [LoggerMessage(Level = LogLevel.Error, Message = "Operation {Name} crashed")]
    private static partial void LogCrashed(ILogger logger, string name, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Waiting for {Count} operation(s) to finish their current step")]
    private static partial void LogWaiting(ILogger logger, int count);
}
