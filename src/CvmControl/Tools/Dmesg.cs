using CvmControl.OS;

namespace CvmControl.Tools;

/// <summary>dmesg(1), read for the kernel's own account of an I/O failure (e.g. dm-integrity checksum mismatches).</summary>
internal sealed class Dmesg(IProcessRunner runner)
{
    /// <summary>The kernel log's lines that contain every one of <paramref name="fragments"/>, oldest first; empty when it cannot be read.</summary>
    public async Task<IReadOnlyList<string>> LinesWithAsync(IReadOnlyList<string> fragments, CancellationToken cancellationToken)
    {
        ProcessResult result;
        try
        {
            result = await runner.RunAsync("dmesg failed",
                new ProcessSpec("dmesg", ["--kernel", "--notime"]) { Timeout = TimeSpan.FromSeconds(30) }, cancellationToken);
        }
        catch (ToolFailure)
        {
            return [];
        }
        if (result.ExitCode != 0)
        {
            return [];
        }
        return [.. result.StandardOutput.Split('\n')
            .Select(line => line.TrimEnd())
            .Where(line => fragments.All(f => line.Contains(f, StringComparison.Ordinal)))];
    }
}
