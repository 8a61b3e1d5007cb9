using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CvmControl.Attestation.Verification;
using CvmControl.Attestation.Verification.Tdx;
using CvmControl.Tests.Attestation.Fakes;

namespace CvmControl.Tests.Attestation.Verification.Tdx;

public sealed class SignedCollateralTests : IDisposable
{
    private static readonly DateTimeOffset At = new(2025, 11, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A signature member's value of the right size (64 bytes), all zero.</summary>
    private const string ZeroSignature = "\"00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\"";

    private readonly FakeIntel _intel = new();

    public void Dispose() => _intel.Dispose();

    private static (bool Opened, VerificationResult Result) Open(byte[] file, string field, TrustAnchors? anchors = null, DateTimeOffset? at = null)
    {
        var result = new VerificationResult();
        using var document = SignedCollateral.Open(file, field, anchors ?? TrustAnchors.Vendor, at ?? At, result);
        return (document is not null, result);
    }

    [Theory]
    [InlineData("tcbInfo.json", "tcbInfo")]
    [InlineData("enclaveIdentity.json", "enclaveIdentity")]
    public void Intels_real_collateral_verifies_to_the_pinned_TCB_Signing_certificate(string file, string field)
    {
        var (opened, result) = Open(TestVectors.Read(file), field);

        result.Errors.Should().BeEmpty();
        opened.Should().BeTrue();
    }

    [Theory]
    [InlineData("tcbInfo.json", "tcbInfo")]
    [InlineData("enclaveIdentity.json", "enclaveIdentity")]
    public void Flipping_any_byte_of_real_collateral_is_refused(string file, string field)
    {
        var original = TestVectors.Read(file);
        for (var i = 0; i < original.Length; i++)
        {
            var flipped = (byte[])original.Clone();
            flipped[i] ^= 0x01;

            var (opened, result) = Open(flipped, field);

            opened.Should().BeFalse($"byte {i} ('{(char)original[i]}') was flipped");
            result.Errors.Should().ContainSingle($"byte {i} was flipped").Which.Should().StartWith(field);
        }
    }

    [Theory]
    [InlineData("tcbInfo.json", "tcbInfo")]
    [InlineData("enclaveIdentity.json", "enclaveIdentity")]
    public void Every_truncation_of_real_collateral_is_refused(string file, string field)
    {
        var original = TestVectors.Read(file);
        for (var length = 0; length < original.Length - 1; length++) // the last byte is a newline
        {
            var (opened, result) = Open(original[..length], field);

            opened.Should().BeFalse($"the file was cut to {length} bytes");
            result.Errors.Should().ContainSingle().Which.Should().StartWith(field);
        }
    }

    [Fact]
    public void The_signing_certificate_must_be_valid_at_the_verification_time()
    {
        var (opened, result) = Open(TestVectors.Read("tcbInfo.json"), "tcbInfo", at: new DateTimeOffset(2033, 1, 1, 0, 0, 0, TimeSpan.Zero));

        opened.Should().BeFalse();
        result.Errors.Should().Equal("tcbInfo is signed by Intel's TCB Signing key, but no TCB Signing certificate is valid at 2033-01-01T00:00:00Z (2025-05-06 to 2032-05-06, 2018-05-21 to 2025-05-21)");
    }

    [Fact]
    public void Collateral_from_before_the_2025_renewal_is_judged_by_the_older_certificate()
    {
        // Same key, so today's file verifies with either issue; at a 2024 time only the older one is valid.
        var (opened, result) = Open(TestVectors.Read("tcbInfo.json"), "tcbInfo", at: new DateTimeOffset(2024, 6, 1, 0, 0, 0, TimeSpan.Zero));

        result.Errors.Should().BeEmpty();
        opened.Should().BeTrue();
    }

    [Fact]
    public void The_embedded_signing_certificates_are_pinned_and_issued_by_the_pinned_Intel_root()
    {
        var signers = TrustAnchors.Vendor.Embedded.Where(TrustAnchors.Vendor.IsPinnedIntelTcbSigner).ToList();
        var root = TrustAnchors.Vendor.Embedded.Single(TrustAnchors.Vendor.IsPinnedIntelRoot);

        signers.Select(c => TrustAnchors.Sha256Hex(c.RawData)).Should().BeEquivalentTo(TrustAnchors.IntelTcbSigningPins);
        signers.Should().AllSatisfy(c =>
        {
            c.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.SimpleName, false).Should().Be("Intel SGX TCB Signing");
            CvmControl.Attestation.Verification.CertificateChecks.IsSignedBy(c, root, out var error).Should().BeTrue(error);
        });
    }

