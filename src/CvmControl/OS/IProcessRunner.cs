namespace CvmControl.OS;

/// <summary>The one way domain code starts child processes.</summary>
internal interface IProcessRunner
{
    /// <summary>
    /// Runs the child to completion and returns its exit code and captured output, whatever the exit code.
    /// Throws <see cref="ProcessException"/> when it cannot start or is killed by the timeout;
    /// cancellation kills it and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken cancellationToken = default);
}
