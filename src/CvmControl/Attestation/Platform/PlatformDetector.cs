using CvmControl.Attestation.Evidence;

namespace CvmControl.Attestation.Platform;

/// <summary>
/// Finds the TEE from what the kernel exposes, strongest evidence first: the configfs-tsm provider,
/// then the guest driver's device node, then the CPU flag. Files are read under <paramref name="root"/>
/// (<c>/</c> in production), so tests can lay out a fake machine. The tsm directory is configured
/// separately (<c>--tsm-dir</c>) and reached through <paramref name="tsm"/>. Never throws: what
/// cannot be read is reported as absent.
/// </summary>
internal sealed class PlatformDetector(string root, ITsmFileSystem tsm)
{
    public const string SevGuestProvider = "sev_guest";
    public const string TdxGuestProvider = "tdx_guest";

    public PlatformInfo Detect()
    {
        var provider = ProbeTsmProvider();
        var cpuinfo = ReadText("proc/cpuinfo");
        var (tee, source) = provider switch
        {
            SevGuestProvider => (TeeType.SevSnp, $"configfs-tsm provider {provider}"),
            TdxGuestProvider => (TeeType.Tdx, $"configfs-tsm provider {provider}"),
            _ when Exists("dev/sev-guest") => (TeeType.SevSnp, "/dev/sev-guest"),
            _ when Exists("dev/tdx_guest") => (TeeType.Tdx, "/dev/tdx_guest"),
            _ when cpuinfo is not null && HasCpuFlag(cpuinfo, "tdx_guest") => (TeeType.Tdx, "/proc/cpuinfo flag tdx_guest"),
            _ => (TeeType.None, "no TEE guest interface found"),
        };
        return new PlatformInfo(
            tee,
            source,
            ConfigFsTsm: provider is not null,
            TsmProvider: provider,
            Tpm: Exists("dev/tpmrm0"),
            KernelRelease: ReadText("proc/sys/kernel/osrelease")?.Trim() is { Length: > 0 } release ? release : null,
            CpuVendor: cpuinfo is null ? null : CpuInfoValue(cpuinfo, "vendor_id"));
    }

    /// <summary>
    /// The provider's name, by making a throwaway report entry and reading its <c>provider</c>; null
    /// when there is no tsm directory, or no provider answers (the kernel gives ENXIO until a TEE
    /// driver registers). Nothing is written to <c>inblob</c>, so no report is generated.
    /// </summary>
    private string? ProbeTsmProvider()
    {
        if (!tsm.Exists())
        {
            return null;
        }
        var name = ConfigFsTsmProvider.NewEntryName("probe-");
        try
        {
            tsm.CreateEntry(name);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        try
        {
            var provider = ConfigFsTsmProvider.ReadProvider(tsm, name);
            return provider.Length > 0 ? provider : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        finally
        {
            try
            {
                tsm.RemoveEntry(name);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>The first <c>flags</c> line lists the CPU's flags; all CPUs of a VM share them.</summary>
    internal static bool HasCpuFlag(string cpuinfo, string flag) =>
        CpuInfoValue(cpuinfo, "flags") is { } flags
        && flags.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Contains(flag, StringComparer.Ordinal);

    /// <summary>The value of the first <c>key : value</c> line for <paramref name="key"/>, or null.</summary>
    internal static string? CpuInfoValue(string cpuinfo, string key)
    {
        foreach (var line in cpuinfo.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Trim().SequenceEqual(key))
            {
                var value = line[(colon + 1)..].Trim();
                return value.Length > 0 ? value : null;
            }
        }
        return null;
    }

    private string Under(string relative) => Path.Combine(root, relative);

    // Device nodes are not regular files, but File.Exists is true for anything that is not a directory.
    private bool Exists(string relative) => File.Exists(Under(relative));

    private string? ReadText(string relative)
    {
        try
        {
            return File.ReadAllText(Under(relative));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
