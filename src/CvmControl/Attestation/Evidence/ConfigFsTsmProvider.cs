using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CvmControl.Attestation.Evidence;

/// <summary>
/// Evidence through configfs-tsm: mkdir a fresh entry, write the 64 bytes of report data to
/// <c>inblob</c>, read <c>outblob</c> (and <c>auxblob</c> where the provider has one), and rmdir
/// the entry whatever happened. <c>generation</c> counts writes to <c>inblob</c>; if it moves
/// between our write and the end of our reads, someone else wrote to the entry and the report
/// may not carry our data, so it is refused.
/// </summary>
internal sealed partial class ConfigFsTsmProvider(ITsmFileSystem tsm, ILogger<ConfigFsTsmProvider> logger) : IAttestationProvider
{
    public const string EntryPrefix = "cvm-control-";

    public EvidenceResult GetEvidence(ReadOnlySpan<byte> reportData)
    {
        if (reportData.Length != AttestationBinding.ReportDataLength)
        {
            throw new ArgumentException($"report data is exactly {AttestationBinding.ReportDataLength} bytes", nameof(reportData));
        }
        if (!tsm.Exists())
        {
            return NoTsm();
        }

        var name = NewEntryName();
        try
        {
            tsm.CreateEntry(name);
        }
        catch (DirectoryNotFoundException)
        {
            return NoTsm();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return EvidenceResult.Failed("cannot create a configfs-tsm report entry", ex.Message);
        }

        try
        {
            return Generate(name, reportData);
        }
        finally
        {
            Remove(name);
        }
    }

    /// <summary>
    /// A name no other process can aim at, since it is unguessable. <paramref name="purpose"/> (such as
    /// <c>probe-</c>) tells the daemon's entries apart in a listing.
    /// </summary>
    internal static string NewEntryName(string purpose = "") => EntryPrefix + purpose + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The entry's <c>provider</c>, trimmed. The kernel refuses the read (ENXIO) while no TEE driver has registered.</summary>
    internal static string ReadProvider(ITsmFileSystem tsm, string name) => ReadText(tsm, name, TsmAttribute.Provider);

    private static string ReadText(ITsmFileSystem tsm, string name, string attribute) => Encoding.ASCII.GetString(tsm.Read(name, attribute)).Trim();

    private EvidenceResult Generate(string name, ReadOnlySpan<byte> reportData)
    {
        string provider;
        try
        {
            provider = ReadProvider(tsm, name);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return EvidenceResult.NoProvider("no configfs-tsm provider", $"{tsm.Directory} exists but no provider answered: {ex.Message}");
        }
        if (provider.Length == 0)
        {
            return EvidenceResult.NoProvider("no configfs-tsm provider", $"{tsm.Directory} exists but its provider is empty");
        }

        var step = "writing inblob";
        try
        {
            tsm.WriteInblob(name, reportData);
            step = "reading generation";
            var written = ReadGeneration(name);
            step = "reading outblob";
            var report = tsm.Read(name, TsmAttribute.Outblob);
            step = "reading auxblob";
            var aux = ReadAuxBlob(name);
            step = "reading generation";
            var after = ReadGeneration(name);

            if (after != written)
            {
                return EvidenceResult.Failed(
                    "the attestation report was overwritten while it was read",
                    $"{provider}: generation went from {written} to {after}: another writer used the report entry");
            }
            if (report.Length == 0)
            {
                return EvidenceResult.Failed("the attestation provider returned no evidence", $"{provider}: outblob is empty");
            }
            LogObtained(logger, report.Length, provider, aux?.Length ?? 0);
            return EvidenceResult.Ok(new TeeEvidence(provider, report, aux));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return EvidenceResult.Failed("the attestation provider failed", $"{provider}: {step}: {ex.Message}");
        }
    }

    private ulong ReadGeneration(string name)
    {
        var text = ReadText(tsm, name, TsmAttribute.Generation);
        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var generation)
            ? generation
            : throw new FormatException($"generation is not a number: \"{text}\"");
    }

    /// <summary>SNP puts its certificate table here; TDX has none (the attribute is absent or empty).</summary>
    private byte[]? ReadAuxBlob(string name)
    {
        try
        {
            var aux = tsm.Read(name, TsmAttribute.Auxblob);
            return aux.Length == 0 ? null : aux;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private void Remove(string name)
    {
        try
        {
            tsm.RemoveEntry(name);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The evidence (or the error) is still good; a stale entry only costs a little kernel memory.
            LogCannotRemove(logger, name, ex.Message);
        }
    }

    private EvidenceResult NoTsm() =>
        EvidenceResult.NoProvider("no attestation provider", $"configfs-tsm is not available: {tsm.Directory} does not exist");

    [LoggerMessage(Level = LogLevel.Debug, Message = "Obtained {Bytes} bytes of evidence from {Provider} ({AuxBytes} bytes of auxblob)")]
    private static partial void LogObtained(ILogger logger, int bytes, string provider, int auxBytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot remove configfs-tsm report entry {Entry}: {Reason}")]
    private static partial void LogCannotRemove(ILogger logger, string entry, string reason);
}
