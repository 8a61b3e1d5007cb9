using System.Security.Cryptography;
using CvmControl.Tools;

namespace CvmControl.Volumes.Luks;

/// <summary>
/// A header copy on tmpfs that passed <see cref="LuksHeaderPolicy"/>: the header and keyslot area of the
/// device as it was when checked. Disposing deletes it.
/// </summary>
internal sealed class CheckedHeader(string device, string path, LuksHeaderPolicy.Verdict verdict, byte[] sha256) : IDisposable
{
    /// <summary>The device the copy was taken from.</summary>
    public string Device { get; } = device;

    /// <summary>The copy to hand to <c>cryptsetup --header</c>: what was checked is exactly what is used.</summary>
    public string Path { get; } = path;

    public LuksHeaderPolicy.Verdict Verdict { get; } = verdict;

    /// <summary>SHA-256 of the copy as it was checked; anything acted on later is compared against it.</summary>
    public ReadOnlyMemory<byte> Sha256 { get; } = sha256;

    /// <summary>
    /// A private, writable copy of the checked copy for cryptsetup to change (add or remove keyslots):
    /// changes are made there and written back to the device only by <see cref="HeaderWriteBack"/>.
    /// </summary>
    /// <exception cref="IOException">The checked copy is no longer what was checked.</exception>
    public WorkingHeader Edit()
    {
        var copy = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, "edit-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var source = File.OpenRead(Path))
            using (var target = new FileStream(copy, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            {
                source.CopyTo(target);
            }
            if (!HeaderGuard.HashOf(copy).AsSpan().SequenceEqual(Sha256.Span))
            {
                throw new IOException($"the checked header copy of {Device} changed after it was checked");
            }
            return new WorkingHeader(copy);
        }
        catch
        {
            HeaderGuard.Delete(copy);
            throw;
        }
    }

    /// <summary>
    /// The changed copy that <see cref="HeaderWriteBack.CommitAsync"/> has just written back and verified
    /// on the device, with the verdict it got there: the checked header of the device from then on, with no
    /// new copy of the device. The new object owns the file; disposing either deletes it.
    /// </summary>
    public CheckedHeader Committed(WorkingHeader changed, LuksHeaderPolicy.Verdict verdict) =>
        new(Device, changed.Path, verdict, HeaderGuard.HashOf(changed.Path));

    public void Dispose() => HeaderGuard.Delete(Path);
}

/// <summary>A writable header copy that cryptsetup changes; disposing deletes it.</summary>
internal sealed class WorkingHeader(string path) : IDisposable
{
    public string Path { get; } = path;

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
        var path = await CopyAsync(device, cancellationToken);
        try
        {
            var verdict = await CheckCopyAsync(path, cancellationToken);
            return new CheckedHeader(device, path, verdict, HashOf(path));
        }
        catch
        {
            Delete(path);
            throw;
        }
    }

    /// <summary>Checks a header copy already on tmpfs: its binary header and its JSON metadata.</summary>
    /// <exception cref="HeaderRejected">The header is not acceptable.</exception>
    /// <exception cref="ToolFailure">cryptsetup could not read it.</exception>
    public async Task<LuksHeaderPolicy.Verdict> CheckCopyAsync(string path, CancellationToken cancellationToken)
    {
        var binary = new byte[LuksHeaderPolicy.BinaryHeaderSize];
        int read;
        using (var stream = File.OpenRead(path))
        {
            read = stream.ReadAtLeast(binary, binary.Length, throwOnEndOfStream: false);
        }
        var json = await cryptsetup.DumpJsonAsync(path, cancellationToken);
        return LuksHeaderPolicy.Check(binary.AsSpan(0, read), json);
    }

    /// <summary>A fresh, unchecked copy of the header area of <paramref name="device"/> on tmpfs; the caller deletes it.</summary>
    public async Task<string> CopyAsync(string device, CancellationToken cancellationToken)
    {
        var path = System.IO.Path.Combine(scratch.Prepare(), "header-" + Guid.NewGuid().ToString("N"));
        try
        {
            await cryptsetup.HeaderBackupAsync(device, path, cancellationToken);
            return path;
        }
        catch
        {
            Delete(path);
            throw;
        }
    }

    internal static byte[] HashOf(string path)
    {
        using var stream = File.OpenRead(path);
        return SHA256.HashData(stream);
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
