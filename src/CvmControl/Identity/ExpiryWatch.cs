using System.Globalization;

namespace CvmControl.Identity;

/// <summary>
/// Warns <see cref="WarnBefore"/> before the served certificate expires and logs an error once it
/// has, each once per certificate. The daemon keeps serving it either way: a client decides what an
/// expired certificate is worth, and a daemon that stopped serving could not be reached to fix it.
/// </summary>
internal sealed partial class ExpiryWatch(ServerIdentity server, TimeProvider time, ILogger<ExpiryWatch> logger) : IHostedService, IDisposable
{
    public static readonly TimeSpan WarnBefore = TimeSpan.FromMinutes(10);

    /// <summary>Timers cannot wait for a year; far-off deadlines are looked at again daily.</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);

    private readonly Lock _gate = new();
    private ServedCertificate? _watched;
    private Stage _stage;
    private ITimer? _timer;

    private enum Stage
    {
        Valid,
        Warned,
        Expired,
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _timer = time.CreateTimer(static state => ((ExpiryWatch)state!).Check(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        server.Replaced += Watch;
        Watch(server.Current);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        server.Replaced -= Watch;
        _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        return Task.CompletedTask;
    }

    public void Dispose() => _timer?.Dispose();

    private void Watch(ServedCertificate served)
    {
        lock (_gate)
        {
            _watched = served;
            _stage = Stage.Valid;
            if (time.GetUtcNow() < served.NotBefore)
            {
                LogNotYetValid(logger, served.Source, Time(served.NotBefore));
            }
        }
        Check();
    }

    private void Check()
    {
        lock (_gate)
        {
            if (_watched is not { } served)
            {
                return;
            }
            var now = time.GetUtcNow();
            if (now >= served.NotAfter && _stage < Stage.Expired)
            {
                _stage = Stage.Expired;
                LogExpired(logger, served.Source, Time(served.NotAfter));
            }
            else if (now >= served.NotAfter - WarnBefore && _stage < Stage.Warned)
            {
                _stage = Stage.Warned;
                LogExpiresSoon(logger, served.Source, Time(served.NotAfter), (int)Math.Ceiling((served.NotAfter - now).TotalMinutes));
            }
            var next = _stage switch
            {
                Stage.Valid => served.NotAfter - WarnBefore,
                Stage.Warned => served.NotAfter,
                _ => (DateTimeOffset?)null,
            };
            if (next is { } due)
            {
                var wait = due - now;
                _timer?.Change(wait <= TimeSpan.Zero ? TimeSpan.Zero : wait > LongestWait ? LongestWait : wait, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The served TLS certificate ({Source}) expires at {NotAfter}, in {Minutes} min; replace it. It is still served")]
    private static partial void LogExpiresSoon(ILogger logger, string source, string notAfter, int minutes);

    [LoggerMessage(Level = LogLevel.Error, Message = "The served TLS certificate ({Source}) expired at {NotAfter}; replace it. It is still served, and clients decide whether to accept it")]
    private static partial void LogExpired(ILogger logger, string source, string notAfter);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The served TLS certificate ({Source}) is not valid before {NotBefore}; clients with correct clocks refuse it until then")]
    private static partial void LogNotYetValid(ILogger logger, string source, string notBefore);
}
