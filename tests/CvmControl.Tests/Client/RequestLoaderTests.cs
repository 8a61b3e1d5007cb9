using System.Text;
using System.Text.Json;
using CvmControl.Client;

namespace CvmControl.Tests.Client;

/// <summary>Request files: passphrase references resolved on the client, the shape checked, no value ever quoted back.</summary>
public sealed class RequestLoaderTests : IDisposable
{
    private const string Secret = "s3cret-passphrase-value";
    private readonly TempDir _dir = new();
    private readonly List<string> _warnings = [];
    private readonly Dictionary<string, string> _env = [];

    public void Dispose() => _dir.Dispose();

    private (OwnerRequest? Request, string? Error) Load(OwnerOperation operation, string json, string name = "request.json")
    {
        var path = OwnerClient.WriteFile(_dir, name, json);
        return RequestLoader.Load(operation, path, Console(), _warnings.Add);
    }

    private ClientConsole Console(byte[]? stdin = null) => new(new MemoryStream(stdin ?? []), false, 0, n => _env.GetValueOrDefault(n), TimeProvider.System);

    private static JsonElement Body(OwnerRequest request) => JsonDocument.Parse(request.Body).RootElement;

    [Fact]
    public void Rotation_references_for_old_and_new_passphrases_are_read_from_file_and_environment()
    {
        OwnerClient.WriteFile(_dir, "old.pass", "old one\r\n");
        _env["NEW_PASS"] = "new one";

        var (request, error) = Load(OwnerOperation.Rotate, """{"volumes":{"data":{"old_passphrase_file":"old.pass","new_passphrase_env":"NEW_PASS"}}}""");

        error.Should().BeNull();
        var data = Body(request!).GetProperty("volumes").GetProperty("data");
        data.GetProperty("old_passphrase").GetString().Should().Be("old one", "one final CRLF is dropped");
        data.GetProperty("new_passphrase").GetString().Should().Be("new one");
        data.TryGetProperty("old_passphrase_file", out _).Should().BeFalse("the daemon gets only the wire fields");
        data.TryGetProperty("new_passphrase_env", out _).Should().BeFalse();
        request!.Volumes.Should().Equal("data");
        _warnings.Should().BeEmpty();
    }

    [Fact]
    public void Only_one_final_line_break_is_dropped_and_a_relative_file_is_found_beside_the_request()
    {
        Directory.CreateDirectory(_dir.Combine("keys"));
        OwnerClient.WriteFile(_dir, "keys/data.pass", "two breaks\n\n");

        var (request, error) = Load(OwnerOperation.Bootstrap, """{"user_id":"a","volumes":{"data":{"volume_id":"vol-1","passphrase_file":"keys/data.pass"}}}""");

        error.Should().BeNull();
        Body(request!).GetProperty("volumes").GetProperty("data").GetProperty("passphrase").GetString().Should().Be("two breaks\n");
    }

    [Fact]
    public void Stdin_is_read_and_relative_files_are_found_from_the_working_directory()
    {
        var stdin = Encoding.UTF8.GetBytes("""{"user_id":"a","volumes":{"data":{"volume_id":"vol-1","passphrase":"inline"}}}""");

        var (request, error) = RequestLoader.Load(OwnerOperation.Bootstrap, "-", Console(stdin), _warnings.Add);

        error.Should().BeNull();
        Body(request!).GetProperty("volumes").GetProperty("data").GetProperty("passphrase").GetString().Should().Be("inline");
    }

    [Theory]
    [InlineData("""{"user_id":"a","volumes":{"data":{"volume_id":"v","passphrase":"x","passphrase_env":"P"}}}""", "volumes.data: give only one of passphrase, passphrase_env")]
    [InlineData("""{"user_id":"a","volumes":{"data":{"volume_id":"v","passphrase_env":"UNSET"}}}""", "volumes.data.passphrase_env: the environment variable UNSET is not set or empty")]
    [InlineData("""{"user_id":"a","volumes":{"data":{"volume_id":"v","passphrase_file":42}}}""", "volumes.data.passphrase_file must be a non-empty string")]
    [InlineData("""{"user_id":"a","volumes":{"data":{"volume_id":"v","passphrase":"x","colour":"red"}}}""", "unknown field volumes.data.colour")]
    [InlineData("""{"user_id":"a","volumes":{"data":{"volume_id":"v","passphrase":"x"}},"extra":1}""", "unknown field extra")]
    [InlineData("""{"user_id":"a","volumes":{"data":{"volume_id":"v","passphrase":7}}}""", "volumes.data.passphrase has the wrong JSON type")]
    [InlineData("""["not","an","object"]""", "must be a JSON object")]
    public void Bad_requests_are_usage_errors_that_name_the_field(string json, string message)
    {
        var (request, error) = Load(OwnerOperation.Bootstrap, json);

        request.Should().BeNull();
        error.Should().Be($"--request {_dir.Combine("request.json")}: {message}");
    }

