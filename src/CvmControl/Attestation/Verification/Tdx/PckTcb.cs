using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Attestation.Verification.Tdx;

/// <summary>
/// The platform TCB a PCK certificate was issued for, from its SGX Extensions (OID
/// 1.2.840.113741.1.13.1, Intel's SGX PCK Certificate and CRL Profile): a SEQUENCE of
/// {OID, value} pairs, among them TCB (.2: sixteen component SVNs .2.1–.2.16, PCESVN .2.17,
/// CPUSVN .2.18), PCE-ID (.3) and FMSPC (.4).
/// </summary>
internal sealed record PckTcb(byte[] ComponentSvns, int PceSvn, byte[] PceId, byte[] Fmspc)
{
    public const string SgxExtensionsOid = "1.2.840.113741.1.13.1";
    private const string TcbOid = SgxExtensionsOid + ".2";
    private const string PceIdOid = SgxExtensionsOid + ".3";
    private const string FmspcOid = SgxExtensionsOid + ".4";
    private const string PceSvnOid = TcbOid + ".17";

    /// <summary>Reads the extension; throws <see cref="CollateralFormatException"/> or <see cref="AsnContentException"/> when it is missing or malformed.</summary>
    public static PckTcb Read(X509Certificate2 pck)
    {
        var raw = CertificateChecks.Extension(pck, SgxExtensionsOid)
            ?? throw new CollateralFormatException($"PCK certificate {CertificateChecks.Describe(pck)} has no SGX Extensions ({SgxExtensionsOid})");
        var fields = Pairs(new AsnReader(raw, AsnEncodingRules.DER), "SGX Extensions");
        var tcb = Pairs(Field(fields, TcbOid), "SGX Extensions TCB");

        var components = new byte[IntelTcbInfo.ComponentCount];
        for (var i = 0; i < components.Length; i++)
        {
            components[i] = (byte)Integer(Field(tcb, $"{TcbOid}.{i + 1}"), $"TCB component {i + 1} SVN", byte.MaxValue);
        }
        return new PckTcb(
            components,
            Integer(Field(tcb, PceSvnOid), "PCESVN", ushort.MaxValue),
            Octets(Field(fields, PceIdOid), "PCE-ID", 2),
            Octets(Field(fields, FmspcOid), "FMSPC", 6));
    }

    /// <summary>A SEQUENCE OF SEQUENCE {OID, value}, each OID once; the readers stand at each value.</summary>
    private static Dictionary<string, AsnReader> Pairs(AsnReader outer, string what)
    {
        var sequence = outer.ReadSequence();
        outer.ThrowIfNotEmpty();
        var pairs = new Dictionary<string, AsnReader>(StringComparer.Ordinal);
        while (sequence.HasData)
        {
            var pair = sequence.ReadSequence();
            var oid = pair.ReadObjectIdentifier();
            if (!pairs.TryAdd(oid, pair))
            {
                throw new CollateralFormatException($"PCK certificate's {what} name {oid} twice");
            }
        }
        return pairs;
    }

    private static AsnReader Field(Dictionary<string, AsnReader> fields, string oid) =>
        fields.TryGetValue(oid, out var reader) ? reader : throw new CollateralFormatException($"PCK certificate's SGX Extensions lack {oid}");

    private static int Integer(AsnReader reader, string what, int max) =>
        reader.TryReadInt32(out var value) && value >= 0 && value <= max && !reader.HasData
            ? value
            : throw new CollateralFormatException($"PCK certificate's {what} is not a whole number from 0 to {max}");

    private static byte[] Octets(AsnReader reader, string what, int length)
    {
        var value = reader.ReadOctetString();
        if (value.Length != length)
        {
            throw new CollateralFormatException($"PCK certificate's {what} is {value.Length} bytes, not {length}");
        }
        return reader.HasData
            ? throw new CollateralFormatException($"PCK certificate's {what} is followed by other data")
            : value;
    }
}
