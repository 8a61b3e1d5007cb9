namespace CvmControl.Identity;

/// <summary>
/// Keeps the server certificate and the client trust bundle in step with their files while the
/// daemon runs (one <see cref="CredentialWatch"/> each). Nothing to do for a self-signed certificate.
/// </summary>
internal sealed class CredentialReloading(TlsSetup setup, ICredentialFiles files, TimeProvider time, ILoggerFactory loggers) : IHostedService, IDisposable
{
    private readonly List<CredentialWatch> _watches = [];

    /// <summary>False in tests that drive <see cref="CredentialWatch.Check"/> through a fake clock alone.</summary>
    public bool WatchDirectories { get; init; } = true;

    public IReadOnlyList<CredentialWatch> Watches => _watches;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger<CredentialReloading>();
        var options = setup.Options;
        if (setup.ServerFiles is { } serverFiles)
        {
            _watches.Add(new CredentialWatch(
                options.KeyFile is { } key ? $"--tls-cert {options.CertificateFile} and --tls-key {key}" : $"--tls-cert {options.CertificateFile}",
                serverFiles.Paths,
                serverFiles.Loaded,
                contents =>
                {
                    var served = ServedCertificate.ForReload(TlsSetup.LoadServer(options, contents), options.CertificateFile!);
                    setup.Server.Replace(served);
                    return $"serving {TlsSetup.Describe(served)}";
                },
                files,
                time,
                logger));
        }
        if (setup.BundleFiles is { } bundleFiles && setup.Bundle is { } bundle)
        {
            _watches.Add(new CredentialWatch(
                $"--client-ca {options.ClientCaFile}",
                bundleFiles.Paths,
                bundleFiles.Loaded,
                contents =>
                {
                    var roots = PemCredentials.LoadBundle(contents[0], options.ClientCaFile!);
                    bundle.Replace(roots);
                    return $"client certificates now chain to {TlsSetup.Describe(roots)}";
                },
                files,
                time,
                logger));
        }
        foreach (var watch in _watches)
        {
            watch.Start(WatchDirectories);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        foreach (var watch in _watches)
        {
            watch.Dispose();
        }
    }
}
