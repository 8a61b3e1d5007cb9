using CvmControl.OS;

namespace CvmControl.Tools;

/// <summary>The systemctl wrapper: <c>systemctl poweroff</c> or <c>systemctl reboot</c>, found on PATH.</summary>
internal sealed class Systemctl(IProcessRunner runner) : IPowerControl
{
    public async Task<PowerResult> RequestAsync(PowerAction action, CancellationToken cancellationToken)
    {
        var verb = action == PowerAction.Reboot ? "reboot" : "poweroff";
        try
        {
            var result = await runner.RunAsync(new ProcessSpec("systemctl", [verb]) { Timeout = TimeSpan.FromSeconds(30) }, cancellationToken);
            return new PowerResult(result.ExitCode == 0, verb, result.ExitCode, result.StandardError.Trim());
        }
        catch (ProcessException ex)
        {
            return new PowerResult(false, verb, ex.ExitCode, string.IsNullOrEmpty(ex.StandardError) ? ex.Message : ex.StandardError.Trim());
        }
    }
}
