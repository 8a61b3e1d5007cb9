using System.Globalization;
using System.Runtime.InteropServices;

namespace CvmControl.OS;

/// <summary>
/// Linux scheduling policy of a child's threads. <c>SCHED_IDLE</c> threads run only on CPU time no
/// normal thread wants, and any normal thread that wakes up preempts them at once; nice 10 alone
/// leaves a waking API thread queued behind the KDF's time slice.
/// </summary>
internal static partial class CpuPriority
{
    private const int SchedOther = 0;
    private const int SchedIdle = 5;

    /// <summary>Puts one thread under <c>SCHED_IDLE</c>; returns 0 or the errno.</summary>
    public static int TrySetIdle(int tid) =>
        sched_setscheduler(tid, SchedIdle, new SchedParam()) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>
    /// Moves every thread of <paramref name="pid"/> back to the normal policy, keeping their nice value.
    /// Leaving <c>SCHED_IDLE</c> needs CAP_SYS_NICE or an RLIMIT_NICE that allows that nice value.
    /// Returns 0, or the first errno other than "already gone".
    /// </summary>
    public static int TrySetNormal(int pid)
    {
        const int NoSuchProcess = 3;
        const int PermissionDenied = 13;
        IEnumerable<string> tasks;
        try
        {
            tasks = Directory.EnumerateDirectories($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/task").ToList();
        }
        catch (IOException)
        {
            return 0; // Exited meanwhile (the task directory went away under the enumeration).
        }
        catch (UnauthorizedAccessException)
        {
            return PermissionDenied;
        }
        foreach (var task in tasks)
        {
            if (int.TryParse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture, out var tid)
                && sched_setscheduler(tid, SchedOther, new SchedParam()) != 0
                && Marshal.GetLastPInvokeError() is var errno and not NoSuchProcess)
            {
                return errno;
            }
        }
        return 0;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SchedParam
    {
        public int Priority;
    }

    [LibraryImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    private static partial int sched_setscheduler(int pid, int policy, in SchedParam param);
}
