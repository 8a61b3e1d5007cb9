using CvmControl.OS;

namespace CvmControl.Tests.OS;

public sealed class SecretScrubberTests
{
    [Fact]
    public void Replaces_every_occurrence_longest_first()
    {
        SecretScrubber.Scrub("abc abcdef abc", ["abc", "abcdef"]).Should().Be("[REDACTED] [REDACTED] [REDACTED]");
    }

    [Fact]
    public void Ignores_empty_secrets()
    {
        SecretScrubber.Scrub("text", ["", null!]).Should().Be("text");
    }
}
