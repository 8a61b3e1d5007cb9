namespace CvmControl.Tools;

/// <summary>The two HMAC-SHA256 keys of a dm-integrity device: one for the data tags, one for the journal.</summary>
internal sealed class IntegrityKeys(byte[] tags, byte[] journal) : IDisposable
{
    public const int KeyBytes = 32;

    public ReadOnlySpan<byte> Tags => tags;

    public ReadOnlySpan<byte> Journal => journal;

    public void Dispose()
    {
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(tags);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(journal);
    }
}
