using System.Buffers.Binary;
using CvmControl.Attestation.Verification;
using CvmControl.Attestation.Verification.Tdx;
using CvmControl.Tests.Attestation.Fakes;

namespace CvmControl.Tests.Attestation.Verification.Tdx;

/// <summary>
/// The bounds of each part of a quote (header, v5 body descriptor, body, signature data, QE report
/// certification data, PCK certification data), each probed at the exact length where it starts or
/// stops fitting, with the refusal that names the part.
/// </summary>
public sealed class TdxQuoteLayoutTests
{
    private const string Production = "tdx_prod_quote_SPR_E4.dat";

    // Absolute offsets in the production v4 quote.
    private const int SignatureDataLengthOffset = 632;
    private const int CertificationDataSizeOffset = 636 + 130;
    private const int PckCertificationDataSizeOffset = 1254;

    /// <summary>The production quote's certification data (type 6): QE report 384, signature 64, auth size 2, auth data 32, PCK header 6, PEM chain 3677.</summary>
    private const uint CertificationDataSize = 4165;

    private const uint PckChainSize = 3677;

    private static readonly DateTimeOffset At = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static VerificationResult Verify(byte[] quote) => EvidenceVerifier.Verify(quote, new VerificationOptions { At = At });

    private static byte[] ProductionWith(int offset, uint value)
    {
        var quote = TestVectors.Read(Production);
        BinaryPrimitives.WriteUInt32LittleEndian(quote.AsSpan(offset), value);
        return quote;
    }

    private static string SingleError(byte[] quote)
    {
        var result = Verify(quote);
        result.Verified.Should().BeFalse();
        return result.Errors.Should().ContainSingle().Subject;
    }

    [Fact]
    public void A_quote_shorter_than_its_header_is_refused_with_its_length()
    {
        SingleError(TestVectors.Read(Production)[..47]).Should().Be("quote is 47 bytes, shorter than the 48-byte quote header");
    }

    [Fact]
    public void A_quote_that_is_only_its_header_is_refused_for_its_missing_body()
    {
        SingleError(TestVectors.Read(Production)[..48]).Should().Be("quote is 48 bytes, too short for the 584-byte TD report body at offset 48");
    }

    /// <summary>EvidenceVerifier only hands over quotes whose header names TDX, so these reach the parser directly.</summary>
    [Theory]
    [InlineData(0, 3, "quote version is 3; only versions 4 and 5 are supported")]
    [InlineData(2, 3, "attestation key type is 3, expected 2 (ECDSA P-256)")]
    [InlineData(4, 0, "TEE type is 0x0, expected 0x81 (TDX)")]
    public void A_header_of_another_version_key_type_or_TEE_is_refused_before_the_body_is_read(int offset, byte value, string error)
    {
        var quote = TestVectors.Read(Production);
        quote[offset] = value;
        var result = new VerificationResult();

        var parsed = TdxQuote.Parse(quote, result);

        parsed.Should().BeNull();
        result.Errors.Should().Equal(error);
    }

    [Fact]
    public void A_version_5_quote_cut_inside_its_body_descriptor_is_refused()
    {
        var quote = FakeTdxQuote.Create(new byte[64], version: 5).Quote;

        SingleError(quote[..50]).Should().Be("quote is 50 bytes, too short for the version 5 body descriptor at offset 48");
    }

    [Fact]
    public void A_version_5_quote_that_ends_with_its_body_descriptor_is_refused_for_its_missing_body()
    {
        var quote = FakeTdxQuote.Create(new byte[64], version: 5).Quote;

        SingleError(quote[..54]).Should().Be("quote is 54 bytes, too short for the 648-byte TD report body at offset 54");
    }

    [Fact]
    public void A_version_5_body_declared_at_the_wrong_size_for_its_type_is_refused()
    {
        var quote = FakeTdxQuote.Create(new byte[64], version: 5).Quote;
        BinaryPrimitives.WriteUInt32LittleEndian(quote.AsSpan(50), 584);

        SingleError(quote).Should().Be("report body of type 3 is declared as 584 bytes, expected 648");
    }

