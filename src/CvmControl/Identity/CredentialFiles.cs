using CvmControl.OS;

namespace CvmControl.Identity;

/// <summary>Reads certificate, key and bundle files; the seam tests use to simulate unreadable files.</summary>
internal interface ICredentialFiles
{
    /// <summary>The whole file, or a <see cref="CredentialException"/> that names it and says why not.</summary>
    byte[] Read(string path);
}

internal sealed class CredentialFiles : ICredentialFiles
{
    /// <summary>Real certificate chains, keys and bundles are a few KiB.</summary>
    public const int MaxBytes = 1 << 20;

    public static readonly CredentialFiles Instance = new();

    public byte[] Read(string path)
    {
        try
        {
            return BoundedFile.Read(path, MaxBytes, "the file");
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CredentialException($"{path}: no such file");
        }
        catch (UnauthorizedAccessException)
        {
            throw new CredentialException($"{path}: permission denied");
        }
        catch (IOException ex)
        {
            throw new CredentialException($"{path}: {ex.Message}");
        }
    }
}