    [Theory]
    [InlineData("{\"tcbInfo\":{},\"signature\":\"00\"}", "tcbInfo: not an Intel PCS collateral file (signature is 1 bytes, not 64 (r‖s))")]
    [InlineData("{\"signature\":\"00\"}", "tcbInfo: not an Intel PCS collateral file (signature is 1 bytes, not 64 (r‖s))")]
    [InlineData("{\"tcbInfo\":[],\"signature\":\"00\"}", "tcbInfo: not an Intel PCS collateral file (tcbInfo must appear once, as an object)")]
    [InlineData("[]", "tcbInfo: not an Intel PCS collateral file (it is not a JSON object)")]
    [InlineData("{\"tcbInfo\":{}}", "tcbInfo: not an Intel PCS collateral file (there is no signature)")]
    [InlineData("{\"tcbInfo\":{},\"signature\":" + ZeroSignature + ",\"signature\":" + ZeroSignature + "}", "tcbInfo: not an Intel PCS collateral file (signature must appear once, as a string)")]
    [InlineData("{\"tcbInfo\":{},\"signature\":7}", "tcbInfo: not an Intel PCS collateral file (signature must appear once, as a string)")]
    [InlineData("{\"tcbInfo\":{},\"signature\":\"zz\"}", "tcbInfo: not an Intel PCS collateral file (signature is not hex)")]
    [InlineData("{\"signature\":" + ZeroSignature + "}", "tcbInfo: not an Intel PCS collateral file (there is no tcbInfo)")]
    public void Malformed_files_are_refused_before_any_signature_check(string json, string message)
    {
        var (opened, result) = Open(Encoding.UTF8.GetBytes(json), "tcbInfo");

        opened.Should().BeFalse();
        result.Errors.Should().Equal(message);
    }

    [Fact]
    public void A_second_value_after_the_object_is_refused()
    {
        var file = _intel.SignCollateral("tcbInfo", FakeCollateral.TcbInfo());

        var (opened, result) = Open([.. file, .. " {}"u8], "tcbInfo", _intel.Anchors, FakeTdxQuote.ValidAt);

        opened.Should().BeFalse();
        result.Errors.Should().ContainSingle().Which.Should().StartWith("tcbInfo: not an Intel PCS collateral file");
    }

    [Fact]
    public void A_signed_body_with_a_duplicate_key_is_refused()
    {
        var file = _intel.SignCollateral("tcbInfo", "{\"id\":\"TDX\",\"id\":\"SGX\"}");

        var (opened, result) = Open(file, "tcbInfo", _intel.Anchors, FakeTdxQuote.ValidAt);

        opened.Should().BeFalse();
        result.Errors.Should().ContainSingle().Which.Should().StartWith("tcbInfo: the signed body is not valid JSON");
    }

    [Fact]
    public void A_byte_order_mark_and_whitespace_around_the_body_are_allowed()
    {
        var body = FakeCollateral.QeIdentity();
        var signed = _intel.SignCollateral("enclaveIdentity", body);
        var spaced = Encoding.UTF8.GetString(signed).Replace("{\"enclaveIdentity\":", "\uFEFF{ \"enclaveIdentity\" :\n ", StringComparison.Ordinal) + "\n";

        var (opened, result) = Open(Encoding.UTF8.GetBytes(spaced), "enclaveIdentity", _intel.Anchors, FakeTdxQuote.ValidAt);

        result.Errors.Should().BeEmpty();
        opened.Should().BeTrue();
    }

    /// <summary>The fake Intel's signed default TCB info, its text edited by <paramref name="edit"/>.</summary>
    private byte[] SignedTcbInfo(Func<string, string>? edit = null)
    {
        var text = Encoding.UTF8.GetString(_intel.SignCollateral("tcbInfo", FakeCollateral.TcbInfo()));
        return Encoding.UTF8.GetBytes(edit is null ? text : edit(text));
    }

