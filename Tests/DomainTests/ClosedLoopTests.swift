import Analysis
import Fleet
import Testing

/// Closed-loop benchmark clients (`concurrency`, `think-time`, `requests`), runs that end when their requests are
/// done, and throughput counted by completion time.
@Suite struct ClosedLoopTests {
    static let timing = StepTimingSpec.linear(fixed: .milliseconds(5), perTokenNanoseconds: 10_000)

    /// Two GPU replicas and one closed-loop workload of `clients`, `requests` requests of exactly 300 prompt and
    /// 40 output tokens, ending when done.
    static func benchmark(clients: Int, requests: Int, think: Distribution? = nil) -> FleetSpec {
        var workload = WorkloadSpec(
            name: "bench", ratePerSecond: 0, inputTokens: .constant(300), outputTokens: .constant(40), pool: "gpu",
            maxRequests: requests)
        workload.concurrency = clients
        workload.thinkTimeSeconds = think
        var spec = FleetSpec(
            pools: [
                PoolSpec(
                    name: "gpu", replicas: 2,
                    replica: .gpu(
                        GPUReplicaSpec(engine: EngineSettings(maxNumSeqs: 4), kvBlocks: 2_000, timing: Self.timing)))
            ],
            workloads: [workload], horizon: FleetSpec.untilDoneHorizon, sampleInterval: nil)
        spec.endsWhenDone = true
        return spec
    }

    /// Requests outstanding just after each arrival and each end: arrivals so far minus ends so far.
    static func outstanding(_ requests: [RequestRecord]) -> [(time: SimTime, count: Int)] {
        let times = Set(requests.map(\.arrival) + requests.compactMap(\.end)).sorted()
        let arrivals = requests.map(\.arrival).sorted()
        let ends = requests.compactMap(\.end).sorted()
        var a = 0, e = 0
        return times.map { time in
            while a < arrivals.count && arrivals[a] <= time { a += 1 }
            while e < ends.count && ends[e] <= time { e += 1 }
            return (time, a - e)
        }
    }

    @Test func theClientsKeepExactlyNOutstandingAndTheRunEndsWithItsRequests() throws {
        let output = try FleetRun.execute(Self.benchmark(clients: 6, requests: 150), policy: "round-robin", seed: 3)
        #expect(output.requests.count == 150)
        #expect(
            output.requests.allSatisfy { $0.status == .completed && $0.inputTokens == 300 && $0.outputTokens == 40 })
        #expect(output.requests.prefix(6).allSatisfy { $0.arrival == .zero })
        // At every arrival and every end, 6 in flight, until the last 5 requests have been sent; then fewer.
        let lastSent = output.requests.map(\.arrival).max()!
        for point in Self.outstanding(output.requests) {
            if point.time < lastSent {
                #expect(point.count == 6, "\(point.count) outstanding at \(point.time)")
            } else {
                #expect(point.count <= 6)
            }
        }
        // The run ends with its last response; the window closes just after it.
        let last = output.requests.compactMap(\.end).max()!
        #expect(output.endTime == last && output.spec.horizon == last + .nanoseconds(1))
        let summary = RunSummary.of(output)
        #expect(summary["window_s"] == output.spec.horizon.seconds)
        #expect(abs(summary["throughput_rps"]! - 150 / output.spec.horizon.seconds) < 1e-9)
        // Without an objective there is no goodput and no attainment.
        #expect(summary["goodput_rps"]!.isNaN && summary["slo_attainment"]!.isNaN)
    }

    @Test func aClientThinksBetweenItsResponseAndItsNextRequest() throws {
        let output = try FleetRun.execute(
            Self.benchmark(clients: 3, requests: 30, think: .constant(0.25)), policy: "least-connections", seed: 5)
        #expect(output.requests.count == 30)
        // Each request after the first three is sent 250 ms after some response; each response starts one.
        let sent = output.requests.dropFirst(3).map(\.arrival).sorted()
        let responses = output.requests.compactMap(\.end).sorted().prefix(27).map { $0 + .milliseconds(250) }
        #expect(sent == Array(responses))
    }

    @Test func aClosedLoopRunIsDeterministic() throws {
        let spec = Self.benchmark(clients: 5, requests: 80, think: .exponential(mean: 0.1))
        let first = try FleetRun.execute(spec, policy: "round-robin", seed: 9)
        let second = try FleetRun.execute(spec, policy: "round-robin", seed: 9)
        #expect(first.digest == second.digest && first.requests == second.requests)
        #expect(try FleetRun.execute(spec, policy: "round-robin", seed: 10).digest != first.digest)
    }

    /// One single-server station (1 s a request: capacity 1/s) offered 2/s for 200 s with drain: it serves
    /// about 1/s in the window, and the rest after it. Throughput counts what completed in the window.
    @Test func anOverloadedFleetReportsWhatItServedNotWhatItWasOffered() throws {
        let spec = FleetSpec(
            pools: [
                PoolSpec(
                    name: "pool", replicas: 1, replica: .station(StationSpec(servers: 1, serviceSeconds: .constant(1))))
            ],
            workloads: [WorkloadSpec(name: "w", ratePerSecond: 2, pool: "pool")], horizon: .seconds(200),
            warmup: .seconds(20), sampleInterval: nil)
        let summary = RunSummary.of(try FleetRun.execute(spec, policy: "round-robin", seed: 1))
        // Offered: Poisson at 2/s over 180 s, within 10%; delivered: one per second in the window, exactly.
        #expect(abs(summary["offered_rps"]! - 2) < 0.2)
        #expect(abs(summary["throughput_rps"]! - 1) < 0.01, "\(summary["throughput_rps"]!)")
        #expect(summary["completed"]! > summary["throughput_rps"]! * 180 * 1.5)
    }
}
