using System.Security.Cryptography.X509Certificates;
using System.Text;
using CvmControl.Identity;

namespace CvmControl.Tests.Identity;

public sealed class PemCredentialsTests
{
    private static readonly System.Security.Cryptography.X509Certificates.X509Certificate2 Root = TestPki.Root();
    private static readonly System.Security.Cryptography.X509Certificates.X509Certificate2 Intermediate = TestPki.Intermediate(Root);

    private static byte[] Bytes(string text) => Encoding.ASCII.GetBytes(text);

    private static CertificateWithKey Load(string certificate, string? key) =>
        key is null ? PemCredentials.Load(Bytes(certificate), "cert.pem") : PemCredentials.Load(Bytes(certificate), "cert.pem", Bytes(key), "key.pem");

    [Fact]
    public void Loads_a_leaf_first_chain_and_a_pkcs8_key()
    {
        using var leaf = TestPki.Server(Intermediate);

        var loaded = Load(TestPki.CertificatePem(leaf, Intermediate), TestPki.Pkcs8Pem(leaf));

        loaded.Certificate.Thumbprint.Should().Be(leaf.Thumbprint);
        loaded.Certificate.HasPrivateKey.Should().BeTrue();
        loaded.Intermediates.Should().ContainSingle().Which.Thumbprint.Should().Be(Intermediate.Thumbprint);
    }

    [Fact]
    public void Loads_a_sec1_ec_key()
    {
        using var leaf = TestPki.Server(Root);

        Load(TestPki.CertificatePem(leaf), TestPki.Sec1Pem(leaf)).Certificate.HasPrivateKey.Should().BeTrue();
    }

