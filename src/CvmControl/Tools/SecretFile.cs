namespace CvmControl.Tools;

/// <summary>
/// A key handed to a tool as a file: created 0600 in a tmpfs directory the caller has prepared, and
/// deleted when disposed, right after the tool has read it.
/// </summary>
internal sealed class SecretFile : IDisposable
{
    private SecretFile(string path) => Path = path;

    public string Path { get; }

    public static SecretFile Write(string directory, string prefix, ReadOnlySpan<byte> secret)
    {
        var path = System.IO.Path.Combine(directory, prefix + "-" + Guid.NewGuid().ToString("N"));
        var file = new SecretFile(path);
        try
        {
            using var stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            stream.Write(secret);
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>A path in <paramref name="directory"/> for a tool to create a key file at; nothing is created yet.</summary>
    public static SecretFile Reserve(string directory, string prefix) =>
        new(System.IO.Path.Combine(directory, prefix + "-" + Guid.NewGuid().ToString("N")));

    public void Dispose()
    {
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
