import Analysis
import Fleet
import Testing

/// Admission at the gateway: the saturation detector, priority queueing, shedding, expiry, overflow, and the
/// router's decision time. Every request still ends in exactly one terminal status (FleetRun checks it).
@Suite struct FlowControlTests {
    /// Two single-server stations (100 ms exponential service: 20 req/s in all) offered 26 req/s: critical 6,
    /// standard 10, sheddable 10.
    static func spec(flowControl: FlowControlSpec?, decisionTime: SimTime = .zero) -> FleetSpec {
        let station = ReplicaSpec.station(StationSpec(servers: 1, serviceSeconds: .exponential(mean: 0.1)))
        return FleetSpec(
            pools: [PoolSpec(name: "pool", replicas: 2, replica: station)],
            workloads: [
                WorkloadSpec(name: "critical", ratePerSecond: 6, pool: "pool", criticality: .critical),
                WorkloadSpec(name: "standard", ratePerSecond: 10, pool: "pool", criticality: .standard),
                WorkloadSpec(name: "sheddable", ratePerSecond: 10, pool: "pool", criticality: .sheddable),
            ],
            horizon: .seconds(300), warmup: .seconds(30), sampleInterval: nil,
            router: RouterSpec(
                refreshInterval: .milliseconds(50), decisionTime: decisionTime,
                saturation: SaturationDetectorSpec(queueDepthThreshold: 3), flowControl: flowControl))
    }

    static func statuses(_ output: RunOutput, workload: Int) -> [RequestStatus: Int] {
        var counts: [RequestStatus: Int] = [:]
        for record in output.requests where record.workload.index == workload {
            counts[record.status!, default: 0] += 1
        }
        return counts
    }

    @Test func aSaturatedPoolShedsSheddableAndQueuesTheRestByCriticality() throws {
        let output = try FleetRun.execute(
            Self.spec(flowControl: FlowControlSpec(maxQueue: 1_000, maxWait: .seconds(5))), policy: "least-connections",
            seed: 1)
        let summary = RunSummary.of(output)
        #expect(output.gateway.shed > 0 && output.gateway.queued > 0)
        #expect(Double(output.gateway.shed) == summary["gateway_shed"])
        // Sheddable requests are the ones shed: most of them; critical requests are never rejected.
        let sheddable = Self.statuses(output, workload: 2), critical = Self.statuses(output, workload: 0)
        #expect(sheddable[.rejected, default: 0] > sheddable[.completed, default: 0])
        #expect(critical[.rejected, default: 0] == 0)
        // Critical requests wait less than standard ones, and the gateway's share of the wait is recorded.
        #expect(summary["workload.critical.queue_ms_p90"]! < summary["workload.standard.queue_ms_p90"]!)
        #expect(summary["gateway_wait_ms_max"]! > 0)
        #expect(
            output.requests.allSatisfy { record in
                guard let routed = record.routed, let start = record.start else { return true }
                return routed >= record.arrival && start >= routed
            })
        // Without flow control nothing is shed and the queues at the replicas grow instead.
        let open = try FleetRun.execute(Self.spec(flowControl: nil), policy: "least-connections", seed: 1)
        #expect(open.gateway == GatewayCounts())
        #expect(open.requests.allSatisfy { $0.gatewayWait == nil || $0.gatewayWait == .zero })
        #expect(RunSummary.of(open)["workload.critical.queue_ms_p90"]! > summary["workload.critical.queue_ms_p90"]!)
    }

    @Test func requestsThatWaitTooLongOrFindTheQueueFullAreRejected() throws {
        let shortWait = try FleetRun.execute(
            Self.spec(flowControl: FlowControlSpec(maxQueue: 1_000, maxWait: .milliseconds(20))),
            policy: "least-connections", seed: 2)
        #expect(shortWait.gateway.expired > 0)
        let tiny = try FleetRun.execute(
            Self.spec(flowControl: FlowControlSpec(maxQueue: 2, maxWait: .seconds(5))), policy: "least-connections",
            seed: 2)
        #expect(tiny.gateway.overflowed > 0)
        // Displacement keeps critical requests: with the queue full, they push out standard ones instead.
        let critical = Self.statuses(tiny, workload: 0), standard = Self.statuses(tiny, workload: 1)
        #expect(critical[.rejected, default: 0] * 5 < standard[.rejected, default: 0])
    }

    /// Requests that expire in the gateway queue stay in it until they reach its front; they no longer wait, so
    /// they neither fill `max-queue` nor can be displaced. (Found by the scenario fuzzer: a critical arrival
    /// displaced a request that had expired and been handed out, which then "ended twice"; and expired entries
    /// made the queue look full.)
    @Test func requestsThatExpiredInTheQueueNeitherFillItNorAreDisplaced() throws {
        // One station whose metrics are scraped once an hour: stale, so saturated, after the first 200 ms.
        let station = ReplicaSpec.station(StationSpec(servers: 1, serviceSeconds: .constant(0.01)))
        let spec = FleetSpec(
            pools: [PoolSpec(name: "pool", replicas: 1, replica: station)],
            workloads: [
                WorkloadSpec(
                    name: "critical", ratePerSecond: 1, arrival: .deterministic, pool: "pool", criticality: .critical),
                WorkloadSpec(
                    name: "standard", ratePerSecond: 1, arrival: .deterministic, pool: "pool", criticality: .standard),
            ],
            horizon: .seconds(120), warmup: .zero, sampleInterval: nil,
            router: RouterSpec(
                refreshInterval: .seconds(3600),
                flowControl: FlowControlSpec(maxQueue: 3, maxWait: .milliseconds(500))))
        let output = try FleetRun.execute(spec, policy: "round-robin", seed: 4)
        let late = output.requests.filter { $0.arrival > .milliseconds(200) }
        #expect(late.count > 150)
        // Two requests arrive each second and wait 500 ms, so at most two wait at once: every late one waits its
        // 500 ms and expires, none finds the queue full, none is displaced.
        #expect(late.allSatisfy { $0.status == .rejected && $0.end! - $0.arrival == .milliseconds(500) })
        #expect(output.gateway.overflowed == 0)
        #expect(output.gateway.expired == late.count)
    }

    @Test func theRoutersDecisionTimeDelaysEveryRequest() throws {
        let output = try FleetRun.execute(
            Self.spec(flowControl: nil, decisionTime: .milliseconds(7)), policy: "round-robin", seed: 3)
        let waits = output.requests.compactMap(\.queueTime)
        #expect(!waits.isEmpty && waits.allSatisfy { $0 >= .milliseconds(7) })
    }
}
