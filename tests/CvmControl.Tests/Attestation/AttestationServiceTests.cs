using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CvmControl.Attestation;
using CvmControl.Attestation.Evidence;
using CvmControl.Attestation.Platform;
using CvmControl.Identity;
using CvmControl.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace CvmControl.Tests.Attestation;

public sealed class AttestationServiceTests : IDisposable
{
    private static readonly PlatformInfo Snp = new(TeeType.SevSnp, "configfs-tsm provider sev_guest", true, "sev_guest", false, "6.8.0", "AuthenticAMD");

    private readonly X509Certificate2 _certificate = SelfSignedCertificate.Create("cvm.test", TimeProvider.System);

    private byte[] Spki => AttestationBinding.SpkiSha256(_certificate);

    private static AttestationService Service(IAttestationProvider provider, PlatformInfo? platform = null, IEventLogSource? eventLogs = null) =>
        new(provider, platform ?? Snp, eventLogs ?? new StubEventLogSource(), NullLogger<AttestationService>.Instance);

    private static AttestationService Service(FakeTsm tsm, PlatformInfo? platform = null) =>
        Service(new ConfigFsTsmProvider(tsm, NullLogger<ConfigFsTsmProvider>.Instance), platform);

    [Fact]
    public async Task Binds_the_nonce_and_the_given_tls_key_into_the_report_data()
    {
        var tsm = FakeTsm.Snp();
        using var service = Service(tsm);
        var nonce = RandomNumberGenerator.GetBytes(32);

        var outcome = await service.AttestAsync(nonce, Spki, CancellationToken.None);

        var spki = SHA256.HashData(_certificate.PublicKey.ExportSubjectPublicKeyInfo());
        var evidence = outcome.Evidence!;
        evidence.TlsSpkiSha256.Should().Equal(spki);
        evidence.Nonce.Should().Equal(nonce);
        evidence.ReportData.Should().Equal(AttestationBinding.ComputeReportData(nonce, spki));
        tsm.Inblobs.Should().ContainSingle().Which.Should().Equal(evidence.ReportData);
        FakeTsm.ReportDataOfSnp(evidence.Evidence).Should().Equal(evidence.ReportData);
    }

    [Fact]
    public async Task Parallel_requests_each_get_a_report_of_their_own_inblob_from_their_own_entry()
    {
        // Mix-ups would show as a report carrying another request's data; overlap itself is tested below.
        var tsm = FakeTsm.Snp();
        tsm.OutblobLatency = TimeSpan.FromMilliseconds(2);
        using var service = Service(tsm);
        var nonces = Enumerable.Range(0, 16).Select(_ => RandomNumberGenerator.GetBytes(24)).ToArray();

        var outcomes = await Task.WhenAll(nonces.Select(n => Task.Run(() => service.AttestAsync(n, Spki, CancellationToken.None))));

        var spki = AttestationBinding.SpkiSha256(_certificate);
        for (var i = 0; i < nonces.Length; i++)
        {
            var evidence = outcomes[i].Evidence;
            evidence.Should().NotBeNull(outcomes[i].Detail);
            evidence!.Nonce.Should().Equal(nonces[i]);
            evidence.ReportData.Should().Equal(AttestationBinding.ComputeReportData(nonces[i], spki));
            FakeTsm.ReportDataOfSnp(evidence.Evidence).Should().Equal(evidence.ReportData, "request {0} got its own report", i);
        }
        tsm.Created.Should().HaveCount(16).And.OnlyHaveUniqueItems();
        tsm.MaxLive.Should().Be(1, "requests are serialised");
        tsm.Live.Should().BeEmpty();
    }

