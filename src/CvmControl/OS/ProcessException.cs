namespace CvmControl.OS;

/// <summary>A child that could not start, timed out, or exited non-zero (when the caller asked for that to throw).</summary>
internal sealed class ProcessException : Exception
{
    public ProcessException(string tool, IReadOnlyList<string> arguments, int? exitCode, string standardError, string message, Exception? inner = null)
        : base(message, inner)
    {
        Tool = tool;
        Arguments = arguments;
        ExitCode = exitCode;
        StandardError = standardError;
    }

    public string Tool { get; }

    public IReadOnlyList<string> Arguments { get; }

    /// <summary>Null when the child never started or was killed.</summary>
    public int? ExitCode { get; }

    /// <summary>Scrubbed stderr.</summary>
    public string StandardError { get; }
}
