using CvmControl.OS;

namespace CvmControl.Tools;

/// <summary>
/// A tool ran and failed. <see cref="Exception.Message"/> is the short error for the API
/// (<c>luksFormat failed</c>); <see cref="Detail"/> is the tool's own stderr, already scrubbed of secrets.
/// </summary>
internal sealed class ToolFailure(string error, string detail, int? exitCode) : Exception(error)
{
    public string Detail { get; } = detail;

    public int? ExitCode { get; } = exitCode;

    public static ToolFailure From(string error, ProcessResult result) =>
        new(error, Describe(result), result.ExitCode);

    public static ToolFailure From(string error, ProcessException ex) =>
        new(error, string.IsNullOrWhiteSpace(ex.StandardError) ? ex.Message : $"{ex.Message}: {ex.StandardError.Trim()}", ex.ExitCode);

    /// <summary>Upstream words first: stderr, else stdout, else the bare exit code.</summary>
    private static string Describe(ProcessResult result)
    {
        var text = result.StandardError.Trim();
        if (text.Length == 0)
        {
            text = result.StandardOutput.Trim();
        }
        return text.Length == 0 ? $"exit code {result.ExitCode}" : $"{text} (exit code {result.ExitCode})";
    }
}
