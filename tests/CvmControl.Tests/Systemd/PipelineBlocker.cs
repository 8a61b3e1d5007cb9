using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace CvmControl.Tests.Systemd;

/// <summary>
/// A middleware in front of the daemon's pipeline that can make GET /api/v1/status fail (503) or hang
/// until released, and counts the requests it stopped.
/// </summary>
internal sealed class PipelineBlocker : IStartupFilter
{
    private readonly Lock _gate = new();
    private TaskCompletionSource? _hang;
    private bool _failing;
    private int _stopped;

    public int Stopped => Volatile.Read(ref _stopped);

    public void Fail()
    {
        lock (_gate)
        {
            _failing = true;
        }
    }

    public void Hang()
    {
        lock (_gate)
        {
            _hang = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public void Release()
    {
        lock (_gate)
        {
            _failing = false;
            _hang?.TrySetResult();
            _hang = null;
        }
    }

    /// <summary>Waits (bounded) until at least <paramref name="count"/> requests have been stopped.</summary>
    public async Task WaitForStoppedAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Stopped < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"only {Stopped} requests were stopped");
            }
            await Task.Delay(10);
        }
    }

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, nextMiddleware) =>
        {
            if (context.Request.Path == "/api/v1/status")
            {
                Task? hang;
                bool failing;
                lock (_gate)
                {
                    hang = _hang?.Task;
                    failing = _failing;
                }
                if (failing || hang is not null)
                {
                    Interlocked.Increment(ref _stopped);
                }
                if (failing)
                {
                    context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                    return;
                }
                if (hang is not null)
                {
                    await hang;
                }
            }
            await nextMiddleware(context);
        });
        next(app);
    };
}
