using CvmControl.Client;
using Microsoft.Extensions.Time.Testing;

namespace CvmControl.Tests.Client;

/// <summary>
/// A fake clock for the owner commands: whenever the client starts its poll wait, the test may look
/// at what happened so far, and then moves time on by one poll interval. No test sleeps.
/// </summary>
internal sealed class SteppedClock : FakeTimeProvider
{
    private readonly SemaphoreSlim _waits = new(0);

    public int Polls { get; private set; }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        if (dueTime == OwnerPlan.DefaultPollInterval)
        {
            _waits.Release();
        }
        return timer;
    }

    /// <summary>Until <paramref name="run"/> ends: wait for its next poll wait, call <paramref name="beforeStep"/>, step the clock.</summary>
    public async Task<T> Drive<T>(Task<T> run, Action? beforeStep = null)
    {
        while (true)
        {
            var waiting = _waits.WaitAsync(TimeSpan.FromSeconds(60));
            if (await Task.WhenAny(run, waiting) == run)
            {
                return await run;
            }
            (await waiting).Should().BeTrue("the client should either finish or wait to poll again");
            beforeStep?.Invoke();
            Polls++;
            Advance(OwnerPlan.DefaultPollInterval);
        }
    }
}
