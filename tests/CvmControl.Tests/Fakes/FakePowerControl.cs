using System.Collections.Concurrent;
using CvmControl.Tools;

namespace CvmControl.Tests.Fakes;

internal sealed class FakePowerControl : IPowerControl
{
    public ConcurrentQueue<PowerAction> Requests { get; } = new();

    public PowerResult? Result { get; set; }

    public Task<PowerResult> RequestAsync(PowerAction action, CancellationToken cancellationToken)
    {
        Requests.Enqueue(action);
        var verb = action == PowerAction.Reboot ? "reboot" : "poweroff";
        return Task.FromResult(Result is null ? new PowerResult(true, verb, 0, "") : Result with { Verb = verb });
    }
}
