using CvmControl.OS;

namespace CvmControl.Tools;

/// <summary>mount(8). Whether something is mounted is read from mountinfo (<see cref="IMountTable"/>), not from a tool.</summary>
internal sealed class Mounter(IProcessRunner runner)
{
    public Task MountAsync(string device, string mountPoint, string fileSystemType, CancellationToken cancellationToken) =>
        runner.RunCheckedAsync("mount failed",
            new ProcessSpec("mount", ["-t", fileSystemType, "--", device, mountPoint]) { Timeout = TimeSpan.FromMinutes(5) }, cancellationToken);
}
