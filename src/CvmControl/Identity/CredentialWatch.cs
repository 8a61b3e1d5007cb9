namespace CvmControl.Identity;

/// <summary>
/// Keeps a set of credential files (a certificate and its key, or a trust bundle) applied as they
/// change, without a restart. A change is applied only once the files read the same twice,
/// <see cref="SettleTime"/> apart, and then only if they parse and match; anything else keeps what
/// was applied last and is logged once:
/// <list type="bullet">
/// <item>spiffe-helper rewrites cert, key and bundle with three separate truncating writes, so
/// between them the files are empty, or a new certificate sits beside the old key;</item>
/// <item>a file may be deleted, unreadable or garbage for a while.</item>
/// </list>
/// The files are read every <see cref="PollInterval"/>, and <see cref="NudgeDelay"/> after inotify
/// reports a change in their directories. Reading a few KiB each second costs nothing measurable, and covers what
/// inotify misses (a directory replaced, a watch limit reached).
/// </summary>
internal sealed partial class CredentialWatch : IDisposable
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan SettleTime = TimeSpan.FromMilliseconds(100);

    /// <summary>How soon after an inotify event the files are read: enough to take a truncate and its write together.</summary>
    public static readonly TimeSpan NudgeDelay = TimeSpan.FromMilliseconds(10);

    private readonly string _what;
    private readonly IReadOnlyList<string> _paths;
    private readonly ICredentialFiles _files;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<IReadOnlyList<byte[]>, string> _apply;
    private readonly Lock _gate = new();
    private readonly List<FileSystemWatcher> _watchers = [];
    private Snapshot _applied;
    private DateTimeOffset _appliedAt;
    private Snapshot? _pending;
    private Snapshot? _failed;
    private string? _reported;
    private ITimer? _timer;
    private int _nudged;

    /// <param name="what">How logs name the files, e.g. <c>--client-ca /etc/cvm/bundle.pem</c>.</param>
    /// <param name="loaded">The contents applied at start, so that an unchanged file is not applied again.</param>
    /// <param name="apply">
    /// Parses and applies the contents, one entry per path, returning a short description of what
    /// is now in force; throws <see cref="CredentialException"/> to keep the previous state.
    /// </param>
    public CredentialWatch(string what, IReadOnlyList<string> paths, IReadOnlyList<byte[]> loaded, Func<IReadOnlyList<byte[]>, string> apply, ICredentialFiles files, TimeProvider time, ILogger logger)
    {
        _what = what;
        _paths = paths;
        _apply = apply;
        _files = files;
        _time = time;
        _logger = logger;
        _applied = new Snapshot([.. loaded], null);
        _appliedAt = time.GetUtcNow();
    }

    /// <summary>Starts polling and, when <paramref name="watchDirectories"/>, listening to inotify for earlier checks.</summary>
    public void Start(bool watchDirectories = true)
    {
        _timer = _time.CreateTimer(static state => ((CredentialWatch)state!).Tick(), this, PollInterval, PollInterval);
        if (watchDirectories)
        {
            WatchDirectories();
        }
    }

    /// <summary>Reads the files and acts on what they hold now; the timer calls this, and tests may.</summary>
    public void Check()
    {
        Interlocked.Exchange(ref _nudged, 0);
        var now = Read();
        if (now.SameAs(_applied))
        {
            _pending = null;
            if (_reported is not null)
            {
                _reported = null;
                LogBack(_logger, _what);
            }
            return;
        }
        if (_pending is null || !now.SameAs(_pending))
        {
            // Changed since the last look: wait until it holds still.
            _pending = now;
            _timer?.Change(SettleTime, PollInterval);
            return;
        }
        if (_failed is not null && now.SameAs(_failed))
        {
            return;
        }

        var error = now.Error;
        string? loaded = null;
        if (error is null)
        {
            try
            {
                loaded = _apply(now.Contents!);
            }
            catch (CredentialException ex)
            {
                error = ex.Message;
            }
        }
        if (error is null)
        {
            _applied = now;
            _appliedAt = _time.GetUtcNow();
            _pending = _failed = null;
            _reported = null;
            LogReloaded(_logger, _what, loaded!);
            return;
        }
        _failed = now;
        if (error != _reported)
        {
            _reported = error;
            LogKept(_logger, _what, _appliedAt, error);
        }
    }

    public void Dispose()
    {
        foreach (var watcher in _watchers)
        {
            watcher.Dispose();
        }
        _timer?.Dispose();
    }

    private void Tick()
    {
        // Timer callbacks may overlap when a check is slow; the next tick catches up.
        if (!_gate.TryEnter())
        {
            return;
        }
        try
        {
            Check();
        }
        finally
        {
            _gate.Exit();
        }
    }

    private Snapshot Read()
    {
        var contents = new byte[_paths.Count][];
        for (var i = 0; i < _paths.Count; i++)
        {
            try
            {
                contents[i] = _files.Read(_paths[i]);
            }
            catch (CredentialException ex)
            {
                return new Snapshot(null, ex.Message);
            }
        }
        return new Snapshot(contents, null);
    }

    private void WatchDirectories()
    {
        var names = _paths.Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        foreach (var directory in _paths.Select(p => Path.GetDirectoryName(p) ?? "/").Distinct(StringComparer.Ordinal))
        {
            try
            {
                var watcher = new FileSystemWatcher(directory)
                {
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime | NotifyFilters.Attributes,
                    IncludeSubdirectories = false,
                };
                FileSystemEventHandler changed = (_, e) => Nudge(e.Name, names);
                watcher.Changed += changed;
                watcher.Created += changed;
                watcher.Deleted += changed;
                watcher.Renamed += (_, e) => Nudge(e.Name, names);
                watcher.EnableRaisingEvents = true;
                _watchers.Add(watcher);
            }
            catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
            {
                // Polling alone still finds every change, only later.
                LogNoWatch(_logger, directory, ex.Message);
            }
        }
    }

    /// <summary>
    /// One of our files, or Kubernetes' <c>..data</c> symlink swap, changed: look soon. Only the
    /// first event of a burst schedules a look, so a busy directory cannot postpone it forever.
    /// </summary>
    private void Nudge(string? name, HashSet<string?> names)
    {
        if ((names.Contains(name) || name?.StartsWith("..", StringComparison.Ordinal) == true) && Interlocked.Exchange(ref _nudged, 1) == 0)
        {
            _timer?.Change(NudgeDelay, PollInterval);
        }
    }

    /// <summary>What the files held at one look: their bytes, or why they could not be read.</summary>
    private sealed record Snapshot(byte[][]? Contents, string? Error)
    {
        public bool SameAs(Snapshot other) =>
            Error == other.Error
            && (Contents is null
                ? other.Contents is null
                : other.Contents is not null && Contents.Length == other.Contents.Length
                    && Contents.Zip(other.Contents).All(pair => pair.First.AsSpan().SequenceEqual(pair.Second)));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reloaded {What}: {Loaded}")]
    private static partial void LogReloaded(ILogger logger, string what, string loaded);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Keeping the {What} applied at {AppliedAt:o}: {Reason}. Checking again each second and on every change")]
    private static partial void LogKept(ILogger logger, string what, DateTimeOffset appliedAt, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "{What} holds what is applied again")]
    private static partial void LogBack(ILogger logger, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot watch {Directory} for changes ({Reason}); polling it each second instead")]
    private static partial void LogNoWatch(ILogger logger, string directory, string reason);
}
