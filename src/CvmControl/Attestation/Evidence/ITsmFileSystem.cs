namespace CvmControl.Attestation.Evidence;

/// <summary>
/// The configfs-tsm report directory (Linux 6.7 and later), as the provider and the platform
/// detector use it. In the kernel, making an entry creates its attribute files, and writing
/// <c>inblob</c> bumps <c>generation</c> and makes the next read of <c>outblob</c> produce a fresh
/// report; a fake can emulate exactly that.
/// </summary>
internal interface ITsmFileSystem
{
    /// <summary>The report directory, e.g. <c>/sys/kernel/config/tsm/report</c>; used in messages.</summary>
    string Directory { get; }

    /// <summary>Whether the report directory exists (configfs mounted and the tsm module loaded).</summary>
    bool Exists();

    /// <summary>mkdir of a new report entry. Throws <see cref="DirectoryNotFoundException"/> when the report directory is absent.</summary>
    void CreateEntry(string name);

    /// <summary>One write of the report data to the entry's <c>inblob</c>; the kernel takes exactly 64 bytes.</summary>
    void WriteInblob(string name, ReadOnlySpan<byte> reportData);

    /// <summary>Reads one attribute whole. Throws <see cref="FileNotFoundException"/> when the entry has no such attribute.</summary>
    byte[] Read(string name, string attribute);

    /// <summary>rmdir of the entry.</summary>
    void RemoveEntry(string name);
}

/// <summary>Attribute files of a configfs-tsm report entry.</summary>
internal static class TsmAttribute
{
    public const string Inblob = "inblob";
    public const string Outblob = "outblob";
    public const string Auxblob = "auxblob";
    public const string Provider = "provider";
    public const string Generation = "generation";
}
