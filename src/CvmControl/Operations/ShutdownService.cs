using CvmControl.Tools;

namespace CvmControl.Operations;

internal sealed record ShutdownOutcome(ShutdownDecision Decision, string? Error = null, string? Detail = null, bool PowerFailed = false);

internal interface IShutdownService
{
    Task<ShutdownOutcome> RequestAsync(string? userId, bool reboot);
}

/// <summary>Authenticates the caller, enters <c>shutdown</c>, and asks systemd to power off or reboot.</summary>
internal sealed partial class ShutdownService(OperationTracker tracker, IPowerControl power, ILogger<ShutdownService> logger) : IShutdownService
{
    public async Task<ShutdownOutcome> RequestAsync(string? userId, bool reboot)
    {
        var admission = tracker.BeginShutdown(userId);
        if (admission.Decision != ShutdownDecision.Begin)
        {
            LogRefused(logger, admission.Reason ?? "");
            return new(admission.Decision, admission.Reason);
        }

        var action = reboot ? PowerAction.Reboot : PowerAction.PowerOff;
        LogRequested(logger, action);
        var result = await power.RequestAsync(action, CancellationToken.None);
        if (result.Succeeded)
        {
            return new(ShutdownDecision.Begin);
        }

        tracker.AbortShutdown(admission.PreviousPhase);
        var error = result.ExitCode is int code
            ? $"systemctl {result.Verb} failed with exit code {code}"
            : $"systemctl {result.Verb} failed";
        LogFailed(logger, error, result.StandardError);
        return new(ShutdownDecision.Begin, error, result.StandardError, PowerFailed: true);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown requested: {Action}")]
    private static partial void LogRequested(ILogger logger, PowerAction action);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Error}: {Stderr}")]
    private static partial void LogFailed(ILogger logger, string error, string stderr);
}
