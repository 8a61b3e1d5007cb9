using CvmControl.OS;

namespace CvmControl.Volumes.Devices;

/// <summary>Paths and identity of device-mapper nodes.</summary>
internal static class DeviceMapper
{
    public static string PathOf(string devRoot, string dmName) => Path.Combine(devRoot, "mapper", dmName);

    /// <summary>
    /// Whether a mount's source is the mapping <paramref name="mapperPath"/>: mount(8) records either the
    /// /dev/mapper link or the dm node it points to (/dev/dm-N).
    /// </summary>
    public static bool IsSource(MountEntry mount, string mapperPath)
    {
        if (mount.Source == mapperPath)
        {
            return true;
        }
        try
        {
            return File.ResolveLinkTarget(mapperPath, returnFinalTarget: true)?.FullName == mount.Source;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
