namespace CvmControl.Tests.Fakes;

/// <summary>Credential files in memory: contents by path, or the error a read of that path gives.</summary>
internal sealed class FakeCredentialFiles : CvmControl.Identity.ICredentialFiles
{
    private readonly Dictionary<string, byte[]> _files = [];
    private readonly Dictionary<string, string> _errors = [];

    public int Reads { get; private set; }

    public void Write(string path, string text)
    {
        lock (_files)
        {
            _errors.Remove(path);
            _files[path] = System.Text.Encoding.ASCII.GetBytes(text);
        }
    }

    /// <summary>Reads of <paramref name="path"/> fail as the real reader reports it (e.g. "permission denied").</summary>
    public void Fail(string path, string reason)
    {
        lock (_files)
        {
            _errors[path] = $"{path}: {reason}";
        }
    }

    public void Delete(string path) => Fail(path, "no such file");

    public byte[] Read(string path)
    {
        lock (_files)
        {
            Reads++;
            if (_errors.TryGetValue(path, out var error))
            {
                throw new CvmControl.Identity.CredentialException(error);
            }
            return _files.TryGetValue(path, out var bytes) ? bytes : throw new CvmControl.Identity.CredentialException($"{path}: no such file");
        }
    }
}
