using CvmControl.Operations;
using CvmControl.OS;
using CvmControl.Provisioning;
using CvmControl.Validation;
using CvmControl.Volumes;
using Microsoft.Extensions.Logging.Abstractions;

namespace CvmControl.Tests.Provisioning;

public sealed class FileProvisionerTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly RunDirectory _run;
    private readonly FileProvisioner _provisioner;

    public FileProvisionerTests()
    {
        _run = new RunDirectory(_dir.Combine("run"));
        _provisioner = new FileProvisioner(_run, NullLogger<FileProvisioner>.Instance);
    }

    private static BootstrapPlan Plan(IReadOnlyList<EnvFile>? env = null, IReadOnlyList<EnvFile>? secret = null) => new(
        "alice",
        env ?? [new EnvFile("app.env", [new("MODE", "prod"), new("NOTE", "a \"b\" $c")])],
        secret ?? [new EnvFile("db.env", [new("PASSWORD", "s3cr3t")])],
        [new VolumePlan(new VolumeTarget("data", "vol-1", "/data"), new Passphrase("pw"))]);

    [Fact]
    public void Writes_env_files_0644_in_a_0755_directory()
    {
        _provisioner.Provision(Plan());

        File.ReadAllText(Path.Combine(_run.EnvDirectory, "app.env")).Should().Be("MODE=prod\nNOTE=\"a \\\"b\\\" \\$c\"\n");
        File.GetUnixFileMode(Path.Combine(_run.EnvDirectory, "app.env")).Should().Be((UnixFileMode)0b110_100_100);
        File.GetUnixFileMode(_run.EnvDirectory).Should().Be((UnixFileMode)0b111_101_101);
    }

    [Fact]
    public void Writes_secret_files_0600_in_a_0700_directory()
    {
        _provisioner.Provision(Plan());

        File.ReadAllText(Path.Combine(_run.SecretDirectory, "db.env")).Should().Be("PASSWORD=s3cr3t\n");
        File.GetUnixFileMode(Path.Combine(_run.SecretDirectory, "db.env")).Should().Be((UnixFileMode)0b110_000_000);
        File.GetUnixFileMode(_run.SecretDirectory).Should().Be((UnixFileMode)0b111_000_000);
    }

    [Fact]
    public void Writes_user_id_env_0644()
    {
        _provisioner.Provision(Plan());

        File.ReadAllText(_run.UserIdFile).Should().Be("CVM_USER_ID=alice\n");
        File.GetUnixFileMode(_run.UserIdFile).Should().Be((UnixFileMode)0b110_100_100);
    }

    [Fact]
    public void Tightens_a_secret_directory_that_already_existed_with_a_loose_mode()
    {
        Directory.CreateDirectory(_run.SecretDirectory, (UnixFileMode)0b111_111_111);

        _provisioner.Provision(Plan());

        File.GetUnixFileMode(_run.SecretDirectory).Should().Be((UnixFileMode)0b111_000_000);
    }

    [Fact]
    public void Removes_files_that_an_earlier_attempt_wrote_but_this_one_does_not_request()
    {
        _provisioner.Provision(Plan(secret: [new EnvFile("old.env", [new("X", "1")]), new EnvFile("db.env", [])]));

        _provisioner.Provision(Plan());

        Directory.EnumerateFiles(_run.SecretDirectory).Select(Path.GetFileName).Should().Equal("db.env");
    }

    [Fact]
    public void A_file_name_of_255_characters_can_be_written()
    {
        var name = new string('n', 255);

        _provisioner.Provision(Plan(env: [new EnvFile(name, [new("K", "v")])]));

        File.Exists(Path.Combine(_run.EnvDirectory, name)).Should().BeTrue();
    }

    [Fact]
    public void Replaces_files_whole_and_leaves_no_temp_files()
    {
        _provisioner.Provision(Plan());
        _provisioner.Provision(Plan(env: [new EnvFile("app.env", [new("MODE", "dev")])]));

        File.ReadAllText(Path.Combine(_run.EnvDirectory, "app.env")).Should().Be("MODE=dev\n");
        Directory.EnumerateFileSystemEntries(_run.Root, "*", SearchOption.AllDirectories)
            .Should().NotContain(p => Path.GetFileName(p).StartsWith(".tmp-", StringComparison.Ordinal));
    }

    public void Dispose() => _dir.Dispose();
}
