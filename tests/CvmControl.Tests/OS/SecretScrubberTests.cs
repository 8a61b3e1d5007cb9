using CvmControl.OS;

namespace CvmControl.Tests.OS;

public sealed class SecretScrubberTests
{
    [Fact]
    public void Masks_every_occurrence_longest_first()
    {
        SecretScrubber.Scrub("abcd abcdef abcd", ["abcd", "abcdef"]).Should().Be("[REDACTED] [REDACTED] [REDACTED]");
    }

    [Fact]
    public void Leaves_text_without_secrets_alone_even_for_short_secrets()
    {
        SecretScrubber.Scrub("Device is busy.", ["xyz", "hunter2"]).Should().Be("Device is busy.");
    }

    [Fact]
    public void Withholds_the_whole_text_when_a_short_secret_occurs_rather_than_garbling_it()
    {
        SecretScrubber.Scrub("volume support is not available", ["p"]).Should().Be(SecretScrubber.Withheld);
    }

    [Fact]
    public void Ignores_empty_secrets()
    {
        SecretScrubber.Scrub("text", ["", null!]).Should().Be("text");
    }
}
