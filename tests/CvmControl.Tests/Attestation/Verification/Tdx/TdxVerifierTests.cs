using System.Buffers.Binary;
using System.Text;
using CvmControl.Attestation.Verification;
using CvmControl.Tests.Attestation.Fakes;

namespace CvmControl.Tests.Attestation.Verification.Tdx;

public sealed class TdxVerifierTests
{
    private const string Production = "tdx_prod_quote_SPR_E4.dat";
    private const string Trustee = "tdx_quote_4.dat";

    /// <summary>The quote proper of the production vector, without the 39 junk bytes.</summary>
    private const int ProductionQuoteLength = 4935;

    // Absolute offsets in a v4 quote.
    private const int SignedLength = 632;
    private const int QeReportOffset = 636 + 64 + 64 + 6;
    private const int QeAuthSizeOffset = QeReportOffset + 384 + 64;

    private static readonly DateTimeOffset At = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static VerificationResult Verify(byte[] quote, bool allowDebug = false, byte[]? reportData = null, byte[]? measurement = null, TrustAnchors? anchors = null) =>
        EvidenceVerifier.Verify(quote, new VerificationOptions
        {
            At = At,
            AllowDebug = allowDebug,
            ExpectedReportData = reportData,
            ExpectedMeasurement = measurement,
            Anchors = anchors ?? TrustAnchors.Vendor,
        });

    /// <summary>The trustee vector is a debug TD (TDATTRIBUTES bit 0), so it only verifies with AllowDebug.</summary>
    private static bool AllowDebugFor(string vector) => vector == Trustee;

    [Fact]
    public void Production_SPR_quote_with_trailing_junk_verifies()
    {
        var quote = TestVectors.Read(Production);
        quote.Length.Should().Be(ProductionQuoteLength + 39);

        var result = Verify(quote);

        result.Errors.Should().BeEmpty();
        result.Verified.Should().BeTrue();
        result.Kind.Should().Be(EvidenceKind.Tdx);
        result.SigningKey.Should().Be("pck");
        result.Product.Should().BeNull();
        result.Measurement.Should().Equal(Convert.FromHexString("6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb"));
        result.ReportData.Should().Equal(quote[568..632]);
    }

    [Fact]
    public void Production_SPR_quote_without_the_junk_verifies_too()
    {
        var result = Verify(TestVectors.Read(Production)[..ProductionQuoteLength]);

        result.Errors.Should().BeEmpty();
        result.Verified.Should().BeTrue();
    }

    [Fact]
    public void Trustee_quote_with_NUL_terminated_PEM_chain_verifies_when_debug_is_allowed()
    {
        var quote = TestVectors.Read(Trustee);

        var result = Verify(quote, allowDebug: true);

        result.Errors.Should().BeEmpty();
        result.Verified.Should().BeTrue();
        result.Kind.Should().Be(EvidenceKind.Tdx);
        result.SigningKey.Should().Be("pck");
        result.Measurement.Should().Equal(Convert.FromHexString("705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031"));
        result.ReportData.Should().Equal(quote[568..632]);
    }

    [Fact]
    public void Trustee_quote_is_from_a_debug_TD_and_fails_by_default()
    {
        var result = Verify(TestVectors.Read(Trustee));

        result.Verified.Should().BeFalse();
        result.Errors.Should().ContainSingle().Which.Should().Contain("DEBUG");
    }

    [Theory]
    [InlineData(Production)]
    [InlineData(Trustee)]
    public void Every_byte_flip_in_the_quote_signed_region_fails(string vector)
    {
        var original = TestVectors.Read(vector);
        for (var offset = 0; offset < SignedLength; offset++)
        {
            var quote = (byte[])original.Clone();
            quote[offset] ^= 0x01;

            var result = Verify(quote, allowDebug: true);

            result.Verified.Should().BeFalse($"byte {offset} was flipped");
            result.Errors.Should().NotBeEmpty();
        }
    }