    [Fact]
    public async Task A_second_request_waits_until_the_first_has_left_configfs()
    {
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var tsm = HeldInsideConfigFs(inside, release);
        using var service = Service(tsm);

        var first = Task.Run(() => service.AttestAsync(new byte[16], Spki, CancellationToken.None));
        inside.Wait(TimeSpan.FromSeconds(10)).Should().BeTrue();
        // The call returns once the second request is parked at its first await (the gate). Without the
        // gate it would run into the held fake instead, and this bounded wait would time out.
        var second = await Task.Factory.StartNew(() => service.AttestAsync(new byte[32], Spki, CancellationToken.None), CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default)
            .WaitAsync(TimeSpan.FromSeconds(10));

        tsm.Created.Should().ContainSingle("the second request has not made its entry yet");
        second.IsCompleted.Should().BeFalse();
        release.Set();
        var outcomes = await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(10));
        outcomes.Should().AllSatisfy(o => o.Evidence.Should().NotBeNull());
        tsm.Created.Should().HaveCount(2);
        tsm.MaxLive.Should().Be(1);
    }

    [Fact]
    public async Task A_request_cancelled_while_waiting_its_turn_never_reaches_configfs()
    {
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var tsm = HeldInsideConfigFs(inside, release);
        using var service = Service(tsm);
        using var cancel = new CancellationTokenSource();

        var first = Task.Run(() => service.AttestAsync(new byte[16], Spki, CancellationToken.None));
        inside.Wait(TimeSpan.FromSeconds(10)).Should().BeTrue();
        var waiting = service.AttestAsync(new byte[16], Spki, cancel.Token);
        await cancel.CancelAsync();

        await waiting.Invoking(t => t).Should().ThrowAsync<OperationCanceledException>();
        release.Set();
        await first;
        tsm.Created.Should().ContainSingle();
    }

    [Fact]
    public async Task No_provider_names_the_platform_in_the_detail()
    {
        var platform = new PlatformInfo(TeeType.SevSnp, "/dev/sev-guest", false, null, false, "6.1.0", "AuthenticAMD");
        using var service = Service(FakeTsm.Absent(), platform);

        var outcome = await service.AttestAsync(new byte[16], Spki, CancellationToken.None);

        outcome.Failure.Should().Be(AttestationFailure.NoProvider);
        outcome.Error.Should().Be("no attestation provider");
        outcome.Detail.Should().Be("configfs-tsm is not available: /sys/kernel/config/tsm/report does not exist (platform: tee sev-snp, /dev/sev-guest)");
    }

    [Fact]
    public async Task A_provider_failure_comes_back_as_a_value()
    {
        var provider = new StubAttestationProvider(_ => EvidenceResult.Failed("the attestation provider failed", "tdx_guest: reading outblob: Input/output error"));
        using var service = Service(provider);

        var outcome = await service.AttestAsync(new byte[64], Spki, CancellationToken.None);

        outcome.Evidence.Should().BeNull();
        outcome.Failure.Should().Be(AttestationFailure.ProviderFailed);
        outcome.Detail.Should().Be("tdx_guest: reading outblob: Input/output error");
    }

    [Fact]
    public async Task A_TDX_quote_comes_with_the_guests_event_log()
    {
        var log = new StubEventLogSource([1, 2, 3]);
        using var service = Service(new ConfigFsTsmProvider(FakeTsm.Tdx(), NullLogger<ConfigFsTsmProvider>.Instance), eventLogs: log);

        var outcome = await service.AttestAsync(new byte[16], Spki, CancellationToken.None);

        outcome.Evidence!.Provider.Should().Be("tdx_guest");
        outcome.Evidence.EventLog.Should().Equal(1, 2, 3);
        log.Reads.Should().Be(1, "the log is read per request: evidence is rare and the table may change after a reboot only");
    }

    [Fact]
    public async Task An_SNP_report_comes_without_an_event_log_and_none_is_read()
    {
        var log = new StubEventLogSource([1, 2, 3]);
        using var service = Service(new ConfigFsTsmProvider(FakeTsm.Snp(), NullLogger<ConfigFsTsmProvider>.Instance), eventLogs: log);

        var outcome = await service.AttestAsync(new byte[16], Spki, CancellationToken.None);

        outcome.Evidence!.EventLog.Should().BeNull();
        log.Reads.Should().Be(0);
    }

    public void Dispose() => _certificate.Dispose();

    /// <summary>A fake whose report generation signals <paramref name="inside"/> and then waits for <paramref name="release"/>.</summary>
    private static FakeTsm HeldInsideConfigFs(ManualResetEventSlim inside, ManualResetEventSlim release)
    {
        var tsm = FakeTsm.Snp();
        tsm.Outblob = inblob =>
        {
            inside.Set();
            release.Wait(TimeSpan.FromSeconds(10));
            return FakeTsm.EmbedInSnpReport(inblob);
        };
        return tsm;
    }
}
