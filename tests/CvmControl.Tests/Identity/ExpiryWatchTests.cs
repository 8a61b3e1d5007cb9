using CvmControl.Identity;
using CvmControl.Tests.Fakes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace CvmControl.Tests.Identity;

public sealed class ExpiryWatchTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly ListLogger _log = new();

    private static ServedCertificate Expiring(DateTimeOffset notAfter, DateTimeOffset? notBefore = null) =>
        ServedCertificate.ForReload(new CertificateWithKey(TestPki.Issue(new TestPki.Spec { Subject = "CN=served", NotBefore = notBefore ?? Start.AddDays(-1), NotAfter = notAfter }, null), []), "/etc/cvm/svid.pem");

    private ExpiryWatch Watch(ServerIdentity server)
    {
        var watch = new ExpiryWatch(server, _time, new Logger<ExpiryWatch>(_log));
        watch.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        return watch;
    }

    [Fact]
    public void Warns_ten_minutes_before_expiry_and_logs_an_error_at_expiry_once_each()
    {
        using var watch = Watch(new ServerIdentity(Expiring(Start.AddHours(1))));

        _time.Advance(TimeSpan.FromMinutes(49));
        _log.Lines.Should().BeEmpty();
        _time.Advance(TimeSpan.FromMinutes(1));
        _log.At(LogLevel.Warning).Should().ContainSingle().Which.Should().Be(
            "The served TLS certificate (/etc/cvm/svid.pem) expires at 2026-11-22T13:00:00Z, in 10 min; replace it. It is still served");
        _time.Advance(TimeSpan.FromMinutes(10));
        _log.At(LogLevel.Error).Should().ContainSingle().Which.Should().Be(
            "The served TLS certificate (/etc/cvm/svid.pem) expired at 2026-11-22T13:00:00Z; replace it. It is still served, and clients decide whether to accept it");
        _time.Advance(TimeSpan.FromDays(3));
        _log.Lines.Should().HaveCount(2);
    }

    [Fact]
    public void A_certificate_already_inside_the_window_is_warned_about_at_once()
    {
        using var watch = Watch(new ServerIdentity(Expiring(Start.AddMinutes(3))));

        _log.At(LogLevel.Warning).Should().ContainSingle().Which.Should().Contain("in 3 min");
    }

    [Fact]
    public void An_expired_certificate_is_an_error_at_once()
    {
        using var watch = Watch(new ServerIdentity(Expiring(Start.AddMinutes(-1))));

        _log.At(LogLevel.Error).Should().ContainSingle();
        _log.At(LogLevel.Warning).Should().BeEmpty();
    }

    [Fact]
    public void A_replacement_is_watched_afresh_and_the_old_deadline_no_longer_counts()
    {
        var server = new ServerIdentity(Expiring(Start.AddMinutes(30)));
        using var watch = Watch(server);

        server.Replace(Expiring(Start.AddDays(30)));
        _time.Advance(TimeSpan.FromHours(1));

        _log.Lines.Should().BeEmpty();
        _time.Advance(TimeSpan.FromDays(30) - TimeSpan.FromHours(1) - TimeSpan.FromMinutes(10));
        _log.At(LogLevel.Warning).Should().ContainSingle();
    }

    [Fact]
    public void A_certificate_not_yet_valid_is_warned_about()
    {
        using var watch = Watch(new ServerIdentity(Expiring(Start.AddDays(2), notBefore: Start.AddDays(1))));

        _log.At(LogLevel.Warning).Should().ContainSingle().Which.Should().Be(
            "The served TLS certificate (/etc/cvm/svid.pem) is not valid before 2026-11-23T12:00:00Z; clients with correct clocks refuse it until then");
    }
}
