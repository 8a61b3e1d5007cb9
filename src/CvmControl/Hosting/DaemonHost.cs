using System.Net.Sockets;
using CvmControl.Cli;
using CvmControl.Http;
using CvmControl.Json;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Serilog.Extensions.Logging;

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
        // First, so that its certificate context is built while everything else is composed.
        var tls = TlsIdentity.Create(settings.TlsCommonName, TimeProvider.System);
        using var serilog = DaemonLogging.Create(settings);
        await using var app = Build(settings, serilog, tls: tls);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CvmControl");
        try
        {
            await app.StartAsync(cancellationToken);
            // Normally done by now; a certificate context that cannot be built stops the daemon here.
            await tls.Ready;
            LogListening(logger, settings.Address.ToString(), settings.Port, settings.TlsCommonName);
            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        }
        catch (IOException ex) when (ex.InnerException is SocketException || ex.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
        {
            LogCannotListen(logger, settings.Address.ToString(), settings.Port, ex.Message);
            return 1;
        }
    }

    public static WebApplication Build(DaemonSettings settings, Serilog.ILogger serilog, Action<WebApplicationBuilder>? configure = null, TlsIdentity? tls = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });

        // The six settings are the only inputs: no environment variable or appsettings.json may add an
        // endpoint (say, plain HTTP) or change Kestrel's limits behind the daemon's back.
        builder.Configuration.Sources.Clear();

        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(settings.LogLevel);
        // Its only effect here would be a log scope per request (RequestId, RequestPath), allocated even
        // when nothing is logged. ConnectionId still reaches the request line from Kestrel's own scope,
        // which is opened once per connection.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Logging.AddProvider(new SerilogLoggerProvider(serilog, dispose: false));

        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, CvmJsonContext.Default));

        tls ??= TlsIdentity.Create(settings.TlsCommonName, TimeProvider.System);
        builder.Services.AddSingleton(tls.Certificate);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // A backstop; the JSON reader enforces the 1 MiB limit itself with a proper 413 body.
            kestrel.Limits.MaxRequestBodySize = JsonBody.MaxBytes + 1;
            // The callback form takes a ready-made certificate context (see TlsIdentity); handed a
            // plain certificate, Kestrel would build one itself and hold up its start meanwhile.
            kestrel.Listen(settings.Address, settings.Port, listen => listen.UseHttps(new TlsHandshakeCallbackOptions
            {
                OnConnection = static context => ((TlsIdentity)context.State!).ServerOptionsAsync(),
                OnConnectionState = tls,
            }));
        });

        builder.Services.AddCvmControl(settings);
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseCvmControlPipeline();
        app.MapApiV1();
        return app;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening on https://{Address}:{Port} (certificate CN={CommonName})")]
    private static partial void LogListening(ILogger logger, string address, int port, string commonName);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Cannot listen on {Address}:{Port}: {Reason}")]
    private static partial void LogCannotListen(ILogger logger, string address, int port, string reason);
}
