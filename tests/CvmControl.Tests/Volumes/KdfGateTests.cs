using CvmControl.Volumes;

namespace CvmControl.Tests.Volumes;

public sealed class KdfGateTests : IDisposable
{
    private const long GiB = 1024L * 1024 * 1024;
    private readonly TempDir _dir = new();

    private const long MiB = 1024L * 1024;

    [Theory]
    [InlineData(2 * GiB, 1536 * MiB)]
    [InlineData(4 * GiB, 3 * GiB)]
    [InlineData(0, 0)]
    [InlineData(-4, 0)]
    public void The_budget_is_three_quarters_of_available_memory(long available, long budget)
    {
        KdfGate.BudgetFor(available).Should().Be(budget);
    }

    [Theory]
    [InlineData(1536 * MiB, GiB, 1)]
    [InlineData(3 * GiB, GiB, 3)]
    [InlineData(12 * GiB, GiB, 8)]
    [InlineData(GiB / 2, GiB, 1)]
    [InlineData(1536 * MiB, 64 * MiB, 8)]
    [InlineData(1536 * MiB, 512 * MiB, 3)]
    [InlineData(3, 0, 3)]
    public void Slots_of_one_cost_are_the_budget_over_the_cost_from_1_to_8(long budget, long cost, int slots)
    {
        KdfGate.SlotsFor(budget, cost).Should().Be(slots);
    }

    /// <summary>Runs steps of the given costs, in order, each holding until released; returns which have started.</summary>
    private sealed class Steps(KdfGate gate)
    {
        private readonly List<TaskCompletionSource> _release = [];
        private readonly List<Task> _runs = [];

        public List<int> Started { get; } = [];

        public void Start(long cost)
        {
            var index = _release.Count;
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _release.Add(release);
            _runs.Add(gate.RunAsync(cost, async () =>
            {
                lock (Started)
                {
                    Started.Add(index);
                }
                await release.Task;
            }));
        }

        public async Task Finish(int index)
        {
            _release[index].SetResult();
            await _runs[index];
        }

        public int[] StartedNow()
        {
            lock (Started)
            {
                return [.. Started.Order()];
            }
        }

        /// <summary>Steps admitted by a release start on the thread pool: wait (bounded) until <paramref name="count"/> have.</summary>
        public async Task<int[]> StartedOnceThereAre(int count)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (StartedNow().Length < count && DateTime.UtcNow < deadline)
            {
                await Task.Delay(5);
            }
            // A moment more, so that a step admitted wrongly would show too.
            await Task.Delay(50);
            return StartedNow();
        }
    }

    [Fact]
    public async Task Steps_run_together_while_their_costs_fit_the_budget()
    {
        var gate = new KdfGate(1536 * MiB);
        var steps = new Steps(gate);

        steps.Start(64 * MiB);
        steps.Start(64 * MiB);
        steps.Start(GiB);
        steps.Start(448 * MiB);

        steps.StartedNow().Should().Equal(0, 1, 2);
        gate.InUseBytes.Should().Be(GiB + (128 * MiB));
        await steps.Finish(0);
        // 64 MiB more room lets the 448 MiB step in: the budget is then exactly full.
        (await steps.StartedOnceThereAre(4)).Should().Equal(0, 1, 2, 3);
        gate.InUseBytes.Should().Be(1536 * MiB);
    }

    [Fact]
    public async Task A_costly_step_waiting_is_not_overtaken_by_cheap_ones_behind_it()
    {
        var gate = new KdfGate(1536 * MiB);
        var steps = new Steps(gate);

        steps.Start(GiB);
        steps.Start(GiB);
        steps.Start(32 * MiB);

        steps.StartedNow().Should().Equal(0);
        await steps.Finish(0);
        (await steps.StartedOnceThereAre(3)).Should().Equal(0, 1, 2);
        gate.InUseBytes.Should().Be(GiB + (32 * MiB));
    }

    [Fact]
    public async Task A_step_costlier_than_the_whole_budget_runs_alone()
    {
        var gate = new KdfGate(GiB);
        var steps = new Steps(gate);

        steps.Start(32 * MiB);
        steps.Start(4 * GiB);
        steps.Start(32 * MiB);

        steps.StartedNow().Should().Equal(0);
        await steps.Finish(0);
        (await steps.StartedOnceThereAre(2)).Should().Equal(0, 1);
        gate.InUseBytes.Should().Be(GiB, "it is counted as the whole budget");
        await steps.Finish(1);
        (await steps.StartedOnceThereAre(3)).Should().Equal(0, 1, 2);
        await steps.Finish(2);
        gate.InUseBytes.Should().Be(0);
    }

    [Fact]
    public async Task No_more_than_eight_steps_run_at_once_however_cheap()
    {
        var gate = new KdfGate(16 * GiB);
        var steps = new Steps(gate);

        for (var i = 0; i < 10; i++)
        {
            steps.Start(MiB);
        }

        (await steps.StartedOnceThereAre(KdfGate.MaxRunning)).Should().HaveCount(KdfGate.MaxRunning);
        await steps.Finish(0);
        (await steps.StartedOnceThereAre(KdfGate.MaxRunning + 1)).Should().HaveCount(KdfGate.MaxRunning + 1);
    }

    [Fact]
    public async Task A_failing_step_gives_its_memory_back()
    {
        var gate = new KdfGate(GiB);

        var run = () => gate.RunAsync(GiB, () => Task.FromException(new InvalidOperationException("cryptsetup died")));

        await run.Should().ThrowAsync<InvalidOperationException>();
        gate.InUseBytes.Should().Be(0);
        (await gate.RunAsync(GiB, () => Task.FromResult(7))).Should().Be(7);
    }

    [Fact]
    public void Available_memory_comes_from_the_MemAvailable_line_in_kib()
    {
        var meminfo = _dir.Combine("meminfo");
        File.WriteAllText(meminfo, "MemTotal:        2014256 kB\nMemFree:          102400 kB\nMemAvailable:    1536000 kB\nBuffers:            2048 kB\n");

        KdfGate.ReadAvailableBytes(meminfo).Should().Be(1536000L * 1024);
    }

    [Theory]
    [InlineData("MemTotal:        2014256 kB\n")]
    [InlineData("MemAvailable:    lots kB\n")]
    public void Meminfo_without_a_readable_MemAvailable_gives_nothing(string text)
    {
        var meminfo = _dir.Combine("meminfo");
        File.WriteAllText(meminfo, text);

        KdfGate.ReadAvailableBytes(meminfo).Should().BeNull();
        KdfGate.ReadAvailableBytes(_dir.Combine("missing")).Should().BeNull();
    }

    public void Dispose() => _dir.Dispose();
}
