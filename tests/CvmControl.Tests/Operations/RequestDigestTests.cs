using CvmControl.Operations;
using CvmControl.OS;
using CvmControl.Validation;
using CvmControl.Volumes;

namespace CvmControl.Tests.Operations;

public sealed class RequestDigestTests
{
    private static BootstrapPlan Plan(string passphrase = "pw", string envValue = "v", string user = "u") => new(
        user,
        [new EnvFile("app", [new("K", envValue)])],
        [],
        [new VolumePlan(new VolumeTarget("data", "vol-1", "/data"), new Passphrase(passphrase))]);

    [Fact]
    public void Identical_plans_have_equal_digests()
    {
        var digest = new RequestDigest();
        RequestDigest.Same(digest.Of(Plan()), digest.Of(Plan())).Should().BeTrue();
    }

    [Theory]
    [InlineData("pw2", "v", "u")]
    [InlineData("pw", "v2", "u")]
    [InlineData("pw", "v", "u2")]
    public void Any_difference_including_secrets_changes_the_digest(string passphrase, string envValue, string user)
    {
        var digest = new RequestDigest();
        RequestDigest.Same(digest.Of(Plan()), digest.Of(Plan(passphrase, envValue, user))).Should().BeFalse();
    }

    [Fact]
    public void Turning_integrity_on_for_a_volume_changes_the_digest()
    {
        var digest = new RequestDigest();
        var plain = Plan();
        var integrity = plain with { Volumes = [new VolumePlan(new VolumeTarget("data", "vol-1", "/data", Integrity: true), new Passphrase("pw"))] };

        RequestDigest.Same(digest.Of(plain), digest.Of(integrity)).Should().BeFalse();
    }

    [Fact]
    public void Field_boundaries_cannot_be_shifted_to_forge_a_match()
    {
        var digest = new RequestDigest();
        var a = new BootstrapPlan("u", [new EnvFile("ab", [new("K", "c")])], [], Plan().Volumes);
        var b = new BootstrapPlan("u", [new EnvFile("a", [new("BK", "c")])], [], Plan().Volumes);
        RequestDigest.Same(digest.Of(a), digest.Of(b)).Should().BeFalse();
    }

    [Fact]
    public void Digests_are_keyed_per_process_so_they_reveal_nothing_offline()
    {
        RequestDigest.Same(new RequestDigest().Of(Plan()), new RequestDigest().Of(Plan())).Should().BeFalse();
    }
}
