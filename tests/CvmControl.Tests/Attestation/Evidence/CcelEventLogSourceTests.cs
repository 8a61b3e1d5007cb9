using CvmControl.Attestation.Evidence;
using CvmControl.Attestation.Verification.EventLog;
using CvmControl.Tests.Attestation.Fakes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CvmControl.Tests.Attestation.Evidence;

public sealed class CcelEventLogSourceTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(byte[] table)
    {
        var path = _dir.Combine("CCEL");
        File.WriteAllBytes(path, table);
        return path;
    }

    [Fact]
    public void A_guest_without_a_CCEL_sends_no_log()
    {
        new CcelEventLogSource(_dir.Combine("CCEL"), NullLogger<CcelEventLogSource>.Instance).Read().Should().BeNull();
    }

    [Fact]
    public void The_table_is_sent_up_to_its_last_event_without_the_padding()
    {
        var table = TestVectors.Read("CCEL_data");

        var log = new CcelEventLogSource(Write(table), NullLogger<CcelEventLogSource>.Instance).Read();

        log.Should().Equal(table.AsSpan(0, 9822).ToArray());
        CcelParser.Parse(log).Events.Should().HaveCount(6);
    }

    [Fact]
    public void A_table_that_cannot_be_parsed_is_sent_whole_for_the_verifier_to_refuse()
    {
        var table = SyntheticEventLog.Dstack().Ccel();
        table[^1] = 0x42; // data after the end
        var logger = new ListLogger();

        var log = new CcelEventLogSource(Write(table), logger).Read();

        log.Should().Equal(table);
        logger.Warnings.Should().ContainSingle().Which.Should().Contain("cannot be parsed, so it is sent whole").And.Contain("has data after its end");
    }

    [Fact]
    public void A_table_larger_than_the_bound_is_not_sent()
    {
        var logger = new ListLogger();

        var log = new CcelEventLogSource(Write(new byte[CcelParser.MaxLogBytes + 1]), logger).Read();

        log.Should().BeNull();
        logger.Warnings.Should().ContainSingle().Which.Should().Contain("is not sent").And.Contain($"larger than {CcelParser.MaxLogBytes} bytes");
    }

    private sealed class ListLogger : ILogger<CcelEventLogSource>
    {
        public List<string> Warnings { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
            {
                Warnings.Add(formatter(state, exception));
            }
        }
    }
}
