import Analysis
import Fleet
import Testing

/// Cross-cluster policies on hand-built views, and failover of a cluster's clients in a run.
@Suite struct LocalityPolicyTests {
    /// Views: (tier, waiting, kv use, round trip in ms).
    static func views(_ rows: [(Int, Int, Double, Double)]) -> [ReplicaView] {
        rows.enumerated().map { index, row in
            var view = ReplicaView(id: ReplicaID(index), outstanding: 0, waiting: row.1, kvCacheUsage: row.2)
            view.localityTier = row.0
            view.networkRoundTrip = row.3 / 1_000
            return view
        }
    }

    static let request = RoutingRequest(
        id: RequestID(0), workload: WorkloadID(0), inputTokens: 100, outputTokens: 10, criticality: .standard)

    static func policy(_ name: String) -> any RoutingPolicy {
        PolicyRegistry.entry(named: name)!.make(
            PolicyContext(streams: RandomStreams(runSeed: 1), pool: "p", policy: name))
    }

    @Test func localFirstStaysLocalWhileItHasAReplica() {
        var policy = Self.policy("local-first")
        // The remote replica is idle, the local one is busy: local-first still picks local.
        let views = Self.views([(2, 0, 0.0, 60), (0, 9, 0.9, 0.2), (2, 0, 0.1, 60)])
        #expect(policy.pick(Self.request, from: views) == ReplicaID(1))
        // With no local replica left, the closest tier: tier 1 before tier 2.
        let away = Self.views([(2, 0, 0.0, 60), (1, 3, 0.5, 20)])
        #expect(policy.pick(Self.request, from: away) == ReplicaID(1))
    }

    @Test func spilloverLeavesOnlyWhenEveryLocalReplicaIsSaturated() {
        var policy = Self.policy("spillover")
        // One local replica below the detector's thresholds (waiting < 5, KV < 0.8): stay.
        let room = Self.views([(0, 6, 0.5, 0.2), (0, 1, 0.5, 0.2), (1, 0, 0.0, 40)])
        #expect([ReplicaID(0), ReplicaID(1)].contains(policy.pick(Self.request, from: room)))
        // Every local replica saturated: the next tier joins, and its idle replica wins the score.
        let full = Self.views([(0, 6, 0.5, 0.2), (0, 2, 0.85, 0.2), (1, 0, 0.0, 40), (2, 0, 0.0, 90)])
        #expect(policy.pick(Self.request, from: full) == ReplicaID(2))
    }

    @Test func globalScoringTradesLoadAgainstDistance() {
        var policy = Self.policy("global-inference-aware")
        // Equal load: the nearer replica wins on the network-cost scorer.
        #expect(policy.pick(Self.request, from: Self.views([(1, 0, 0.3, 60), (0, 0, 0.3, 0.2)])) == ReplicaID(1))
        // The near one much busier (queue score 0 vs 1, KV 0.9 vs 0.1): the far one wins, 2 + 2×0.9 > 2 + 2×0.1.
        #expect(policy.pick(Self.request, from: Self.views([(1, 0, 0.1, 60), (0, 8, 0.9, 0.2)])) == ReplicaID(0))
        // The scorer: 1 − rtt / the largest.
        var scores = [0.0, 0.0, 0.0]
        NetworkCostScorer().score(
            Self.request, Self.views([(0, 0, 0, 10), (1, 0, 0, 40), (2, 0, 0, 80)]), into: &scores)
        #expect(scores == [1 - 10.0 / 80, 0.5, 0])
    }

    @Test func uniformSpreadsOverEveryCandidate() {
        var policy = Self.policy("uniform")
        #expect(policy.meshBalanced)
        let views = Self.views([(0, 0, 0, 0.2), (1, 0, 0, 40), (2, 0, 0, 80), (2, 0, 0, 80)])
        var counts = [0, 0, 0, 0]
        for _ in 0..<40_000 { counts[policy.pick(Self.request, from: views).index] += 1 }
        // Each within ±2.5% of a quarter (binomial standard error 0.22%; more than 10 of them).
        #expect(counts.allSatisfy { abs(Double($0) / 40_000 - 0.25) < 0.025 })
    }

    @Test func anOutageMovesTheClustersClientsAndBringsThemBack() throws {
        var spec = MeshTests.fleet(eastReplicas: 2, westReplicas: 2, rate: 20, horizon: .seconds(180)) { mesh in
            mesh.faults = [FaultSpec(.clusterOutage("east"), at: .seconds(60), duration: .seconds(60))]
        }
        spec.mesh!.gateways = .perCluster
        let output = try FleetRun.execute(spec, policy: "local-first", seed: 9)
        let mesh = try #require(output.mesh)
        let failovers = mesh.events.filter { $0.kind == .failover }
        #expect(failovers.map(\.time) == [.seconds(60), .seconds(120)])
        #expect(failovers.map(\.detail) == ["east -> west", "west -> east"])
        // During the outage the clients are in west and served there; before and after, in east. (A request in
        // flight on east when it fell was retried, and may have ended up in west: leave those out.)
        for record in output.requests where record.status == .completed && mesh.attempts[record.id.index] == 1 {
            let during = record.arrival >= .seconds(60) && record.arrival < .seconds(120)
            #expect(mesh.origin[record.id.index] == (during ? 1 : 0))
            #expect(mesh.replicaCluster[record.replica!.index] == (during ? 1 : 0))
        }
        #expect(mesh.events.contains { $0.kind == .endpointRemoved && $0.time == .seconds(65) })
    }
}
