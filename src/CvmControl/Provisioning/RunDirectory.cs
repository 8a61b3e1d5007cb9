namespace CvmControl.Provisioning;

/// <summary>The layout of the runtime state directory (<c>--run-dir</c>).</summary>
internal sealed class RunDirectory(string root)
{
    public const UnixFileMode DirectoryMode = (UnixFileMode)0b111_101_101; // 0755
    public const UnixFileMode SecretDirectoryMode = (UnixFileMode)0b111_000_000; // 0700
    public const UnixFileMode PublicFileMode = (UnixFileMode)0b110_100_100; // 0644
    public const UnixFileMode PrivateFileMode = (UnixFileMode)0b110_000_000; // 0600

    public string Root { get; } = root;

    public string EnvDirectory => Path.Combine(Root, "env");

    public string SecretDirectory => Path.Combine(Root, "secret");

    public string UserIdFile => Path.Combine(Root, "user_id.env");

    public string BootstrapRecord => Path.Combine(Root, "bootstrap.json");
}
