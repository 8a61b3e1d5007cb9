using CvmControl.OS;

namespace CvmControl.Tools;

/// <summary>Shared plumbing of the tool wrappers: run, and turn a start failure or timeout into a <see cref="ToolFailure"/>.</summary>
internal static class ToolRunner
{
    public static async Task<ProcessResult> RunAsync(this IProcessRunner runner, string error, ProcessSpec spec, CancellationToken cancellationToken)
    {
        try
        {
            return await runner.RunAsync(spec, cancellationToken);
        }
        catch (ProcessException ex)
        {
            throw ToolFailure.From(error, ex);
        }
    }

    /// <summary>Runs and insists on exit code 0.</summary>
    public static async Task<ProcessResult> RunCheckedAsync(this IProcessRunner runner, string error, ProcessSpec spec, CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync(error, spec, cancellationToken);
        return result.ExitCode == 0 ? result : throw ToolFailure.From(error, result);
    }
}