    [Fact]
    public void A_quote_that_ends_with_its_body_is_refused_for_its_missing_signature_data_but_reports_the_body()
    {
        var quote = TestVectors.Read(Production);

        var result = Verify(quote[..632]);

        result.Errors.Should().Equal("quote is 632 bytes and ends before the signature data length at offset 632");
        result.Measurement.Should().Equal(quote[184..232]);
    }

    [Fact]
    public void A_quote_that_ends_with_its_signature_data_length_is_refused_for_the_missing_data()
    {
        SingleError(TestVectors.Read(Production)[..636]).Should().Be("signature data length 4299 runs past the end of the quote (only 0 bytes follow it)");
    }

    [Fact]
    public void Signature_data_one_byte_short_of_its_fixed_part_is_refused()
    {
        SingleError(ProductionWith(SignatureDataLengthOffset, 133))
            .Should().Be("signature data is 133 bytes, too short for the signature, attestation key and certification data header (134 bytes)");
    }

    [Fact]
    public void Signature_data_of_exactly_its_fixed_part_is_read_and_its_certification_data_found_missing()
    {
        SingleError(ProductionWith(SignatureDataLengthOffset, 134))
            .Should().Be($"certification data size {CertificationDataSize} runs past the end of the signature data (only 0 bytes left)");
    }

    [Fact]
    public void QE_report_certification_data_one_byte_short_of_the_auth_data_size_is_refused()
    {
        SingleError(ProductionWith(CertificationDataSizeOffset, 449))
            .Should().Be("QE report certification data is 449 bytes, too short for the QE report, its signature and the auth data size (450 bytes)");
    }

    [Fact]
    public void QE_report_certification_data_that_ends_with_the_auth_data_size_is_refused_for_the_missing_auth_data()
    {
        SingleError(ProductionWith(CertificationDataSizeOffset, 450))
            .Should().Be("QE auth data size 32 runs past the end of the QE report certification data (only 0 bytes left)");
    }

    [Fact]
    public void QE_auth_data_one_byte_longer_than_what_is_left_is_refused_with_what_is_left()
    {
        SingleError(ProductionWith(CertificationDataSizeOffset, 450 + 31))
            .Should().Be("QE auth data size 32 runs past the end of the QE report certification data (only 31 bytes left)");
    }

    [Fact]
    public void QE_auth_data_that_exactly_fills_the_certification_data_leaves_no_PCK_header()
    {
        SingleError(ProductionWith(CertificationDataSizeOffset, 450 + 32))
            .Should().Be("QE report certification data ends 0 bytes after the QE auth data, before the PCK certification data header (6 bytes)");
    }

    [Fact]
    public void A_PCK_header_with_nothing_after_it_is_refused_for_the_missing_chain()
    {
        SingleError(ProductionWith(CertificationDataSizeOffset, 450 + 32 + 6))
            .Should().Be($"PCK certification data size {PckChainSize} runs past the end of the QE report certification data (only 0 bytes left)");
    }

    [Fact]
    public void A_PCK_chain_one_byte_longer_than_what_is_left_is_refused_with_what_is_left()
    {
        SingleError(ProductionWith(PckCertificationDataSizeOffset, PckChainSize + 1))
            .Should().Be($"PCK certification data size {PckChainSize + 1} runs past the end of the QE report certification data (only {PckChainSize} bytes left)");
    }

    /// <summary>The production vector has 39 bytes after the quote; both sizes grow to take them in after the chain.</summary>
    [Fact]
    public void Bytes_after_the_PCK_chain_inside_the_certification_data_are_ignored()
    {
        var quote = TestVectors.Read(Production);
        BinaryPrimitives.WriteUInt32LittleEndian(quote.AsSpan(SignatureDataLengthOffset), 134 + CertificationDataSize + 39);
        BinaryPrimitives.WriteUInt32LittleEndian(quote.AsSpan(CertificationDataSizeOffset), CertificationDataSize + 39);

        var result = Verify(quote);

        result.Errors.Should().BeEmpty();
        result.Verified.Should().BeTrue();
    }
}
