using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Attestation.Verification.Snp;

/// <summary>
/// The certificate table the host hands an SNP guest with its report (configfs-tsm <c>auxblob</c>,
/// or SNP_GET_EXT_REPORT): 24-byte entries {GUID, u32 offset, u32 length}, ending with an all-zero
/// entry; offsets count from the start of the blob and each certificate is DER. The host is
/// untrusted, so every entry is bounds-checked and nothing here is trusted until a chain verifies.
/// </summary>
internal static class SnpCertificateTable
{
    private const int EntrySize = 24;
    private const int MaxEntries = 64;

    public static readonly Guid Vcek = Guid.Parse("63da758d-e664-4564-adc5-f4b93be8accd");
    public static readonly Guid Vlek = Guid.Parse("a8074bc2-a25a-483e-aae6-39c045a0b8a1");
    public static readonly Guid AskOrAsvk = Guid.Parse("4ab7b379-bbac-4fe4-a02f-05aef327c782");
    public static readonly Guid Ark = Guid.Parse("c0b406a4-a803-4952-9743-3fb6014cd0ae");

    /// <summary>Reads every entry it can; problems become errors in <paramref name="result"/>.</summary>
    public static List<(Guid Kind, X509Certificate2 Certificate)> Parse(ReadOnlySpan<byte> table, VerificationResult result)
    {
        var entries = new List<(Guid, X509Certificate2)>();
        for (var index = 0; ; index++)
        {
            var at = index * EntrySize;
            if (at + EntrySize > table.Length)
            {
                result.Fail($"certificate table: entry {index} runs past the end of the {table.Length}-byte table (no terminating entry)");
                break;
            }
            var entry = table.Slice(at, EntrySize);
            if (!entry.ContainsAnyExcept((byte)0))
            {
                break;
            }
            if (index == MaxEntries)
            {
                result.Fail($"certificate table: more than {MaxEntries} entries");
                break;
            }
            var kind = KnownGuid(entry[..16]);
            var offset = BinaryPrimitives.ReadUInt32LittleEndian(entry[16..]);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(entry[20..]);
            if (kind is null)
            {
                continue; // Other GUIDs (CRLs, vendor data) are allowed and ignored.
            }
            if (length == 0 || offset > (uint)table.Length || length > (uint)table.Length - offset)
            {
                result.Fail($"certificate table: entry {index} (offset {offset}, length {length}) lies outside the {table.Length}-byte table");
                continue;
            }
            try
            {
                entries.Add((kind.Value, X509CertificateLoader.LoadCertificate(table.Slice((int)offset, (int)length))));
            }
            catch (CryptographicException ex)
            {
                result.Fail($"certificate table: entry {index} is not a DER certificate: {ex.Message}");
            }
        }
        return entries;
    }

    /// <summary>
    /// Matches a GUID in RFC 4122 byte order (as the GHCB spec writes it) or in the mixed-endian
    /// order of Microsoft's GUID struct: hosts are known to use both.
    /// </summary>
    private static Guid? KnownGuid(ReadOnlySpan<byte> bytes)
    {
        var bigEndian = new Guid(bytes, bigEndian: true);
        var mixed = new Guid(bytes, bigEndian: false);
        foreach (var known in (ReadOnlySpan<Guid>)[Vcek, Vlek, AskOrAsvk, Ark])
        {
            if (known == bigEndian || known == mixed)
            {
                return known;
            }
        }
        return null;
    }
}
