using CvmControl.Attestation.Evidence;

namespace CvmControl.Tests.Attestation.Evidence;

/// <summary>
/// The real implementation's primitives against a plain directory. Nothing here emulates the kernel:
/// where configfs would create an attribute on mkdir, the test creates the file itself.
/// </summary>
public sealed class TsmFileSystemTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly TsmFileSystem _tsm;

    public TsmFileSystemTests()
    {
        _tsm = new TsmFileSystem(_dir.Path);
    }

    [Fact]
    public void CreateEntry_makes_a_directory_and_RemoveEntry_removes_it()
    {
        _tsm.CreateEntry("cvm-control-a");
        Directory.Exists(_dir.Combine("cvm-control-a")).Should().BeTrue();

        _tsm.RemoveEntry("cvm-control-a");
        Directory.Exists(_dir.Combine("cvm-control-a")).Should().BeFalse();
    }

    [Fact]
    public void CreateEntry_in_a_missing_report_directory_throws_and_creates_nothing()
    {
        var missing = new TsmFileSystem(_dir.Combine("tsm", "report"));

        missing.Exists().Should().BeFalse();
        var act = () => missing.CreateEntry("cvm-control-a");

        act.Should().Throw<DirectoryNotFoundException>();
        Directory.Exists(_dir.Combine("tsm")).Should().BeFalse();
    }

    [Fact]
    public void CreateEntry_refuses_an_entry_that_already_exists()
    {
        _tsm.CreateEntry("cvm-control-a");

        var act = () => _tsm.CreateEntry("cvm-control-a");

        act.Should().Throw<IOException>().WithMessage("*already exists*");
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("../escape")]
    [InlineData("a/b")]
    public void Entry_names_that_would_leave_the_report_directory_are_refused(string name)
    {
        var act = () => _tsm.CreateEntry(name);

        act.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void WriteInblob_writes_exactly_the_given_bytes_into_the_existing_attribute()
    {
        _tsm.CreateEntry("e");
        File.WriteAllBytes(_dir.Combine("e", "inblob"), []);
        var data = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();

        _tsm.WriteInblob("e", data);

        File.ReadAllBytes(_dir.Combine("e", "inblob")).Should().Equal(data);
    }

    [Fact]
    public void WriteInblob_never_creates_the_attribute()
    {
        // In configfs the kernel makes inblob; a missing one means something is wrong, not a file to create.
        _tsm.CreateEntry("e");

        var act = () => _tsm.WriteInblob("e", new byte[64]);

        act.Should().Throw<FileNotFoundException>();
        File.Exists(_dir.Combine("e", "inblob")).Should().BeFalse();
    }

    [Fact]
    public void Read_returns_the_whole_attribute_even_past_one_buffer()
    {
        _tsm.CreateEntry("e");
        var big = new byte[200_000];
        Random.Shared.NextBytes(big);
        File.WriteAllBytes(_dir.Combine("e", "outblob"), big);

        _tsm.Read("e", "outblob").Should().Equal(big);
    }

    [Fact]
    public void Read_of_a_missing_attribute_throws_file_not_found()
    {
        _tsm.CreateEntry("e");

        var act = () => _tsm.Read("e", "auxblob");

        act.Should().Throw<FileNotFoundException>();
    }

    [Fact]
    public void RemoveEntry_is_a_plain_rmdir_and_never_deletes_contents()
    {
        _tsm.CreateEntry("e");
        File.WriteAllText(_dir.Combine("e", "keep"), "x");

        var act = () => _tsm.RemoveEntry("e");

        act.Should().Throw<IOException>();
        File.Exists(_dir.Combine("e", "keep")).Should().BeTrue();
    }

    public void Dispose() => _dir.Dispose();
}