    [Fact]
    public void A_rotation_field_in_a_bootstrap_is_unknown()
    {
        var (_, error) = Load(OwnerOperation.Bootstrap, """{"user_id":"a","volumes":{"data":{"volume_id":"v","old_passphrase":"x"}}}""");

        error.Should().EndWith("unknown field volumes.data.old_passphrase");
    }

    [Theory]
    [InlineData("{\"user_id\":\"a\",\"volumes\":{\"data\":{\"volume_id\":\"v\",\"passphrase\":\"" + Secret + "\" oops}}}", "malformed JSON at line 1, byte ")]
    [InlineData("{\"user_id\":\"a\",\"volumes\":{\"data\":{\"volume_id\":\"v\",\"passphrase\":\"" + Secret + "\",\"passphrase\":\"" + Secret + "\"}}}", "duplicate key")]
    [InlineData("{\"user_id\":\"a\",\"volumes\":{\"data\":{\"volume_id\":\"v\",\"passphrase\":" + Secret + "}}}", "malformed JSON at line 1, byte ")]
    public void Broken_JSON_is_located_but_never_quoted(string json, string message)
    {
        var (_, error) = Load(OwnerOperation.Bootstrap, json);

        error.Should().Contain(message).And.NotContain(Secret).And.NotContain("oops");
    }

    [Fact]
    public void A_passphrase_file_that_is_not_UTF8_or_empty_is_refused()
    {
        File.WriteAllBytes(_dir.Combine("bad.pass"), [0xff, 0xfe, 0x41]);
        OwnerClient.WriteFile(_dir, "empty.pass", "\n");

        var (_, bad) = Load(OwnerOperation.Bootstrap, """{"user_id":"a","volumes":{"data":{"volume_id":"v","passphrase_file":"bad.pass"}}}""");
        var (_, empty) = Load(OwnerOperation.Bootstrap, """{"user_id":"a","volumes":{"data":{"volume_id":"v","passphrase_file":"empty.pass"}}}""");
        var (_, missing) = Load(OwnerOperation.Bootstrap, """{"user_id":"a","volumes":{"data":{"volume_id":"v","passphrase_file":"none.pass"}}}""");

        bad.Should().EndWith($"volumes.data.passphrase_file {_dir.Combine("bad.pass")}: not UTF-8 text");
        empty.Should().EndWith("volumes.data.passphrase_file: the passphrase is empty");
        missing.Should().Contain($"volumes.data.passphrase_file {_dir.Combine("none.pass")}: ");
    }

    [Fact]
    public void A_request_bigger_than_the_daemon_takes_is_refused_before_sending()
    {
        OwnerClient.WriteFile(_dir, "big.pass", new string('x', RequestLoader.MaxBytes));

        var (_, error) = Load(OwnerOperation.Bootstrap, """{"user_id":"a","volumes":{"data":{"volume_id":"v","passphrase_file":"big.pass"}}}""");

        error.Should().EndWith($"with its passphrases read in, the request is larger than the daemon's {RequestLoader.MaxBytes} bytes");
    }

    [Fact]
    public void The_body_keeps_every_other_field_as_written()
    {
        var (request, _) = Load(OwnerOperation.Bootstrap, """{"user_id":"a","env":{"app.env":{"K":"v"}},"secret":{"s.env":{"S":"w"}},"volumes":{"b":{"volume_id":"v2","passphrase":"p","mount_point":"/mnt/b"},"a":{"volume_id":"v1","passphrase":"q"}}}""");

        Encoding.UTF8.GetString(request!.Body).Should().Be("""{"user_id":"a","env":{"app.env":{"K":"v"}},"secret":{"s.env":{"S":"w"}},"volumes":{"b":{"volume_id":"v2","passphrase":"p","mount_point":"/mnt/b"},"a":{"volume_id":"v1","passphrase":"q"}}}""");
        request.Volumes.Should().Equal("a", "b");
    }
}
