using CvmControl.Api.V1;
using CvmControl.Validation;
using CvmControl.Volumes.Devices;

namespace CvmControl.Tests.Validation;

public sealed class RequestValidatorTests
{
    private const string RunDir = "/opt/cvm-run";

    private static BootstrapRequest Request(Action<BootstrapRequest>? change = null)
    {
        var request = new BootstrapRequest
        {
            UserId = "alice",
            Volumes = new() { ["data"] = new VolumeSpec { VolumeId = "vol-0abc", Passphrase = "pw" } },
        };
        change?.Invoke(request);
        return request;
    }

    private static IReadOnlyList<string> Errors(Action<BootstrapRequest> change) => RequestValidator.Validate(Request(change), RunDir).Errors;

    [Fact]
    public void Minimal_request_gives_a_plan_with_the_default_mount_point()
    {
        var result = RequestValidator.Validate(Request(), RunDir);
        result.IsValid.Should().BeTrue();
        result.Plan!.Volumes.Should().ContainSingle().Which.Target.Should().Be(new CvmControl.Volumes.VolumeTarget("data", "vol-0abc", "/data"));
    }

    [Theory]
    [InlineData("app.env")]
    [InlineData("A-b_c.9")]
    [InlineData("..hidden")]
    public void Accepts_file_names_of_the_allowed_alphabet(string name)
    {
        Errors(r => r.Env = new() { [name] = new() { ["K"] = "v" } }).Should().BeEmpty();
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("x\0")]
    [InlineData("-rf")]
    [InlineData("app.env\n")]
    public void Rejects_file_names_that_could_escape_or_break(string name)
    {
        Errors(r => r.Secret = new() { [name] = new() { ["K"] = "v" } }).Should().ContainSingle().Which.Should().StartWith($"secret.{name}: invalid file name");
    }

    [Theory]
    [InlineData("1ABC")]
    [InlineData("A-B")]
    [InlineData("")]
    [InlineData("A B")]
    [InlineData("ÄB")]
    [InlineData("MODE\n")]
    public void Rejects_env_keys_that_systemd_would_not_accept(string key)
    {
        Errors(r => r.Env = new() { ["f"] = new() { [key] = "v" } }).Should().ContainSingle().Which.Should().Contain("invalid variable name");
    }

    [Theory]
    [InlineData("a\nb")]
    [InlineData("a\rb")]
    [InlineData("a\0b")]
    public void Rejects_values_with_NUL_or_line_breaks(string value)
    {
        Errors(r => r.Env = new() { ["f"] = new() { ["K"] = value } }).Should().ContainSingle().Which.Should().Be("env.f.K: value must not contain NUL or line breaks");
    }

    [Fact]
    public void Rejects_a_value_with_a_lone_surrogate_that_would_not_survive_UTF_8()
    {
        // Built here: xunit's theory-data serialisation would replace the lone surrogate.
        var broken = "ok" + (char)0xD800;
        Errors(r => r.Env = new() { ["f"] = new() { ["K"] = broken } }).Should().Equal("env.f.K: value must be well-formed Unicode");
    }

    [Fact]
    public void Rejects_a_null_value()
    {
        Errors(r => r.Env = new() { ["f"] = new() { ["K"] = null } }).Should().Equal("env.f.K must be a string");
    }

    [Theory]
    [InlineData("data")]
    [InlineData("a.b_c-9")]
    public void Accepts_dm_names_of_the_allowed_alphabet(string name)
    {
        Errors(r => r.Volumes = new() { [name] = new VolumeSpec { VolumeId = "vol-1", Passphrase = "p", MountPoint = "/mnt/x" } }).Should().BeEmpty();
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData("--test-passphrase")]
    [InlineData("-v")]
    public void Rejects_bad_dm_names(string name)
    {
        Errors(r => r.Volumes = new() { [name] = new VolumeSpec { VolumeId = "vol-1", Passphrase = "p", MountPoint = "/mnt/x" } })
            .Should().ContainSingle().Which.Should().StartWith($"volumes.{name}: invalid volume name");
    }

