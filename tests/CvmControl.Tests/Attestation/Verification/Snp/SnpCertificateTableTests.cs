using System.Buffers.Binary;
using System.Security.Cryptography.X509Certificates;
using CvmControl.Attestation.Verification;
using CvmControl.Attestation.Verification.Snp;
using CvmControl.Tests.Attestation.Fakes;

namespace CvmControl.Tests.Attestation.Verification.Snp;

/// <summary>The host writes the certificate table, so each malformed shape must become an error, never an exception.</summary>
public sealed class SnpCertificateTableTests
{
    private static readonly X509Certificate2 Vlek = X509CertificateLoader.LoadCertificate(TestVectors.Read("test-vlek.der"));
    private static readonly Guid SomeCrl = Guid.Parse("11111111-2222-3333-4444-555555555555");

    private static (List<(Guid Kind, X509Certificate2 Certificate)> Entries, IReadOnlyList<string> Errors) Parse(byte[] table)
    {
        var result = new VerificationResult();
        var entries = SnpCertificateTable.Parse(table, result);
        return (entries, result.Errors);
    }

    /// <summary>Header entries only (GUID, offset, length), then the all-zero terminator when asked.</summary>
    private static byte[] Headers(bool terminated, params (Guid Kind, uint Offset, uint Length)[] entries)
    {
        var table = new byte[(entries.Length + (terminated ? 1 : 0)) * 24];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i].Kind.TryWriteBytes(table.AsSpan(i * 24, 16), bigEndian: true, out _);
            BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan((i * 24) + 16), entries[i].Offset);
            BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan((i * 24) + 20), entries[i].Length);
        }
        return table;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Each_certificate_is_read_with_its_kind_in_either_GUID_byte_order(bool bigEndianGuids)
    {
        var asvk = TrustAnchors.Vendor.Embedded.Single(c => c.Subject.Contains("CN=SEV-VLEK-Milan", StringComparison.Ordinal));
        var table = FakeSnpReport.CertificateTable(bigEndianGuids, (SnpCertificateTable.Vlek, Vlek.RawData), (SnpCertificateTable.AskOrAsvk, asvk.RawData));

        var (entries, errors) = Parse(table);

        errors.Should().BeEmpty();
        entries.Select(e => e.Kind).Should().Equal(SnpCertificateTable.Vlek, SnpCertificateTable.AskOrAsvk);
        entries.Select(e => e.Certificate.Thumbprint).Should().Equal(Vlek.Thumbprint, asvk.Thumbprint);
    }

    [Fact]
    public void Entries_of_other_kinds_are_ignored_whatever_their_offset_and_length()
    {
        var (entries, errors) = Parse(Headers(terminated: true, (SomeCrl, 0, 0), (SomeCrl, 9999, 9999)));

        errors.Should().BeEmpty();
        entries.Should().BeEmpty();
    }

    [Theory]
    [InlineData(24)]
    [InlineData(30)]
    public void A_table_without_a_terminating_entry_is_an_error(int length)
    {
        var table = new byte[length];
        Headers(terminated: false, (SomeCrl, 0, 0)).CopyTo(table, 0);

        var (_, errors) = Parse(table);

        errors.Should().Equal($"certificate table: entry 1 runs past the end of the {length}-byte table (no terminating entry)");
    }

    [Fact]
    public void More_than_64_entries_is_an_error_and_nothing_after_the_64th_is_read()
    {
        (Guid, uint, uint)[] many = [.. Enumerable.Repeat((SomeCrl, 0u, 0u), 64), (SnpCertificateTable.Vcek, 0u, 0u)];

        var (_, errors) = Parse(Headers(terminated: true, many));

        errors.Should().Equal("certificate table: more than 64 entries");
    }

    [Fact]
    public void Sixty_four_entries_are_allowed()
    {
        var (_, errors) = Parse(Headers(terminated: true, Enumerable.Repeat((SomeCrl, 0u, 0u), 64).ToArray()));

        errors.Should().BeEmpty();
    }

    [Theory]
    [InlineData(48u, 0u)]    // empty
    [InlineData(50u, 20u)]   // starts inside, ends past the end
    [InlineData(61u, 1u)]    // starts past the end
    public void A_certificate_entry_that_does_not_lie_inside_the_table_is_an_error(uint offset, uint length)
    {
        var table = new byte[60];
        Headers(terminated: true, (SnpCertificateTable.Vcek, offset, length)).CopyTo(table, 0);

        var (entries, errors) = Parse(table);

        entries.Should().BeEmpty();
        errors.Should().Equal($"certificate table: entry 0 (offset {offset}, length {length}) lies outside the 60-byte table");
    }

    [Fact]
    public void A_certificate_entry_that_is_not_DER_is_an_error_and_the_next_entry_is_still_read()
    {
        var header = Headers(terminated: true, (SnpCertificateTable.Ark, 72, 8), (SnpCertificateTable.Vlek, 80, (uint)Vlek.RawData.Length));
        byte[] table = [.. header, .. "not-cert"u8, .. Vlek.RawData];

        var (entries, errors) = Parse(table);

        errors.Should().ContainSingle().Which.Should().StartWith("certificate table: entry 0 is not a DER certificate: ");
        entries.Should().ContainSingle().Which.Kind.Should().Be(SnpCertificateTable.Vlek);
    }
}
