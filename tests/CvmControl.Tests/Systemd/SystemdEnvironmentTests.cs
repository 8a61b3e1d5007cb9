using CvmControl.Systemd;

namespace CvmControl.Tests.Systemd;

public sealed class SystemdEnvironmentTests
{
    private static SystemdEnvironment Parse(int pid, params (string Name, string Value)[] variables)
    {
        var env = variables.ToDictionary(v => v.Name, v => v.Value);
        return SystemdEnvironment.From(name => env.GetValueOrDefault(name), pid);
    }

    [Fact]
    public void Notify_socket_alone_switches_notifications_on_whatever_started_the_process()
    {
        var env = Parse(42, ("NOTIFY_SOCKET", "/run/systemd/notify"));

        env.NotifySocket.Should().Be("/run/systemd/notify");
        env.Watchdog.Should().BeNull();
        env.Problems.Should().BeEmpty();
    }

    [Fact]
    public void An_abstract_notify_socket_is_accepted()
    {
        Parse(42, ("NOTIFY_SOCKET", "@/org/freedesktop/systemd1/notify/123")).NotifySocket.Should().Be("@/org/freedesktop/systemd1/notify/123");
    }

    [Fact]
    public void Without_notify_socket_nothing_is_on_and_an_empty_one_counts_as_unset()
    {
        Parse(42).Should().BeEquivalentTo(SystemdEnvironment.None);
        Parse(42, ("NOTIFY_SOCKET", "")).NotifySocket.Should().BeNull();
    }

    [Fact]
    public void Watchdog_usec_for_this_process_gives_the_interval()
    {
        Parse(42, ("NOTIFY_SOCKET", "/n"), ("WATCHDOG_USEC", "30000000"), ("WATCHDOG_PID", "42")).Watchdog.Should().Be(TimeSpan.FromSeconds(30));
        Parse(42, ("NOTIFY_SOCKET", "/n"), ("WATCHDOG_USEC", "1500")).Watchdog.Should().Be(TimeSpan.FromMilliseconds(1.5));
    }

    [Fact]
    public void A_watchdog_meant_for_another_process_is_not_answered()
    {
        var env = Parse(42, ("NOTIFY_SOCKET", "/n"), ("WATCHDOG_USEC", "30000000"), ("WATCHDOG_PID", "7"));

        env.Watchdog.Should().BeNull();
        env.Problems.Should().BeEmpty();
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("30s")]
    [InlineData("99999999999999999999999")]
    public void An_unusable_watchdog_usec_is_reported_and_ignored(string usec)
    {
        var env = Parse(42, ("NOTIFY_SOCKET", "/n"), ("WATCHDOG_USEC", usec));

        env.Watchdog.Should().BeNull();
        env.Problems.Should().ContainSingle().Which.Should().Contain("WATCHDOG_USEC=" + usec);
    }

    [Fact]
    public void A_notify_socket_that_is_not_a_unix_socket_is_reported_and_not_used()
    {
        var env = Parse(42, ("NOTIFY_SOCKET", "vsock:2:1234"), ("WATCHDOG_USEC", "1000000"));

        env.NotifySocket.Should().BeNull();
        env.Watchdog.Should().BeNull();
        env.Problems.Should().HaveCount(2);
    }
}