    [Fact]
    public void Loads_a_sec1_ec_key_behind_the_curve_parameters_that_openssl_ecparam_writes()
    {
        using var leaf = TestPki.Server(Root);
        var key = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" + TestPki.Sec1Pem(leaf);

        Load(TestPki.CertificatePem(leaf), key).Certificate.HasPrivateKey.Should().BeTrue();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Loads_an_rsa_key_as_pkcs1_or_pkcs8(bool pkcs1)
    {
        using var leaf = TestPki.Server(Root, rsa: true);

        var loaded = Load(TestPki.CertificatePem(leaf), pkcs1 ? TestPki.RsaPem(leaf) : TestPki.Pkcs8Pem(leaf));

        loaded.Certificate.GetRSAPrivateKey().Should().NotBeNull();
    }

    [Fact]
    public void Loads_the_spiffe_single_file_layout_of_a_pkcs8_key_followed_by_the_chain()
    {
        using var leaf = TestPki.Svid(Intermediate, "spiffe://example.org/cvm");

        var loaded = Load(TestPki.Pkcs8Pem(leaf) + TestPki.CertificatePem(leaf, Intermediate), key: null);

        loaded.Certificate.Thumbprint.Should().Be(leaf.Thumbprint);
        loaded.Certificate.HasPrivateKey.Should().BeTrue();
        loaded.Intermediates.Should().ContainSingle();
    }

    [Fact]
    public void Accepts_the_same_file_given_as_certificate_and_key()
    {
        using var leaf = TestPki.Server(Root);
        var both = Bytes(TestPki.CertificatePem(leaf) + TestPki.Pkcs8Pem(leaf));

        PemCredentials.Load(both, "both.pem", both, "both.pem").Certificate.HasPrivateKey.Should().BeTrue();
    }

    [Fact]
    public void Refuses_a_key_that_belongs_to_another_certificate()
    {
        using var leaf = TestPki.Server(Root);
        using var other = TestPki.Server(Root);

        var act = () => Load(TestPki.CertificatePem(leaf), TestPki.Pkcs8Pem(other));

        act.Should().Throw<CredentialException>().WithMessage("the private key in key.pem does not match the certificate in cert.pem*");
    }

    [Fact]
    public void Refuses_an_rsa_key_for_an_ec_certificate()
    {
        using var leaf = TestPki.Server(Root);
        using var rsa = TestPki.Server(Root, rsa: true);

        var act = () => Load(TestPki.CertificatePem(leaf), TestPki.RsaPem(rsa));

        act.Should().Throw<CredentialException>().WithMessage("the private key in key.pem does not match the certificate in cert.pem*");
    }

    [Fact]
    public void Refuses_a_key_file_that_holds_a_certificate()
    {
        using var leaf = TestPki.Server(Root);

        var act = () => Load(TestPki.CertificatePem(leaf), TestPki.CertificatePem(leaf));

        act.Should().Throw<CredentialException>().WithMessage("key.pem holds no private key (found CERTIFICATE)");
    }

    [Fact]
    public void Refuses_a_truncated_certificate_file()
    {
        using var leaf = TestPki.Server(Intermediate);
        var full = TestPki.CertificatePem(leaf, Intermediate);

        var act = () => Load(full[..(full.Length - 80)], TestPki.Pkcs8Pem(leaf));

        act.Should().Throw<CredentialException>().WithMessage("cert.pem has an incomplete or malformed PEM block after 1 complete one (truncated, or still being written?)");
    }

    [Fact]
    public void Refuses_a_truncated_key_file()
    {
        using var leaf = TestPki.Server(Root);
        var key = TestPki.Pkcs8Pem(leaf);

        var act = () => Load(TestPki.CertificatePem(leaf), key[..(key.Length / 2)]);

        act.Should().Throw<CredentialException>().WithMessage("key.pem has an incomplete or malformed PEM block after 0 complete ones*");
    }

    [Fact]
    public void Refuses_a_corrupt_block_in_the_middle_instead_of_skipping_it()
    {
        using var leaf = TestPki.Server(Intermediate);
        var broken = TestPki.CertificatePem(leaf).Replace("-----END CERTIFICATE-----", "-----END CERTIFICATX-----", StringComparison.Ordinal) + TestPki.CertificatePem(Intermediate);

        var act = () => Load(broken, TestPki.Pkcs8Pem(leaf));

        act.Should().Throw<CredentialException>().WithMessage("cert.pem has an incomplete or malformed PEM block after 0 complete ones*");
    }

    [Fact]
    public void Refuses_an_empty_file()
    {
        var act = () => Load("", "");

        act.Should().Throw<CredentialException>().WithMessage("cert.pem is empty");
    }

    [Fact]
    public void Refuses_a_chain_out_of_order()
    {
        using var leaf = TestPki.Server(Intermediate);

        var act = () => Load(TestPki.CertificatePem(Intermediate, leaf), TestPki.Pkcs8Pem(leaf));

        act.Should().Throw<CredentialException>().WithMessage("cert.pem: certificate 2 ('CN=cvm.test') is not the issuer of certificate 1*");
    }

    [Fact]
    public void Refuses_an_encrypted_key_with_a_reason()
    {
        using var leaf = TestPki.Server(Root);
        var encrypted = leaf.GetECDsaPrivateKey()!.ExportEncryptedPkcs8PrivateKeyPem("pw", new System.Security.Cryptography.PbeParameters(System.Security.Cryptography.PbeEncryptionAlgorithm.Aes128Cbc, System.Security.Cryptography.HashAlgorithmName.SHA256, 1000));

        var act = () => Load(TestPki.CertificatePem(leaf), encrypted);

        act.Should().Throw<CredentialException>().WithMessage("key.pem holds an encrypted private key*");
    }

    [Fact]
    public void Refuses_two_keys()
    {
        using var leaf = TestPki.Server(Root);

        var act = () => Load(TestPki.CertificatePem(leaf), TestPki.Pkcs8Pem(leaf) + TestPki.Sec1Pem(leaf));

        act.Should().Throw<CredentialException>().WithMessage("key.pem holds 2 private keys; give exactly one");
    }

    [Fact]
    public void Refuses_more_than_16_certificates()
    {
        using var leaf = TestPki.Server(Root);

        var act = () => Load(string.Concat(Enumerable.Repeat(TestPki.CertificatePem(leaf), 17)), TestPki.Pkcs8Pem(leaf));

        act.Should().Throw<CredentialException>().WithMessage("cert.pem holds 17 certificates; at most 16 are accepted");
    }

    [Fact]
    public void Loads_a_bundle_of_roots()
    {
        using var other = TestPki.Root("Other Root");

        PemCredentials.LoadBundle(Bytes(TestPki.CertificatePem(Root, other)), "bundle.pem").Should().HaveCount(2);
    }

    [Fact]
    public void Refuses_a_bundle_holding_a_key()
    {
        using var leaf = TestPki.Server(Root);

        var act = () => PemCredentials.LoadBundle(Bytes(TestPki.CertificatePem(Root) + TestPki.Pkcs8Pem(leaf)), "bundle.pem");

        act.Should().Throw<CredentialException>().WithMessage("bundle.pem holds a 'PRIVATE KEY' PEM block; expected certificates only");
    }

    [Fact]
    public void Reading_a_missing_file_names_it()
    {
        var act = () => CredentialFiles.Instance.Read("/nonexistent/cvm-test/cert.pem");

        act.Should().Throw<CredentialException>().WithMessage("/nonexistent/cvm-test/cert.pem: no such file");
    }

    [Fact]
    public void Reading_a_file_over_1_mib_is_refused()
    {
        using var dir = new TempDir();
        var path = dir.Combine("huge.pem");
        File.WriteAllBytes(path, new byte[CredentialFiles.MaxBytes + 1]);

        var act = () => CredentialFiles.Instance.Read(path);

        act.Should().Throw<CredentialException>().WithMessage($"{path}: the file is larger than {CredentialFiles.MaxBytes} bytes");
    }

    [Fact]
    public void Reading_a_file_of_exactly_the_limit_returns_every_byte()
    {
        using var dir = new TempDir();
        var path = dir.Combine("big.pem");
        var content = new byte[CredentialFiles.MaxBytes];
        content[^1] = 7;
        File.WriteAllBytes(path, content);

        CredentialFiles.Instance.Read(path).Should().Equal(content);
    }
}