    [Fact]
    public void Dm_name_may_have_127_characters_but_not_128()
    {
        Errors(r => r.Volumes = new() { [new string('a', 127)] = new VolumeSpec { VolumeId = "v", Passphrase = "p", MountPoint = "/m" } }).Should().BeEmpty();
        Errors(r => r.Volumes = new() { [new string('a', 128)] = new VolumeSpec { VolumeId = "v", Passphrase = "p", MountPoint = "/m" } }).Should().ContainSingle();
    }

    [Fact]
    public void A_volume_with_integrity_may_have_a_name_of_117_characters_but_not_118()
    {
        static VolumeSpec Spec(bool integrity) => new() { VolumeId = "v", Passphrase = "p", MountPoint = "/m", Integrity = integrity };
        var longest = new string('a', 117);
        var tooLong = new string('a', 118);

        Errors(r => r.Volumes = new() { [longest] = Spec(integrity: true) }).Should().BeEmpty();
        Errors(r => r.Volumes = new() { [tooLong] = Spec(integrity: true) }).Should().Equal(
            $"volumes.{tooLong}: a volume with integrity may have a name of at most 117 characters (its layers below are named after it)");
        Errors(r => r.Volumes = new() { [tooLong] = Spec(integrity: false) }).Should().BeEmpty("only the integrity layers need the room");
    }

    [Fact]
    public void Integrity_is_off_unless_the_request_turns_it_on()
    {
        RequestValidator.Validate(Request(), RunDir).Plan!.Volumes.Single().Target.Integrity.Should().BeFalse();
        RequestValidator.Validate(Request(r => r.Volumes!["data"]!.Integrity = false), RunDir).Plan!.Volumes.Single().Target.Integrity.Should().BeFalse();
        RequestValidator.Validate(Request(r => r.Volumes!["data"]!.Integrity = true), RunDir).Plan!.Volumes.Single().Target
            .Should().Be(new CvmControl.Volumes.VolumeTarget("data", "vol-0abc", "/data", Integrity: true));
    }

    [Theory]
    [InlineData("relative", "must be an absolute path")]
    [InlineData("/", "must not be /")]
    [InlineData("/data/", "must be normalised")]
    [InlineData("/data//x", "must be normalised")]
    [InlineData("/data/./x", "must be normalised")]
    [InlineData("/data/../etc", "must be normalised")]
    [InlineData("/proc", "must not be /proc or lie under it")]
    [InlineData("/sys/x", "must not be /sys or lie under it")]
    [InlineData("/dev/shm", "must not be /dev or lie under it")]
    [InlineData("/run/cvm", "must not be /run or lie under it")]
    [InlineData("/boot", "must not be /boot or lie under it")]
    [InlineData("/etc/ssl", "must not be /etc or lie under it")]
    [InlineData("/usr/local", "must not be /usr or lie under it")]
    [InlineData("/bin", "must not be /bin or lie under it")]
    [InlineData("/sbin", "must not be /sbin or lie under it")]
    [InlineData("/lib/modules", "must not be /lib or lie under it")]
    [InlineData("/data\nx", "contains characters that are not allowed")]
    [InlineData("/lib64", "must not be /lib64 or lie under it")]
    [InlineData("/nix/store", "must not be /nix or lie under it")]
    [InlineData("/opt", "must not cover or lie inside the run dir /opt/cvm-run")]
    [InlineData("/opt/cvm-run/x", "must not cover or lie inside the run dir /opt/cvm-run")]
    public void Rejects_unsafe_mount_points(string mountPoint, string why)
    {
        Errors(r => r.Volumes!["data"]!.MountPoint = mountPoint).Should().ContainSingle().Which.Should().StartWith("volumes.data.mount_point ").And.Contain(why);
    }

