using System.Security.Cryptography.X509Certificates;
using CvmControl.Identity;
using CvmControl.Tests.Fakes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace CvmControl.Tests.Identity;

/// <summary>
/// Reloading of the server pair and the client bundle, driven by a fake clock over in-memory files:
/// what counts as a change, when it is applied, and what keeps the last good state.
/// </summary>
public sealed class CredentialReloadingTests : IDisposable
{
    private const string Cert = "/etc/cvm/svid.pem";
    private const string Key = "/etc/cvm/svid_key.pem";
    private const string Bundle = "/etc/cvm/svid_bundle.pem";

    private static readonly X509Certificate2 Root = TestPki.Root();

    private readonly FakeCredentialFiles _files = new();
    private readonly FakeTimeProvider _time = new(TestPki.Now);
    private readonly ListLogger _log = new();
    private readonly X509Certificate2 _first = TestPki.Server(Root, "first");
    private TlsSetup _setup = null!;
    private CredentialReloading _reloading = null!;

    private void Start(bool withBundle = false)
    {
        _files.Write(Cert, TestPki.CertificatePem(_first));
        _files.Write(Key, TestPki.Pkcs8Pem(_first));
        if (withBundle)
        {
            _files.Write(Bundle, TestPki.CertificatePem(Root));
        }
        var options = new TlsOptions
        {
            CertificateFile = Cert,
            KeyFile = Key,
            ClientCaFile = withBundle ? Bundle : null,
            Clients = withBundle ? new ClientAuthPolicy([SpiffeIdPattern.TryParse("spiffe://example.org/owner", out _)!], []) : ClientAuthPolicy.Off,
        };
        _setup = TlsSetup.Load(options, _files, _time);
        _reloading = new CredentialReloading(_setup, _files, _time, _log) { WatchDirectories = false };
        _reloading.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    private string Served => _setup.Server.Current.Certificate.Thumbprint;

    /// <summary>One poll notices a change; the look one settle time later applies it if it held still.</summary>
    private void PollAndSettle()
    {
        _time.Advance(CredentialWatch.PollInterval);
        _time.Advance(CredentialWatch.SettleTime);
    }

    private void Rotate(X509Certificate2 next)
    {
        _files.Write(Cert, TestPki.CertificatePem(next));
        _files.Write(Key, TestPki.Pkcs8Pem(next));
    }

    [Fact]
    public void A_new_pair_is_served_once_the_files_hold_still()
    {
        Start();
        using var second = TestPki.Server(Root, "second");
        Rotate(second);

        _time.Advance(CredentialWatch.PollInterval);
        Served.Should().Be(_first.Thumbprint, "a change is applied only once it has held still for the settle time");
        _time.Advance(CredentialWatch.SettleTime);

        Served.Should().Be(second.Thumbprint);
        _setup.Server.Current.Source.Should().Be(Cert);
        _log.At(LogLevel.Information).Should().ContainSingle().Which.Should().StartWith($"Reloaded --tls-cert {Cert} and --tls-key {Key}: serving 'CN=second'");
    }

    [Fact]
    public void Files_that_keep_changing_are_not_applied_until_they_settle()
    {
        Start();
        using var second = TestPki.Server(Root, "second");
        using var third = TestPki.Server(Root, "third");

        _time.Advance(CredentialWatch.PollInterval);
        Rotate(second);
        _time.Advance(CredentialWatch.PollInterval);
        Rotate(third);
        _time.Advance(CredentialWatch.SettleTime);
        Served.Should().Be(_first.Thumbprint);

        _time.Advance(CredentialWatch.SettleTime);
        Served.Should().Be(third.Thumbprint);
    }

    [Fact]
    public void Unchanged_files_are_never_applied_again()
    {
        Start();
        var context = _setup.Server.Current;

        for (var i = 0; i < 10; i++)
        {
            PollAndSettle();
        }

        _setup.Server.Current.Should().BeSameAs(context);
        _log.Lines.Should().BeEmpty();
        _files.Reads.Should().BeGreaterThan(10, "the files are read on every poll");
    }

    [Fact]
    public void The_three_truncating_writes_of_spiffe_helper_keep_the_last_good_pair_until_the_new_one_is_whole()
    {
        Start(withBundle: true);
        using var second = TestPki.Server(Root, "second");

        // 1. The certificate file is truncated, and stays empty for a while.
        _files.Write(Cert, "");
        PollAndSettle();
        Served.Should().Be(_first.Thumbprint);
        // 2. The new certificate is written; the key file still holds the old key.
        _files.Write(Cert, TestPki.CertificatePem(second));
        PollAndSettle();
        Served.Should().Be(_first.Thumbprint);
        // 3. The key file is truncated, then written.
        _files.Write(Key, "");
        PollAndSettle();
        _files.Write(Key, TestPki.Pkcs8Pem(second));
        PollAndSettle();
        Served.Should().Be(second.Thumbprint);
        // 4. The bundle is truncated, then rewritten: the old roots hold until the new ones are whole.
        _files.Write(Bundle, "");
        PollAndSettle();
        _setup.Bundle!.Roots.Should().ContainSingle().Which.Thumbprint.Should().Be(Root.Thumbprint);
        _files.Write(Bundle, TestPki.CertificatePem(Root));
        PollAndSettle();

        var warnings = _log.At(LogLevel.Warning).ToList();
        warnings.Should().HaveCount(4);
        warnings[0].Should().Contain($"{Cert} is empty");
        warnings[1].Should().Contain($"the private key in {Key} does not match the certificate in {Cert}");
        warnings[2].Should().Contain($"{Key} is empty");
        warnings[3].Should().Contain($"Keeping the --client-ca {Bundle} applied at").And.Contain($"{Bundle} is empty");
        _log.At(LogLevel.Information).Should().Contain(m => m.StartsWith("Reloaded --tls-cert", StringComparison.Ordinal));
    }

    [Fact]
    public void A_half_written_chain_keeps_the_last_good_pair()
    {
        Start();
        var intermediate = TestPki.Intermediate(Root);
        using var second = TestPki.Server(intermediate, "second");
        var chain = TestPki.CertificatePem(second, intermediate);

        _files.Write(Cert, chain[..(chain.Length - 100)]);
        _files.Write(Key, TestPki.Pkcs8Pem(second));
        PollAndSettle();

        Served.Should().Be(_first.Thumbprint);
        _log.At(LogLevel.Warning).Should().ContainSingle().Which.Should().Contain($"{Cert} has an incomplete or malformed PEM block after 1 complete one");
        _files.Write(Cert, chain);
        PollAndSettle();
        Served.Should().Be(second.Thumbprint);
        _setup.Server.Current.Intermediates.Should().ContainSingle();
    }

    [Fact]
    public void An_unreadable_file_keeps_the_last_good_pair_and_is_logged_once()
    {
        Start();
        // Simulated through the seam: as root (which the tests run as) mode 0000 does not stop a read.
        _files.Fail(Key, "permission denied");

        for (var i = 0; i < 5; i++)
        {
            PollAndSettle();
        }

        Served.Should().Be(_first.Thumbprint);
        _log.At(LogLevel.Warning).Should().ContainSingle().Which.Should().Be(
            $"Keeping the --tls-cert {Cert} and --tls-key {Key} applied at {_time.Start:o}: {Key}: permission denied. Checking again each second and on every change");
    }

    [Fact]
    public void A_key_file_that_holds_a_certificate_keeps_the_last_good_pair()
    {
        Start();
        using var second = TestPki.Server(Root, "second");

        _files.Write(Cert, TestPki.CertificatePem(second));
        _files.Write(Key, TestPki.CertificatePem(second));
        PollAndSettle();

        Served.Should().Be(_first.Thumbprint);
        _log.At(LogLevel.Warning).Should().ContainSingle().Which.Should().Contain($"{Key} holds no private key (found CERTIFICATE)");
    }

    [Fact]
    public void A_deleted_bundle_keeps_the_last_good_roots_until_it_returns()
    {
        Start(withBundle: true);
        using var newRoot = TestPki.Root("new root");

        _files.Delete(Bundle);
        for (var i = 0; i < 5; i++)
        {
            PollAndSettle();
        }
        _setup.Bundle!.Roots.Should().ContainSingle().Which.Thumbprint.Should().Be(Root.Thumbprint);
        _log.At(LogLevel.Warning).Should().ContainSingle().Which.Should().Contain($"{Bundle}: no such file");

        _files.Write(Bundle, TestPki.CertificatePem(Root));
        PollAndSettle();
        _log.At(LogLevel.Information).Should().ContainSingle().Which.Should().Be($"--client-ca {Bundle} holds what is applied again");

        _files.Write(Bundle, TestPki.CertificatePem(Root, newRoot));
        PollAndSettle();
        _setup.Bundle.Roots.Should().HaveCount(2);
        _log.At(LogLevel.Information).Last().Should().StartWith($"Reloaded --client-ca {Bundle}: client certificates now chain to 2 certificates");
    }

    [Fact]
    public void A_failure_that_changes_is_logged_again_and_one_that_repeats_is_not()
    {
        Start();
        using var other = TestPki.Server(Root, "other");

        _files.Write(Key, TestPki.Pkcs8Pem(other));
        PollAndSettle();
        PollAndSettle();
        _files.Write(Key, "garbage");
        PollAndSettle();
        PollAndSettle();

        _log.At(LogLevel.Warning).Should().HaveCount(2);
    }

    public void Dispose()
    {
        _reloading?.Dispose();
        _first.Dispose();
    }
}
