using System.Security.Cryptography;
using CvmControl.Volumes.Luks;

namespace CvmControl.Tests.Volumes.Luks;

public sealed class CheckedHeaderTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly byte[] _bytes = RandomNumberGenerator.GetBytes(64 * 1024);

    private CheckedHeader Checked(string name = "header-1")
    {
        var path = _dir.Combine(name);
        File.WriteAllBytes(path, _bytes);
        return new CheckedHeader("/dev/nvme1n1", path, new LuksHeaderPolicy.Verdict([0], HasMarker: true, Uuid: "0b1c2d3e-0000-4000-8000-000000000001", HeaderSize: 16384), SHA256.HashData(_bytes));
    }

    [Fact]
    public void An_edited_copy_is_mode_0600_and_byte_for_byte_the_checked_one()
    {
        using var header = Checked();

        using var edit = header.Edit();

        // Root ignores modes, so only the mode itself shows that no other user could read the copy.
        File.GetUnixFileMode(edit.Path).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.ReadAllBytes(edit.Path).Should().Equal(_bytes);
        Path.GetDirectoryName(edit.Path).Should().Be(_dir.Path, "the edit stays beside the checked copy, on the same tmpfs");
    }

    [Fact]
    public void A_checked_copy_changed_after_its_check_is_not_edited_and_leaves_no_file()
    {
        using var header = Checked();
        var tampered = (byte[])_bytes.Clone();
        tampered[^1] ^= 1;
        File.WriteAllBytes(header.Path, tampered);

        var act = () => header.Edit();

        act.Should().Throw<IOException>().WithMessage("the checked header copy of /dev/nvme1n1 changed after it was checked");
        Directory.EnumerateFiles(_dir.Path).Select(Path.GetFileName).Should().Equal("header-1");
    }

    [Fact]
    public void Disposing_deletes_the_edited_copy_and_the_checked_one()
    {
        var header = Checked();
        var edit = header.Edit();

        edit.Dispose();
        header.Dispose();

        Directory.EnumerateFileSystemEntries(_dir.Path).Should().BeEmpty();
    }

    public void Dispose() => _dir.Dispose();
}
