using CvmControl.OS;

namespace CvmControl.Tools;

/// <summary><c>blkid -p</c>: low-level probing that bypasses the cache.</summary>
internal sealed class Blkid(IProcessRunner runner)
{
    /// <summary>The TYPE of the first signature found (<c>crypto_LUKS</c>, <c>ext4</c>, ...), or null when blkid finds none.</summary>
    public async Task<string?> ProbeTypeAsync(string device, CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync("blkid failed",
            new ProcessSpec("blkid", ["-p", "-o", "value", "-s", "TYPE", device]) { Timeout = TimeSpan.FromSeconds(60) }, cancellationToken);
        return result.ExitCode switch
        {
            0 => result.StandardOutput.Trim() is { Length: > 0 } type ? type : "unknown",
            2 => null, // nothing identified
            _ => throw ToolFailure.From("blkid failed", result),
        };
    }

    /// <summary>
    /// Whether blkid -p sees any signature at all, including ones without a TYPE (partition tables,
    /// ambiguous probes). Exit code 2 is the only "nothing here".
    /// </summary>
    public async Task<string?> ProbeAnySignatureAsync(string device, CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync("blkid failed",
            new ProcessSpec("blkid", ["-p", device]) { Timeout = TimeSpan.FromSeconds(60) }, cancellationToken);
        return result.ExitCode switch
        {
            0 => result.StandardOutput.Trim(),
            2 => null,
            _ => throw ToolFailure.From("blkid failed", result),
        };
    }
}