    [Theory]
    [InlineData("/library")]
    [InlineData("/runner")]
    [InlineData("/var/lib/data")]
    [InlineData("/mnt/with space")]
    public void Accepts_mount_points_that_only_look_like_system_trees(string mountPoint)
    {
        Errors(r => r.Volumes!["data"]!.MountPoint = mountPoint).Should().BeEmpty();
    }

    [Fact]
    public void A_default_mount_point_on_a_system_tree_is_rejected_with_a_hint()
    {
        Errors(r => r.Volumes = new() { ["etc"] = new VolumeSpec { VolumeId = "v", Passphrase = "p" } })
            .Should().Equal("volumes.etc.mount_point: the default /etc must not be /etc or lie under it; give a mount_point");
    }

    [Fact]
    public void Rejects_the_same_volume_id_twice()
    {
        Errors(r => r.Volumes = new()
        {
            ["a"] = new VolumeSpec { VolumeId = "vol-1", Passphrase = "p" },
            ["b"] = new VolumeSpec { VolumeId = "vol-1", Passphrase = "p" },
        }).Should().Equal("volume_id vol-1 is used by more than one volume (a, b)");
    }

    [Fact]
    public void Rejects_the_same_mount_point_twice()
    {
        Errors(r => r.Volumes = new()
        {
            ["a"] = new VolumeSpec { VolumeId = "vol-1", Passphrase = "p", MountPoint = "/m" },
            ["b"] = new VolumeSpec { VolumeId = "vol-2", Passphrase = "p", MountPoint = "/m" },
        }).Should().Equal("mount point /m is used by more than one volume (a, b)");
    }

    [Fact]
    public void Rejects_a_mount_point_nested_in_another_because_parallel_mounts_would_race()
    {
        Errors(r => r.Volumes = new()
        {
            ["a"] = new VolumeSpec { VolumeId = "vol-1", Passphrase = "p", MountPoint = "/srv" },
            ["b"] = new VolumeSpec { VolumeId = "vol-2", Passphrase = "p", MountPoint = "/srv/logs" },
        }).Should().Equal("volumes.b.mount_point /srv/logs lies under volumes.a.mount_point /srv");
    }

    [Theory]
    [InlineData("vol/../x")]
    [InlineData(".hidden")]
    [InlineData("a b")]
    public void Rejects_volume_ids_that_could_become_paths(string id)
    {
        Errors(r => r.Volumes!["data"]!.VolumeId = id).Should().ContainSingle().Which.Should().StartWith("volumes.data.volume_id: invalid volume id");
    }

    [Theory]
    [InlineData("aws", "vol-0123abcd")]
    [InlineData("aws", "vol-0123456789abcdef0")]
    [InlineData("gcp", "data-disk-1")]
    [InlineData("gcp", "d")]
    [InlineData("gcp", "persistent-disk-0")]
    [InlineData("azure", "0")]
    [InlineData("azure", "9")]
    [InlineData("azure", "63")]
    [InlineData("generic", "SER123")]
    [InlineData("generic", "vol-0aaa111")]
    [InlineData("generic", "S3Z9NB0K123456.x:y_z")]
    public void Accepts_what_a_volume_id_is_on_each_cloud(string cloudName, string id)
    {
        var cloud = CloudNames.Parse(cloudName)!.Value;
        RequestValidator.Validate(Request(r => r.Volumes!["data"]!.VolumeId = id), RunDir, cloud).Errors.Should().BeEmpty();
    }

