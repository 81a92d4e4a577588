import Fleet
import Testing

/// Session affinity (`session.affinity: true`) under policies that read no metrics: a session's next turn goes
/// to the replica of its previous turn while the saturation detector, on the router's scraped metrics, does
/// not call that replica full, and wherever the policy says when it does.
///
/// Before the fleet was split into components the affinity check read scraped metrics that were never
/// scraped under these policies, so every replica looked stale, hence saturated, and affinity did nothing.
@Suite struct SessionAffinityTests {
    /// Four stations with far more servers than the load needs (nothing ever waits), agent sessions of eight
    /// turns with 1 s gaps, and a plain workload beside them that keeps round-robin's counter moving.
    static func fleet(affinity: Bool, saturation: SaturationDetectorSpec = SaturationDetectorSpec()) -> FleetSpec {
        let station = ReplicaSpec.station(StationSpec(servers: 64, serviceSeconds: .exponential(mean: 0.05)))
        var agents = WorkloadSpec(name: "agents", ratePerSecond: 0.5, pool: "pool")
        agents.session = AgentSessionSpec(
            turns: .constant(8), thinkTimeSeconds: .constant(1), fanOutProbability: 0, affinity: affinity)
        return FleetSpec(
            pools: [PoolSpec(name: "pool", replicas: 4, replica: station)],
            workloads: [agents, WorkloadSpec(name: "chat", ratePerSecond: 7, pool: "pool")],
            horizon: .seconds(300), warmup: .zero, router: RouterSpec(saturation: saturation))
    }

    /// For each completed turn after the first: whether it ran on the previous turn's replica.
    static func sameReplica(_ output: RunOutput) -> [Bool] {
        var previous: [Int: ReplicaID] = [:]
        var same: [Bool] = []
        for link in output.sessionLinks where !link.subagent {
            let record = output.requests[link.request.index]
            guard record.status == .completed, let replica = record.replica else { continue }
            if let last = previous[link.session] { same.append(last == replica) }
            previous[link.session] = replica
        }
        return same
    }

    @Test(arguments: ["round-robin", "least-connections"])
    func nextTurnsStayOnTheirReplicaWhileItIsNotSaturated(policy: String) throws {
        let pinned = try FleetRun.execute(Self.fleet(affinity: true), policy: policy, seed: 21)
        let same = Self.sameReplica(pinned)
        #expect(same.count > 300, "enough later turns to judge: \(same.count)")
        #expect(same.allSatisfy { $0 }, "\(same.filter { !$0 }.count) of \(same.count) turns moved")
        // Without affinity the same traffic lands on the previous replica about once in four (chance among
        // four replicas); the bound is loose, the point is that it is far from every time.
        let free = try FleetRun.execute(Self.fleet(affinity: false), policy: policy, seed: 21)
        let chance = Self.sameReplica(free)
        let share = Double(chance.filter { $0 }.count) / Double(chance.count)
        #expect(share < 0.6, "without affinity \(share) of next turns stayed")
    }

    /// A detector that calls every replica saturated (KV use ≥ 0 always holds): affinity never pins, so the
    /// policy routes every request exactly as it does without affinity.
    @Test(arguments: ["round-robin", "least-connections"])
    func aSaturatedReplicaLeavesThePickToThePolicy(policy: String) throws {
        let full = SaturationDetectorSpec(queueDepthThreshold: 5, kvCacheUtilThreshold: 0)
        let pinned = try FleetRun.execute(Self.fleet(affinity: true, saturation: full), policy: policy, seed: 22)
        let free = try FleetRun.execute(Self.fleet(affinity: false, saturation: full), policy: policy, seed: 22)
        #expect(pinned.requests.count == free.requests.count)
        #expect(pinned.requests.map(\.replica) == free.requests.map(\.replica))
        #expect(Self.sameReplica(pinned).contains(false))
    }

    /// Saturation judged per decision: with a queue threshold of 1 on single-server stations, a turn moves only
    /// when its previous replica had a request waiting at the last scrape; most stay (at this load without
    /// affinity, one in four would).
    @Test func turnsMoveOnlyOffAReplicaThatWasBusy() throws {
        let station = ReplicaSpec.station(StationSpec(servers: 1, serviceSeconds: .exponential(mean: 0.1)))
        var agents = WorkloadSpec(name: "agents", ratePerSecond: 1, pool: "pool")
        agents.session = AgentSessionSpec(
            turns: .constant(8), thinkTimeSeconds: .constant(0.5), fanOutProbability: 0, affinity: true)
        let spec = FleetSpec(
            pools: [PoolSpec(name: "pool", replicas: 4, replica: station)],
            workloads: [agents, WorkloadSpec(name: "chat", ratePerSecond: 12, pool: "pool")],
            horizon: .seconds(150), warmup: .zero,
            router: RouterSpec(saturation: SaturationDetectorSpec(queueDepthThreshold: 1)))
        let output = try FleetRun.execute(spec, policy: "round-robin", seed: 23)
        var previous: [Int: RequestRecord] = [:]
        var moved = 0
        var stayed = 0
        for link in output.sessionLinks where !link.subagent {
            let record = output.requests[link.request.index]
            guard record.status == .completed else { continue }
            if let last = previous[link.session] {
                if last.replica == record.replica {
                    stayed += 1
                } else {
                    moved += 1
                    // A replica is saturated only when a request waited there at the last scrape, at most one
                    // refresh interval (50 ms) before this turn was routed: two requests were on it then.
                    let routed = record.routed!
                    let scrape = routed - .milliseconds(50)
                    let onIt = output.requests.filter {
                        $0.replica == last.replica && $0.arrival <= routed && ($0.end ?? .max) > scrape
                    }
                    let busy = onIt.count >= 2
                    #expect(busy, "turn \(link.turn) of session \(link.session) left an idle replica")
                }
            }
            previous[link.session] = record
        }
        #expect(moved > 0, "at this load some previous replicas are saturated")
        #expect(stayed > 2 * moved, "stayed \(stayed), moved \(moved)")
    }
}
