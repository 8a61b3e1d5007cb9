namespace CvmControl.OS;

/// <summary>
/// Whole-file reads with a ceiling. They read to end of file rather than trusting the size the
/// file system reports, which sysfs, configfs and pipes get wrong, and stop as soon as the content
/// passes the ceiling, so a hostile or endless file costs at most that much memory.
/// </summary>
internal static class BoundedFile
{
    /// <summary>The file's bytes; <see cref="IOException"/> when it holds more than <paramref name="maxBytes"/>.</summary>
    public static byte[] Read(string path, int maxBytes, string what)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
        return ReadToEnd(stream, maxBytes, what);
    }

    public static byte[] ReadToEnd(Stream stream, int maxBytes, string what)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var content = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            if (content.Length + read > maxBytes)
            {
                throw new IOException($"{what} is larger than {maxBytes} bytes");
            }
            content.Write(buffer, 0, read);
        }
        return content.ToArray();
    }
}
