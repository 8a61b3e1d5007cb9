using CvmControl.OS;

namespace CvmControl.Tools;

/// <summary>mkfs.ext4, e2fsck and resize2fs.</summary>
internal sealed class E2fsprogs(IProcessRunner runner)
{
    public Task MakeExt4Async(string device, CancellationToken cancellationToken) =>
        runner.RunCheckedAsync("mkfs.ext4 failed",
            new ProcessSpec("mkfs.ext4", ["-q", "-F", device]) { Timeout = TimeSpan.FromMinutes(30) }, cancellationToken);

    /// <summary><c>e2fsck -fy</c>: exit 0 (clean) and 1 (errors corrected) are success; anything else fails.</summary>
    public async Task<int> CheckAsync(string device, CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync("e2fsck failed",
            new ProcessSpec("e2fsck", ["-f", "-y", device]) { Timeout = TimeSpan.FromHours(2) }, cancellationToken);
        return result.ExitCode is 0 or 1 ? result.ExitCode : throw ToolFailure.From("e2fsck failed", result);
    }

    /// <summary>Grows the filesystem to the device size; "Nothing to do!" also exits 0.</summary>
    public Task ResizeAsync(string device, CancellationToken cancellationToken) =>
        runner.RunCheckedAsync("resize2fs failed",
            new ProcessSpec("resize2fs", [device]) { Timeout = TimeSpan.FromHours(2) }, cancellationToken);
}
