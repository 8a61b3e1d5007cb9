namespace CvmControl.Client;

/// <summary>Runs one owner command on many targets, at most so many at once, then summarizes.</summary>
internal static class FleetRunner
{
    public static async Task<int> RunAsync(IReadOnlyList<Uri> targets, int parallel, Func<Uri, CancellationToken, Task<TargetResult>> run, IProgressSink sink, CancellationToken cancellationToken)
    {
        using var slots = new SemaphoreSlim(parallel, parallel);
        var results = await Task.WhenAll(targets.Select(async target =>
        {
            try
            {
                await slots.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return new TargetResult(target, ClientExit.Interrupted, null, "interrupted before it started");
            }
            try
            {
                return await run(target, cancellationToken);
            }
            finally
            {
                slots.Release();
            }
        }));
        var exit = ClientExit.Combine(results.Select(r => r.ExitCode));
        sink.Summarize(results, exit);
        return exit;
    }
}
