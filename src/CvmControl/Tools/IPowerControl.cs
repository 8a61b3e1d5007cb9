namespace CvmControl.Tools;

internal enum PowerAction
{
    PowerOff,
    Reboot,
}

/// <summary>Outcome of asking the init system to power off or reboot.</summary>
internal sealed record PowerResult(bool Succeeded, string Verb, int? ExitCode, string StandardError);

/// <summary>Powering the VM off or rebooting it; tests put a fake here, so the real shutdown path never runs in them.</summary>
internal interface IPowerControl
{
    Task<PowerResult> RequestAsync(PowerAction action, CancellationToken cancellationToken);
}