    [Theory]
    [InlineData(Production)]
    [InlineData(Trustee)]
    public void Every_byte_flip_in_the_QE_report_fails(string vector)
    {
        var original = TestVectors.Read(vector);
        for (var offset = QeReportOffset; offset < QeReportOffset + 384; offset++)
        {
            var quote = (byte[])original.Clone();
            quote[offset] ^= 0x01;

            var result = Verify(quote, allowDebug: true);

            result.Verified.Should().BeFalse($"QE report byte {offset - QeReportOffset} was flipped");
            result.Errors.Should().Contain(e => e.StartsWith("QE report signature does not verify", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Flipping_the_quote_signature_or_attestation_key_fails()
    {
        var original = TestVectors.Read(Production);
        foreach (var offset in new[] { 636, 636 + 63, 636 + 64, 636 + 127 })
        {
            var quote = (byte[])original.Clone();
            quote[offset] ^= 0x01;

            Verify(quote).Verified.Should().BeFalse($"byte {offset} was flipped");
        }
    }

    [Fact]
    public void Truncating_the_quote_at_any_length_fails_cleanly()
    {
        var original = TestVectors.Read(Production);
        for (var length = 0; length < ProductionQuoteLength; length++)
        {
            VerificationResult? result = null;
            var act = () => result = Verify(original[..length]);

            act.Should().NotThrow($"the quote was cut to {length} bytes");
            result!.Verified.Should().BeFalse($"the quote was cut to {length} bytes");
            result.Errors.Should().NotBeEmpty();
        }
    }

    /// <summary>
    /// Random changes to the signature data (signature, attestation key, QE report, QE auth data, PCK chain)
    /// must fail with a reason. The one part that may change without failing is the copy of the Intel
    /// root at the end of the chain: the verifier then trusts its own pinned copy instead. A corruption
    /// that verifies must still report exactly what the genuine quote does.
    /// </summary>
    [Theory]
    [InlineData(Production)]
    [InlineData(Trustee)]
    public void Random_corruption_of_the_signature_data_fails_unless_it_only_touches_the_carried_root(string vector)
    {
        var original = TestVectors.Read(vector);
        var genuine = Verify(original, allowDebug: true);
        genuine.Verified.Should().BeTrue();
        var carriedRoot = CarriedRootOffset(original);
        var random = new Random(20260101);
        var mustFail = 0;
        for (var round = 0; round < 2000; round++)
        {
            var quote = (byte[])original.Clone();
            for (var i = random.Next(1, 5); i > 0; i--)
            {
                quote[random.Next(SignedLength, quote.Length)] = (byte)random.Next(256);
            }
            var changed = Enumerable.Range(0, quote.Length).Where(o => quote[o] != original[o]).ToList();

            var result = Verify(quote, allowDebug: true);

            if (changed.Any(o => o < carriedRoot))
            {
                mustFail++;
                result.Verified.Should().BeFalse($"round {round} changed bytes {string.Join(", ", changed)}");
                result.Errors.Should().NotBeEmpty();
            }
            else if (result.Verified)
            {
                result.Measurement.Should().Equal(genuine.Measurement);
                result.ReportData.Should().Equal(genuine.ReportData);
                result.SigningKey.Should().Be(genuine.SigningKey);
            }
        }
        mustFail.Should().BeGreaterThan(1000, "most rounds hit the signed parts of the signature data");
    }

    /// <summary>Where the third PEM block of the PCK chain, the carried Intel root, starts.</summary>
    private static int CarriedRootOffset(byte[] quote)
    {
        var begin = "-----BEGIN CERTIFICATE-----"u8;
        var offset = 0;
        for (var block = 0; block < 3; block++)
        {
            var next = quote.AsSpan(offset).IndexOf(begin);
            next.Should().BeGreaterThanOrEqualTo(0, "the chain holds leaf, intermediate and root");
            offset += next + (block < 2 ? begin.Length : 0);
        }
        return offset;
    }

    [Fact]
    public void A_tdx_quote_has_no_vmpl_and_fails_when_one_is_expected()
    {
        var options = new VerificationOptions { At = At, ExpectedVmpl = 0 };

        var result = EvidenceVerifier.Verify(TestVectors.Read(Production), options);

        result.Vmpl.Should().BeNull();
        result.Verified.Should().BeFalse();
        result.Errors.Should().ContainSingle().Which.Should().Be("VMPL 0 was expected, but a TDX quote has no VMPL (an SEV-SNP field)");
    }

    [Fact]
    public void Truncated_quote_still_reports_its_measurement_once_the_body_is_complete()
    {
        var quote = TestVectors.Read(Production);

        var result = Verify(quote[..1000]);

        result.Verified.Should().BeFalse();
        result.Errors.Should().ContainSingle().Which.Should().StartWith("signature data length 4299 runs past the end of the quote");
        result.Measurement.Should().Equal(quote[184..232]);
        result.ReportData.Should().Equal(quote[568..632]);
    }

    [Fact]
    public void Quote_whose_root_is_not_pinned_fails_naming_the_root()
    {
        var anchors = new TrustAnchors(TrustAnchors.AmdArkPins, [new string('0', 64)], TrustAnchors.Vendor.Embedded);

        var result = Verify(TestVectors.Read(Production), anchors: anchors);

        result.Verified.Should().BeFalse();
        result.Errors.Should().ContainSingle().Which.Should()
            .Contain("'Intel SGX Root CA'").And.Contain(TrustAnchors.IntelSgxRootCaPin).And.Contain("not a pinned Intel root");
    }

    [Fact]
    public void Quote_verifies_at_the_edges_of_its_PCK_validity_only()
    {
        var quote = TestVectors.Read(Production);
        var late = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var early = new DateTimeOffset(2022, 1, 1, 0, 0, 0, TimeSpan.Zero);

        var expired = EvidenceVerifier.Verify(quote, new VerificationOptions { At = late });
        var notYet = EvidenceVerifier.Verify(quote, new VerificationOptions { At = early });

        expired.Errors.Should().ContainSingle().Which.Should().Contain("expired");
        notYet.Errors.Should().Contain(e => e.Contains("is not valid before", StringComparison.Ordinal));
    }

    [Fact]
    public void Expected_report_data_that_matches_passes()
    {
        var quote = TestVectors.Read(Production);

        Verify(quote, reportData: quote[568..632], measurement: quote[184..232]).Verified.Should().BeTrue();
    }

    [Fact]
    public void Expected_report_data_mismatch_fails()
    {
        var quote = TestVectors.Read(Production);
        var expected = quote[568..632];
        expected[63] ^= 0xff;

        var result = Verify(quote, reportData: expected);

        result.Verified.Should().BeFalse();
        result.Errors.Should().ContainSingle().Which.Should()
            .StartWith("REPORTDATA does not match the expected value")
            .And.Contain(Convert.ToHexStringLower(quote[568..632]))
            .And.Contain(Convert.ToHexStringLower(expected));
    }

    [Fact]
    public void Expected_measurement_mismatch_fails()
    {
        var quote = TestVectors.Read(Production);

        var result = Verify(quote, measurement: new byte[48]);

        result.Verified.Should().BeFalse();
        result.Errors.Should().ContainSingle().Which.Should().StartWith("MRTD does not match the expected measurement");
    }

    [Fact]
    public void Signature_data_length_past_the_end_fails()
    {
        var quote = TestVectors.Read(Trustee);
        BinaryPrimitives.WriteUInt32LittleEndian(quote.AsSpan(632), uint.MaxValue);

        var result = Verify(quote, allowDebug: true);

        result.Errors.Should().ContainSingle().Which.Should().Contain("signature data length 4294967295 runs past the end of the quote");
    }

    [Fact]
    public void Certification_data_of_another_type_fails()
    {
        var quote = TestVectors.Read(Production);
        BinaryPrimitives.WriteUInt16LittleEndian(quote.AsSpan(636 + 128), 5);

        var result = Verify(quote);

        result.Errors.Should().ContainSingle().Which.Should().Be("certification data type is 5, expected 6 (QE report certification data)");
    }

    [Theory]
    [InlineData(4166u)]
    [InlineData(uint.MaxValue)]
    public void Certification_data_size_out_of_range_fails(uint size)
    {
        var quote = TestVectors.Read(Production);
        BinaryPrimitives.WriteUInt32LittleEndian(quote.AsSpan(636 + 130), size);

        var result = Verify(quote);

        result.Errors.Should().ContainSingle().Which.Should().StartWith($"certification data size {size} runs past the end of the signature data");
    }

    [Theory]
    [InlineData(ushort.MaxValue)]
    [InlineData(3710)]
    public void QE_auth_data_size_out_of_range_fails(ushort size)
    {
        var quote = TestVectors.Read(Production);
        BinaryPrimitives.WriteUInt16LittleEndian(quote.AsSpan(QeAuthSizeOffset), size);

        var result = Verify(quote);

        result.Verified.Should().BeFalse();
        result.Errors.Should().Contain(e => e.StartsWith($"QE auth data size {size} runs past", StringComparison.Ordinal)
            || e.StartsWith("QE report certification data ends", StringComparison.Ordinal));
    }

    [Fact]
    public void QE_auth_data_size_change_breaks_the_attestation_key_binding()
    {
        var quote = TestVectors.Read(Production);
        BinaryPrimitives.WriteUInt16LittleEndian(quote.AsSpan(QeAuthSizeOffset), 31);

        var result = Verify(quote);

        result.Errors.Should().Contain(e => e.StartsWith("QE report REPORTDATA does not bind the attestation key", StringComparison.Ordinal));
    }

    [Fact]
    public void PCK_certification_data_without_certificates_fails()
    {
        var result = Verify(ProductionWithoutPemBlocks());

        result.Errors.Should().ContainSingle().Which.Should().Be("PCK certification data holds no PEM certificate");
    }

    [Fact]
    public void PCK_certification_data_of_another_type_fails_but_the_QE_report_is_still_checked()
    {
        var quote = TestVectors.Read(Production);
        BinaryPrimitives.WriteUInt16LittleEndian(quote.AsSpan(QeAuthSizeOffset + 2 + 32), 1);
        quote[QeReportOffset + 256] = 1; // ISVPRODID of the SGX quoting enclave

        var result = Verify(quote);

        result.Errors.Should().BeEquivalentTo(
            "PCK certification data type is 1, expected 5 (PEM certificate chain)",
            "QE ISVPRODID is 1, expected 2 (the TDX quoting enclave)");
    }

    [Fact]
    public void Unreadable_PEM_block_in_the_chain_fails_rather_than_promoting_the_next_certificate_to_leaf()
    {
        var quote = TestVectors.Read(Production);
        var chainStart = QeAuthSizeOffset + 2 + 32 + 6;
        quote[chainStart + 40] = (byte)'*'; // inside the first certificate's base64

        var result = Verify(quote);

        result.Errors.Should().ContainSingle().Which.Should().Be("cannot read the PCK certificate chain: 3 PEM certificate blocks, but only 2 could be read");
    }

    [Fact]
    public void Synthetic_v4_quote_verifies_under_its_own_pinned_root()
    {
        var reportData = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
        var fake = FakeTdxQuote.Create(reportData);

        var result = EvidenceVerifier.Verify(fake.Quote, fake.Options() with { ExpectedReportData = reportData, ExpectedMeasurement = fake.Mrtd });

        result.Errors.Should().BeEmpty();
        result.Verified.Should().BeTrue();
        result.Kind.Should().Be(EvidenceKind.Tdx);
        result.ReportData.Should().Equal(reportData);
        result.Measurement.Should().Equal(fake.Mrtd);
    }

    [Fact]
    public void Synthetic_v5_quote_with_TDX_1_5_body_verifies()
    {
        var reportData = Enumerable.Range(100, 64).Select(i => (byte)i).ToArray();
        var fake = FakeTdxQuote.Create(reportData, version: 5);
        BinaryPrimitives.ReadUInt16LittleEndian(fake.Quote.AsSpan(48)).Should().Be(3);
        BinaryPrimitives.ReadUInt32LittleEndian(fake.Quote.AsSpan(50)).Should().Be(648);

        var result = EvidenceVerifier.Verify(fake.Quote, fake.Options() with { ExpectedReportData = reportData, ExpectedMeasurement = fake.Mrtd });

        result.Errors.Should().BeEmpty();
        result.Verified.Should().BeTrue();
        result.ReportData.Should().Equal(reportData);
        result.Measurement.Should().Equal(fake.Mrtd);
    }

    [Fact]
    public void Synthetic_v5_quote_with_TDX_1_0_body_verifies()
    {
        var fake = FakeTdxQuote.Create(new byte[64], version: 5, tdx15Body: false);

        var result = EvidenceVerifier.Verify(fake.Quote, fake.Options());

        result.Errors.Should().BeEmpty();
        result.Verified.Should().BeTrue();
    }

    [Fact]
    public void Synthetic_v5_quote_with_an_unknown_body_type_fails()
    {
        var fake = FakeTdxQuote.Create(new byte[64], version: 5);
        BinaryPrimitives.WriteUInt16LittleEndian(fake.Quote.AsSpan(48), 1);

        var result = EvidenceVerifier.Verify(fake.Quote, fake.Options());

        result.Errors.Should().ContainSingle().Which.Should().Be("report body type is 1; expected 2 (TDX 1.0) or 3 (TDX 1.5)");
    }

    [Fact]
    public void Every_byte_flip_in_a_synthetic_v5_signed_region_fails()
    {
        var fake = FakeTdxQuote.Create(new byte[64], version: 5);
        for (var offset = 0; offset < fake.SignedLength; offset++)
        {
            var quote = (byte[])fake.Quote.Clone();
            quote[offset] ^= 0x01;

            var result = EvidenceVerifier.Verify(quote, fake.Options() with { AllowDebug = true });

            result.Verified.Should().BeFalse($"byte {offset} was flipped");
        }
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    public void Synthetic_debug_TD_fails_unless_debug_is_allowed(int version)
    {
        var fake = FakeTdxQuote.Create(new byte[64], version: version, debug: true);

        var strict = EvidenceVerifier.Verify(fake.Quote, fake.Options());
        var lenient = EvidenceVerifier.Verify(fake.Quote, fake.Options() with { AllowDebug = true });

        strict.Verified.Should().BeFalse();
        strict.Errors.Should().ContainSingle().Which.Should().StartWith("TD attribute DEBUG is set");
        lenient.Errors.Should().BeEmpty();
        lenient.Verified.Should().BeTrue();
    }

    [Fact]
    public void Synthetic_quote_without_root_in_its_chain_verifies_against_the_embedded_pinned_root()
    {
        var fake = FakeTdxQuote.Create(new byte[64], includeRoot: false);

        var result = EvidenceVerifier.Verify(fake.Quote, fake.Options());

        result.Errors.Should().BeEmpty();
        result.Verified.Should().BeTrue();
    }

    [Fact]
    public void Synthetic_quote_without_root_fails_when_no_pinned_root_is_embedded()
    {
        var fake = FakeTdxQuote.Create(new byte[64], includeRoot: false);
        var anchors = new TrustAnchors(TrustAnchors.AmdArkPins, fake.Anchors.IntelRootSha256, []);

        var result = EvidenceVerifier.Verify(fake.Quote, fake.Options() with { Anchors = anchors });

        result.Errors.Should().ContainSingle().Which.Should().StartWith("no pinned Intel root issued PCK intermediate 'Fake SGX PCK Platform CA'");
    }

    [Fact]
    public void Synthetic_quote_fails_under_the_real_Intel_pin()
    {
        var fake = FakeTdxQuote.Create(new byte[64]);

        var result = EvidenceVerifier.Verify(fake.Quote, new VerificationOptions { At = FakeTdxQuote.ValidAt });

        result.Errors.Should().ContainSingle().Which.Should().Contain("'Fake SGX Root CA'").And.Contain("not a pinned Intel root");
    }

    [Fact]
    public void Every_byte_flip_in_a_synthetic_QE_report_fails()
    {
        var fake = FakeTdxQuote.Create(new byte[64], version: 5);
        for (var offset = fake.QeReportOffset; offset < fake.QeReportOffset + 384; offset++)
        {
            var quote = (byte[])fake.Quote.Clone();
            quote[offset] ^= 0x01;

            EvidenceVerifier.Verify(quote, fake.Options()).Verified.Should().BeFalse($"QE report byte {offset - fake.QeReportOffset} was flipped");
        }
    }

    /// <summary>The production quote with every PEM marker of its chain misspelt, so that no certificate block is found.</summary>
    private static byte[] ProductionWithoutPemBlocks()
    {
        var quote = TestVectors.Read(Production);
        var chainStart = QeAuthSizeOffset + 2 + 32 + 6;
        var text = Encoding.ASCII.GetString(quote, chainStart, ProductionQuoteLength - chainStart).Replace("CERTIFICATE", "CERTIFICATX", StringComparison.Ordinal);
        Encoding.ASCII.GetBytes(text).CopyTo(quote, chainStart);
        return quote;
    }

    private static VerificationResult VerifyWithTcbInfo(byte[] quote) =>
        EvidenceVerifier.Verify(quote, new VerificationOptions
        {
            At = At,
            Tcb = new TcbPolicy { IntelTcbInfo = TestVectors.Read("tcbInfo.json") },
        });

    [Fact]
    public void A_quote_from_another_QE_vendor_is_refused_naming_both_vendor_ids()
    {
        var quote = TestVectors.Read(Production);
        quote[12] ^= 0xff;

        var result = Verify(quote);

        // The vendor id lies in the signed header, so the quote signature breaks with it.
        result.Errors.Should().BeEquivalentTo(
            $"QE vendor id is {Convert.ToHexStringLower(quote[12..28])}, expected 939a7233f79c4ca9940a0db3957f0607 (Intel)",
            "quote signature does not verify with the attestation key");
    }

    [Fact]
    public void A_QE_report_from_another_signer_is_refused_and_its_PCK_signature_breaks()
    {
        var quote = TestVectors.Read(Production);
        quote[QeReportOffset + 128] ^= 0x01;

        var result = Verify(quote);

        result.Errors.Should().BeEquivalentTo(
            $"QE MRSIGNER is {Convert.ToHexStringLower(quote[(QeReportOffset + 128)..(QeReportOffset + 160)])}, expected dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5 (Intel's quoting enclave)",
            "QE report signature does not verify with the key of PCK certificate 'Intel SGX PCK Certificate'");
    }

    [Fact]
    public void An_attestation_key_off_the_P256_curve_is_refused_as_a_key_not_as_a_bad_signature()
    {
        var quote = TestVectors.Read(Production);
        quote.AsSpan(636 + 64, 64).Fill(0x01);

        var result = Verify(quote);

        result.Errors.Should().HaveCount(2);
        result.Errors.Should().ContainSingle(e => e.StartsWith("attestation key is not a valid P-256 public key: ", StringComparison.Ordinal));
        result.Errors.Should().ContainSingle(e => e.StartsWith("QE report REPORTDATA does not bind the attestation key", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(636 + 128, 5, "certification data type is 5, expected 6 (QE report certification data)")]
    [InlineData(QeAuthSizeOffset + 2 + 32, 1, "PCK certification data type is 1, expected 5 (PEM certificate chain)")]
    public void TCB_info_cannot_be_applied_to_a_quote_without_a_PCK_chain(int offset, ushort type, string error)
    {
        var quote = TestVectors.Read(Production);
        BinaryPrimitives.WriteUInt16LittleEndian(quote.AsSpan(offset), type);

        var result = VerifyWithTcbInfo(quote);

        result.Errors.Should().BeEquivalentTo(error, "cannot judge the TCB: the quote carries no readable PCK certificate chain");
    }

    [Fact]
    public void TCB_info_cannot_be_applied_to_a_quote_whose_PCK_data_holds_no_certificate()
    {
        var result = VerifyWithTcbInfo(ProductionWithoutPemBlocks());

        result.Errors.Should().BeEquivalentTo("PCK certification data holds no PEM certificate", "cannot judge the TCB: the quote carries no readable PCK certificate chain");
    }
}
