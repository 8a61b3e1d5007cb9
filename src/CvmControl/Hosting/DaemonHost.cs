using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using CvmControl.Cli;
using CvmControl.Http;
using CvmControl.Identity;
using CvmControl.Json;
using Serilog;
using Serilog.AspNetCore;
using CvmControl.Metrics;
using CvmControl.Systemd;
using Serilog.Extensions.Logging;
// Serilog brings its own ILogger; the daemon logs through Microsoft.Extensions.Logging.
using ILogger = Microsoft.Extensions.Logging.ILogger;

namespace CvmControl.Hosting;

/// <summary>Builds and runs the HTTPS host for resolved <see cref="DaemonSettings"/>.</summary>
internal static partial class DaemonHost
{
    /// <summary>
    /// How long a stopping daemon waits for a running operation to finish its current step. Below
    /// systemd's default 90 s stop timeout, so the daemon exits on its own terms.
    /// </summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(80);

    public static async Task<int> RunAsync(DaemonSettings settings, CancellationToken cancellationToken)
    {
        // Before any TLS use: building the certificate context must not load the system trust store.
        var trustless = NoSystemTrust.Apply();
        // First, so that the certificate context is built while everything else is composed.
        TlsSetup? tls = null;
        string? tlsError = null;
        try
        {
            tls = TlsSetup.Load(settings.Tls, CredentialFiles.Instance, TimeProvider.System);
        }
        catch (CredentialException ex)
        {
            tlsError = ex.Message;
        }
        using var serilog = DaemonLogging.Create(settings);
        if (tls is null)
        {
            // No last good state to fall back on: stop, and let systemd try again (exit 1, not 2).
            using var loggers = new SerilogLoggerFactory(serilog);
            LogCannotStartTls(loggers.CreateLogger("CvmControl"), tlsError!);
            return 1;
        }
        var systemd = SystemdEnvironment.FromProcess();
        IReadOnlyList<PlannedListener> listeners;
        try
        {
            listeners = ListenerPlan.Create(settings.Listeners, systemd);
        }
        catch (ListenerException ex)
        {
            using var loggers = new SerilogLoggerFactory(serilog);
            LogCannotListen(loggers.CreateLogger("CvmControl"), ex.Message);
            return 1;
        }
        await using var app = Build(settings, serilog, tls: tls, systemd: systemd, listeners: listeners);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CvmControl");
        if (trustless != 0)
        {
            LogTrustStoreKept(logger, Marshal.GetPInvokeErrorMessage(trustless));
        }
        try
        {
            await app.StartAsync(cancellationToken);
            // Normally done by now; a certificate context that cannot be built stops the daemon here.
            await tls.Server.Ready;
            var clients = tls.Options.Clients;
            foreach (var listener in listeners)
            {
                if (!listener.Tls)
                {
                    LogListeningLocal(logger, listener.Description);
                    continue;
                }
                LogListening(logger, listener.Description, tls.Server.Current.Source, TlsSetup.Describe(tls.Server.Current), clients.Describe(tls.Options.ClientCaFile));
                if (!clients.Enabled && listener.Network is { } network && !IsLoopback(network.Address))
                {
                    LogOpenToAnyone(logger, network.Address.ToString(), network.Port);
                }
            }
            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        }
        catch (ListenerException ex)
        {
            LogCannotListen(logger, ex.Message);
            return 1;
        }
        catch (IOException ex) when (ex.InnerException is SocketException || ex.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
        {
            LogCannotListen(logger, $"{string.Join(", ", listeners.Select(l => l.Description))}: {ex.Message}");
            return 1;
        }
    }

    /// <summary>Loopback only is safe without client authentication: nothing outside the VM can connect.</summary>
    internal static bool IsLoopback(IPAddress address) =>
        IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    public static WebApplication Build(
        DaemonSettings settings,
        Serilog.ILogger serilog,
        Action<WebApplicationBuilder>? configure = null,
        TlsSetup? tls = null,
        SystemdEnvironment? systemd = null,
        IReadOnlyList<PlannedListener>? listeners = null)
    {
        systemd ??= SystemdEnvironment.None;
        listeners ??= ListenerPlan.Create(settings.Listeners, systemd);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });

