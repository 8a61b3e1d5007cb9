using CvmControl.OS;

namespace CvmControl.Tests.OS;

public sealed class AtomicFileTests : IDisposable
{
    private readonly TempDir _dir = new();

    [Fact]
    public void Writes_contents_with_the_exact_mode_even_under_a_restrictive_umask_or_existing_file()
    {
        var path = _dir.Combine("f");
        File.WriteAllText(path, "old");
        File.SetUnixFileMode(path, (UnixFileMode)0b111_111_111);

        AtomicFile.Write(path, "new"u8, (UnixFileMode)0b110_000_000);

        File.ReadAllText(path).Should().Be("new");
        File.GetUnixFileMode(path).Should().Be((UnixFileMode)0b110_000_000);
    }

    [Fact]
    public void Leaves_no_temp_file_behind()
    {
        AtomicFile.Write(_dir.Combine("f"), "x"u8, (UnixFileMode)0b110_100_100);

        Directory.EnumerateFileSystemEntries(_dir.Path).Select(Path.GetFileName).Should().Equal("f");
    }

    [Fact]
    public void A_failed_replace_keeps_what_was_there_and_cleans_up()
    {
        // The target is a non-empty directory, so the final rename fails after the temp file was written.
        var target = _dir.Combine("target");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "inside"), "old");

        var act = () => AtomicFile.Write(target, "new"u8, (UnixFileMode)0b110_100_100);

        act.Should().Throw<IOException>();
        File.ReadAllText(Path.Combine(target, "inside")).Should().Be("old");
        Directory.EnumerateFileSystemEntries(_dir.Path).Select(Path.GetFileName).Should().Equal("target");
    }

    [Fact]
    public void EnsureDirectory_tightens_an_existing_directory()
    {
        var dir = _dir.Combine("secret");
        Directory.CreateDirectory(dir, (UnixFileMode)0b111_111_111);

        AtomicFile.EnsureDirectory(dir, (UnixFileMode)0b111_000_000);

        File.GetUnixFileMode(dir).Should().Be((UnixFileMode)0b111_000_000);
    }

    public void Dispose() => _dir.Dispose();
}