    private static string Before(string text, string member, string insert)
    {
        text.Should().Contain(member);
        return text.Replace(member, insert + member, StringComparison.Ordinal);
    }

    private static TrustAnchors AnchorsOf(IEnumerable<X509Certificate2> intelRoots, IReadOnlyList<X509Certificate2> embedded, IEnumerable<X509Certificate2> tcbSigners) =>
        new(TrustAnchors.AmdArkPins, intelRoots.Select(c => TrustAnchors.Sha256Hex(c.RawData)), embedded, tcbSigners.Select(c => TrustAnchors.Sha256Hex(c.RawData)));

    [Fact]
    public void Other_members_beside_the_body_and_signature_are_skipped_whole()
    {
        var file = SignedTcbInfo(text => Before(Before(text, "\"tcbInfo\":", "\"note\":[1,{\"tcbInfo\":2}],"), ",\"signature\":", ",\"extra\":{\"a\":[1,{\"b\":2}]}"));

        var (opened, result) = Open(file, "tcbInfo", _intel.Anchors, FakeTdxQuote.ValidAt);

        result.Errors.Should().BeEmpty();
        opened.Should().BeTrue();
    }

    [Fact]
    public void Without_a_pinned_TCB_Signing_certificate_nothing_verifies()
    {
        var anchors = AnchorsOf([_intel.Root], [_intel.Root, _intel.TcbSigning], []);

        var (opened, result) = Open(SignedTcbInfo(), "tcbInfo", anchors, FakeTdxQuote.ValidAt);

        opened.Should().BeFalse();
        result.Errors.Should().Equal("tcbInfo: no Intel TCB Signing certificate is pinned to check its signature with");
    }

    [Fact]
    public void A_signing_certificate_whose_issuer_is_embedded_but_not_pinned_as_Intels_root_is_not_trusted()
    {
        var anchors = AnchorsOf([], [_intel.Root, _intel.TcbSigning], [_intel.TcbSigning]);

        var (opened, result) = Open(SignedTcbInfo(), "tcbInfo", anchors, FakeTdxQuote.ValidAt);

        opened.Should().BeFalse();
        result.Errors.Should().Equal("tcbInfo: the signature does not verify with Intel's TCB Signing key: the file was altered, or it is not Intel's (TCB Signing certificate 'Fake SGX TCB Signing' has no pinned Intel root)");
    }

    [Fact]
    public void The_first_signing_certificates_chain_error_is_the_one_reported()
    {
        // Another fake Intel's root has the same name as this one's, but not its key.
        using var other = new FakeIntel();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var stray = new CertificateRequest("CN=Stray TCB Signing", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(FakeTdxQuote.NotBefore, FakeTdxQuote.NotAfter);
        var anchors = AnchorsOf([other.Root], [other.Root, _intel.TcbSigning, stray], [_intel.TcbSigning, stray]);

        var (opened, result) = Open(SignedTcbInfo(), "tcbInfo", anchors, FakeTdxQuote.ValidAt);

        opened.Should().BeFalse();
        result.Errors.Should().Equal("tcbInfo: the signature does not verify with Intel's TCB Signing key: the file was altered, or it is not Intel's (the signature on 'Fake SGX TCB Signing' does not verify with the key of 'Fake SGX Root CA')");
    }

    [Fact]
    public void The_signing_certificate_is_valid_from_its_first_to_its_last_second()
    {
        var file = SignedTcbInfo();

        Open(file, "tcbInfo", _intel.Anchors, FakeTdxQuote.NotBefore).Result.Errors.Should().BeEmpty();
        Open(file, "tcbInfo", _intel.Anchors, FakeTdxQuote.NotAfter).Result.Errors.Should().BeEmpty();
        Open(file, "tcbInfo", _intel.Anchors, FakeTdxQuote.NotBefore.AddSeconds(-1)).Result.Errors.Should().Equal(
            "tcbInfo is signed by Intel's TCB Signing key, but no TCB Signing certificate is valid at 2019-12-31T23:59:59Z (2020-01-01 to 2049-12-31)");
        Open(file, "tcbInfo", _intel.Anchors, FakeTdxQuote.NotAfter.AddSeconds(1)).Opened.Should().BeFalse();
    }
}
