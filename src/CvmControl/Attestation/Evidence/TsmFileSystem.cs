using CvmControl.OS;

namespace CvmControl.Attestation.Evidence;

/// <summary>The real configfs-tsm report directory, through plain mkdir, open, read, write and rmdir.</summary>
internal sealed class TsmFileSystem(string directory) : ITsmFileSystem
{
    /// <summary>Far above any report, quote or certificate table; a bound on what a bad attribute can cost.</summary>
    public const int MaxAttributeBytes = 4 * 1024 * 1024;

    public string Directory { get; } = directory;

    public bool Exists() => System.IO.Directory.Exists(Directory);

    public void CreateEntry(string name)
    {
        // CreateDirectory would quietly make a missing report directory (and its parents) too.
        if (!Exists())
        {
            throw new DirectoryNotFoundException($"{Directory} does not exist");
        }
        var path = EntryPath(name);
        if (Path.Exists(path))
        {
            throw new IOException($"{path} already exists");
        }
        System.IO.Directory.CreateDirectory(path);
    }

    public void WriteInblob(string name, ReadOnlySpan<byte> reportData)
    {
        // Open without O_CREAT or O_TRUNC, and hand the kernel the whole blob in one write.
        using var handle = File.OpenHandle(AttributePath(name, TsmAttribute.Inblob), FileMode.Open, FileAccess.Write);
        RandomAccess.Write(handle, reportData, fileOffset: 0);
    }

    public byte[] Read(string name, string attribute)
    {
        // Read to end of file: configfs and sysfs report sizes that need not match the content.
        return BoundedFile.Read(AttributePath(name, attribute), MaxAttributeBytes, attribute);
    }

    public void RemoveEntry(string name) => System.IO.Directory.Delete(EntryPath(name), recursive: false);

    private string EntryPath(string name)
    {
        // Names are the daemon's own, but a separator would escape the report directory.
        if (name.Length == 0 || name is "." or ".." || name.Contains('/', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("not a plain entry name", nameof(name));
        }
        return Path.Combine(Directory, name);
    }

    private string AttributePath(string name, string attribute) => Path.Combine(EntryPath(name), attribute);
}
