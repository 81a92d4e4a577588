import Analysis
import Fleet
import Foundation
import Testing

/// A trace replayed through the whole fleet, and the spike metrics of a scheduled surge.
@Suite struct ReplayAndSpikeFleetTests {
    static func fixture(_ name: String) throws -> String {
        try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/traces")).path
    }

    static func stations(_ replicas: Int, mean: Double) -> PoolSpec {
        PoolSpec(
            name: "pool", replicas: replicas,
            replica: .station(StationSpec(servers: 1, serviceSeconds: .exponential(mean: mean))))
    }

    /// At scale 1 the fleet's requests are the trace's rows: same count, token totals and relative times.
    @Test func replayThroughTheFleetKeepsTheTraceExactly() throws {
        let replay = TraceReplaySpec(path: try Self.fixture("mooncake-conversation-200.jsonl"), format: .mooncake)
        let stats = try TraceReplay.scan(replay)
        var workload = WorkloadSpec(name: "kimi", ratePerSecond: stats.meanRatePerSecond, pool: "pool")
        workload.trace = TraceWorkload(replay: replay, stats: stats)
        let spec = FleetSpec(
            pools: [Self.stations(4, mean: 0.05)], workloads: [workload],
            horizon: stats.lastArrival + .seconds(1), warmup: .zero)
        let output = try FleetRun.execute(spec, policy: "round-robin", seed: 1)
        #expect(output.requests.count == stats.count)
        #expect(output.requests.reduce(0) { $0 + $1.inputTokens } == stats.inputTokens)
        #expect(output.requests.reduce(0) { $0 + $1.outputTokens } == stats.outputTokens)
        // Relative arrival times, exactly: the reader's own sequence, read again.
        let reader = try TraceReader(spec: replay, stats: stats)
        var expected: [SimTime] = []
        while let next = reader.next(), expected.count < stats.count { expected.append(next.arrival) }
        #expect(output.requests.map(\.arrival) == expected)
        #expect(output.requests.allSatisfy { $0.status == .completed })
        // Twice as fast: the same requests at half the times (to the nanosecond's rounding).
        var fast = spec
        fast.workloads[0].trace!.replay.speedUp = 2
        let doubled = try FleetRun.execute(fast, policy: "round-robin", seed: 1)
        #expect(doubled.requests.count == stats.count)
        #expect(
            zip(doubled.requests, expected).allSatisfy {
                abs($0.arrival.nanoseconds - $1.nanoseconds / 2) <= 1
            })
    }

    /// Ten stations of 10 req/s each at a base of 40 req/s that triples for a minute: the window, the
    /// spike's latency against the base's, and a recovery after the spike's end.
    @Test func spikeMetricsMeasureTheSurgeAndTheRecovery() throws {
        var chat = WorkloadSpec(name: "chat", ratePerSecond: 40, pool: "pool")
        chat.schedule = .spike(
            base: 40, start: .seconds(120), rampUp: .seconds(10), peak: 3, hold: .seconds(60), decay: .seconds(10))
        let spec = FleetSpec(
            pools: [Self.stations(10, mean: 0.1)], workloads: [chat], horizon: .seconds(600), warmup: .seconds(30))
        let window = try #require(SpikeMetrics.window(spec))
        #expect(window.start == .seconds(120) && window.end == .seconds(200))
        let output = try FleetRun.execute(spec, policy: "least-connections", seed: 2)
        let summary = RunSummary.of(output)
        #expect(summary["spike_start_s"] == 120 && summary["spike_end_s"] == 200)
        // Offered 120/s against 100/s of capacity: the spike's tail is far above the base's.
        #expect(summary["spike_ttft_ms_p99"]! > 10 * summary["baseline_ttft_ms_p99"]!)
        // The backlog takes time to drain after the rate falls at 200 s, but is gone well before the horizon.
        let recovery = try #require(summary["recovery_s"])
        #expect(recovery >= 80 && recovery < 400)
        // Without a spike there is no window and no spike metric.
        var flat = spec
        flat.workloads[0].schedule = nil
        #expect(SpikeMetrics.window(flat) == nil)
        #expect(RunSummary.of(try FleetRun.execute(flat, policy: "least-connections", seed: 2))["recovery_s"] == nil)
    }
}