        // The six settings are the only inputs: no environment variable or appsettings.json may add an
        // endpoint (say, plain HTTP) or change Kestrel's limits behind the daemon's back.
        builder.Configuration.Sources.Clear();

        // Serilog hosts the logging: Microsoft.Extensions.Logging's factory is Serilog's, so Serilog's
        // levels (DaemonLogging) decide what is written, and its request logging writes the request line.
        builder.Logging.ClearProviders();
        builder.Services.AddSerilog(serilog, dispose: false);
        builder.Services.Configure<RequestLoggingOptions>(o => RequestLogging.Configure(o, serilog));

        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, CvmJsonContext.Default));

        tls ??= TlsSetup.Load(settings.Tls, CredentialFiles.Instance, TimeProvider.System);
        builder.Services.AddTlsIdentity(tls);
        builder.Services.AddSingleton(systemd);
        builder.Services.AddSingleton(new StartupWork([tls.Server.Ready]));
        builder.Services.AddSingleton<SelfProbe>();
        builder.Services.AddHostedService(_ => new LocalSocketFiles(listeners));
        builder.Services.AddSingleton<IPipelineProbe>(sp => sp.GetRequiredService<SelfProbe>());
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // A backstop; the JSON reader enforces the 1 MiB limit itself with a proper 413 body.
            kestrel.Limits.MaxRequestBodySize = JsonBody.MaxBytes + 1;
            // The callback form takes a ready-made certificate context per handshake (see
            // ServedCertificate and TlsEndpoint); handed a plain certificate, Kestrel would build one
            // itself and hold up its start meanwhile, and could not switch to a reloaded one.
            var endpoint = kestrel.ApplicationServices.GetRequiredService<TlsEndpoint>();
            kestrel.Listen(listeners, listen => listen.UseHttps(endpoint.CallbackOptions()), kestrel.ApplicationServices.GetRequiredService<CvmMetrics>());
            // Only a service manager that listens for READY=1 and WATCHDOG=1 needs the probe.
            if (systemd.NotifySocket is not null)
            {
                kestrel.Listen(kestrel.ApplicationServices.GetRequiredService<SelfProbe>().EndPoint, listen => listen
                    .OnlyFromThisProcess()
                    .Mark(new ListenerFeature(ListenerKind.Probe, "probe")));
            }
        });

        builder.Services.AddCvmControl(settings);
        builder.Services.AddHostedService<ServiceNotifier>();
        configure?.Invoke(builder);

        var app = builder.Build();
        // Listening from the start, so that nothing measured before the first scrape is lost.
        app.Services.GetRequiredService<PrometheusExporter>();
        app.UseCvmControlPipeline();
        app.UseListenerGate();
        app.MapApiV1();
        app.MapMetricsApi();
        return app;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening on {Listener} (certificate {CertificateSource}: {Certificate}; client authentication {ClientAuthentication})")]
    private static partial void LogListening(ILogger logger, string listener, string certificateSource, string certificate, string clientAuthentication);

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening on {Listener}")]
    private static partial void LogListeningLocal(ILogger logger, string listener);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening on {Address}:{Port} without client authentication: anyone who can reach this port can bootstrap the VM with their own secrets, or shut it down. Pin the owner's key with --allow-client-key, or use --client-ca with --allow-client")]
    private static partial void LogOpenToAnyone(ILogger logger, string address, int port);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Cannot start: {Reason}")]
    private static partial void LogCannotStartTls(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not hide the system trust store from the TLS stack ({Reason}); it is loaded at start as before")]
    private static partial void LogTrustStoreKept(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Cannot listen: {Reason}")]
    private static partial void LogCannotListen(ILogger logger, string reason);
}