    [Theory]
    [InlineData("aws", "vol-0aaa111")]
    [InlineData("aws", "vol0123abcd")]
    [InlineData("aws", "vol-0123ABCD")]
    [InlineData("aws", "vol-0123456789abcdef")]
    [InlineData("aws", "snap-0123abcd")]
    [InlineData("gcp", "Data-disk")]
    [InlineData("gcp", "1disk")]
    [InlineData("gcp", "disk-")]
    [InlineData("gcp", "disk_1")]
    [InlineData("gcp", "disk.1")]
    [InlineData("azure", "64")]
    [InlineData("azure", "07")]
    [InlineData("azure", "-1")]
    [InlineData("azure", "lun3")]
    [InlineData("azure", "100")]
    [InlineData("generic", "-rf")]
    [InlineData("aws", "vol-0123abcd\n")]
    [InlineData("gcp", "data-disk-1\n")]
    [InlineData("azure", "3\n")]
    [InlineData("generic", "SER123\n")]
    public void Rejects_what_a_volume_id_cannot_be_on_that_cloud_with_a_message_that_says_what_it_is(string cloudName, string id)
    {
        var cloud = CloudNames.Parse(cloudName)!.Value;
        var expected = cloud switch
        {
            CloudKind.Aws => "volumes.data.volume_id: on aws, volume_id is an EBS volume id: vol- followed by 8 or 17 lowercase hex digits",
            CloudKind.Gcp => "volumes.data.volume_id: on gcp, volume_id is the disk's device name: 1 to 63 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen",
            CloudKind.Azure => "volumes.data.volume_id: on azure, volume_id is the data disk's LUN: a whole number from 0 to 63, without leading zeros",
            _ => "volumes.data.volume_id: invalid volume id (allowed: A-Z a-z 0-9 . _ : -, starting with a letter or digit)",
        };

        var errors = RequestValidator.Validate(Request(r => r.Volumes!["data"]!.VolumeId = id), RunDir, cloud).Errors;

        errors.Should().Equal(expected);
        errors.Single().Should().NotContain(id, "a value is never echoed back");
    }

    [Fact]
    public void A_gcp_device_name_may_be_63_characters_but_not_64()
    {
        var ok = "d" + new string('1', 62);
        RequestValidator.Validate(Request(r => r.Volumes!["data"]!.VolumeId = ok), RunDir, CloudKind.Gcp).Errors.Should().BeEmpty();
        RequestValidator.Validate(Request(r => r.Volumes!["data"]!.VolumeId = ok + "1"), RunDir, CloudKind.Gcp).Errors.Should().ContainSingle();
    }

    [Fact]
    public void Rejects_more_volumes_than_a_request_may_carry()
    {
        var volumes = Enumerable.Range(0, RequestValidator.MaxVolumes + 1)
            .ToDictionary(i => $"v{i}", i => (VolumeSpec?)new VolumeSpec { VolumeId = $"vol-{i}", Passphrase = "p" });
        Errors(r => r.Volumes = volumes).Should().Equal($"volumes has {RequestValidator.MaxVolumes + 1} entries; at most {RequestValidator.MaxVolumes} are allowed");
    }

    [Fact]
    public void Rejects_more_files_than_a_request_may_carry()
    {
        var files = Enumerable.Range(0, RequestValidator.MaxFiles + 1).ToDictionary(i => $"f{i}", _ => (Dictionary<string, string?>?)new Dictionary<string, string?>());
        Errors(r => r.Env = files).Should().Equal($"env has {RequestValidator.MaxFiles + 1} files; at most {RequestValidator.MaxFiles} are allowed");
    }

    [Fact]
    public void Rejects_an_empty_volume_map()
    {
        Errors(r => r.Volumes = []).Should().Equal("volumes must not be empty");
    }

    [Fact]
    public void Plan_sorts_files_variables_and_volumes_by_name()
    {
        var plan = RequestValidator.Validate(Request(r =>
        {
            r.Env = new() { ["b"] = new() { ["Z"] = "1", ["A"] = "2" }, ["a"] = new() };
            r.Volumes = new()
            {
                ["zeta"] = new VolumeSpec { VolumeId = "v1", Passphrase = "p" },
                ["alpha"] = new VolumeSpec { VolumeId = "v2", Passphrase = "p" },
            };
        }), RunDir).Plan!;
        plan.EnvFiles.Select(f => f.Name).Should().Equal("a", "b");
        plan.EnvFiles[1].Variables.Select(v => v.Key).Should().Equal("A", "Z");
        plan.Volumes.Select(v => v.Target.DmName).Should().Equal("alpha", "zeta");
    }
}
