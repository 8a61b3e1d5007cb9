using CvmControl.Tools;

namespace CvmControl.Volumes.Luks;

/// <summary>A header copy on tmpfs that passed <see cref="LuksHeaderPolicy"/>. Disposing deletes it.</summary>
internal sealed class CheckedHeader(string path, LuksHeaderPolicy.Verdict verdict) : IDisposable
{
    /// <summary>The copy to hand to <c>cryptsetup --header</c>: what was checked is exactly what is used.</summary>
    public string Path { get; } = path;

    public LuksHeaderPolicy.Verdict Verdict { get; } = verdict;

    public void Dispose() => HeaderGuard.Delete(Path);
}

/// <summary>
/// Copies a LUKS2 header area into a tmpfs file (<c>luksHeaderBackup</c>), reads the copy's JSON metadata
/// and checks it strictly. The copy is then what cryptsetup uses, so the host gets no window between
/// the check and the use in which to swap the header.
/// </summary>
internal sealed class HeaderGuard(Cryptsetup cryptsetup, KeyDirectory scratch)
{
    /// <exception cref="HeaderRejected">The header is not acceptable.</exception>
    /// <exception cref="ToolFailure">cryptsetup could not copy or read it.</exception>
    public async Task<CheckedHeader> CheckAsync(string device, CancellationToken cancellationToken)
    {
        var path = System.IO.Path.Combine(scratch.Prepare(), "header-" + Guid.NewGuid().ToString("N"));
        try
        {
            await cryptsetup.HeaderBackupAsync(device, path, cancellationToken);
            var start = new byte[8];
            using (var stream = File.OpenRead(path))
            {
                stream.ReadExactly(start);
            }
            var json = await cryptsetup.DumpJsonAsync(path, cancellationToken);
            var verdict = LuksHeaderPolicy.Check(start, json);
            return new CheckedHeader(path, verdict);
        }
        catch
        {
            Delete(path);
            throw;
        }
    }

    internal static void Delete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
