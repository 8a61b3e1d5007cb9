namespace CvmControl.Attestation.Verification.Snp;

/// <summary>AMD EPYC product lines with SEV-SNP, and how each lays out its TCB version.</summary>
internal static class AmdProduct
{
    public const string Milan = "Milan";
    public const string Genoa = "Genoa";
    public const string Turin = "Turin";

    /// <summary>
    /// The product named by a report's CPUID family and model (report version 3 and later).
    /// Family 0x19: Milan models 0x00–0x0F, Genoa 0x10–0x1F and 0xA0–0xAF (Bergamo, Siena).
    /// Family 0x1A: Turin models 0x00–0x1F. Anything else is unknown (null).
    /// </summary>
    public static string? FromCpuid(byte family, byte model) => (family, model) switch
    {
        (0x19, <= 0x0F) => Milan,
        (0x19, >= 0x10 and <= 0x1F) or (0x19, >= 0xA0 and <= 0xAF) => Genoa,
        (0x1A, <= 0x1F) => Turin,
        _ => null,
    };

    /// <summary>
    /// Splits a TCB_VERSION into its security patch levels. Milan and Genoa: [0] BL, [1] TEE,
    /// [6] SNP, [7] UCODE. Turin adds FMC and packs them: [0] FMC, [1] BL, [2] TEE, [3] SNP, [7] UCODE.
    /// </summary>
    public static TcbVersion SplitTcb(ReadOnlySpan<byte> tcb, string product) => product == Turin
        ? new TcbVersion(Fmc: tcb[0], Bootloader: tcb[1], Tee: tcb[2], Snp: tcb[3], Microcode: tcb[7])
        : new TcbVersion(Fmc: null, Bootloader: tcb[0], Tee: tcb[1], Snp: tcb[6], Microcode: tcb[7]);
}

/// <summary>
/// The security patch levels of a TCB_VERSION. Written <c>bl:tee:snp:ucode</c>, with <c>:fmc</c>
/// appended where the product has an FMC (Turin), as <c>--min-tcb</c> takes it.
/// </summary>
internal readonly record struct TcbVersion(byte? Fmc, byte Bootloader, byte Tee, byte Snp, byte Microcode)
{
    public override string ToString() => $"{Bootloader}:{Tee}:{Snp}:{Microcode}{(Fmc is { } fmc ? $":{fmc}" : "")}";

    /// <summary><c>bl:tee:snp:ucode</c> or <c>bl:tee:snp:ucode:fmc</c>, each a whole number from 0 to 255; null when malformed.</summary>
    public static TcbVersion? Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length is not (4 or 5))
        {
            return null;
        }
        var values = new byte[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!byte.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out values[i]))
            {
                return null;
            }
        }
        return new TcbVersion(parts.Length == 5 ? values[4] : null, values[0], values[1], values[2], values[3]);
    }
}
