import Fleet
import Testing

/// Each policy's decision rule, checked exactly on hand-built views.
@Suite struct RoutingPolicyTests {
    static let request = RoutingRequest(
        id: RequestID(0), workload: WorkloadID(0), inputTokens: 10, outputTokens: 10,
        criticality: .standard)

    static func views(_ outstanding: [Int]) -> [ReplicaView] {
        outstanding.enumerated().map { ReplicaView(id: ReplicaID($0.offset), outstanding: $0.element) }
    }

    static func make(_ name: String, seed: UInt64 = 1) -> any RoutingPolicy {
        PolicyRegistry.entry(named: name)!.make(
            PolicyContext(streams: RandomStreams(runSeed: seed), pool: "pool", policy: name))
    }

    /// The schema, `infermesh list` and the docs are checked against the registry in RegistryConsistencyTests.
    @Test func registryNamesAreKebabCaseAndUnique() {
        #expect(Set(PolicyRegistry.names).count == PolicyRegistry.names.count)
        #expect(PolicyRegistry.names.allSatisfy { $0.allSatisfy { $0.isLowercase || $0 == "-" } })
    }

    @Test func roundRobinCyclesInIdOrder() {
        var policy = Self.make("round-robin")
        let picks = (0..<7).map { _ in policy.pick(Self.request, from: Self.views([5, 0, 9])).index }
        #expect(picks == [0, 1, 2, 0, 1, 2, 0])
    }

    @Test func leastConnectionsPicksTheUniqueMinimum() {
        var policy = Self.make("least-connections")
        #expect(policy.pick(Self.request, from: Self.views([3, 1, 2, 4])) == ReplicaID(1))
        #expect(policy.pick(Self.request, from: Self.views([0, 1, 0, 4])).index % 2 == 0)
    }

    @Test func leastConnectionsBreaksTiesUniformlyAmongTheTied() {
        // 3 tied of 4; 30,000 picks: each tied replica should get 1/3 (±1.5% is > 5 standard errors).
        var policy = Self.make("least-connections", seed: 4)
        var counts = [0, 0, 0, 0]
        for _ in 0..<30_000 { counts[policy.pick(Self.request, from: Self.views([2, 5, 2, 2])).index] += 1 }
        #expect(counts[1] == 0)
        for index in [0, 2, 3] { #expect(abs(Double(counts[index]) / 30_000 - 1.0 / 3) < 0.015) }
    }

    @Test func randomIsUniformAndSeeded() {
        var a = Self.make("random", seed: 9), b = Self.make("random", seed: 9)
        var counts = [0, 0, 0, 0, 0]
        for _ in 0..<50_000 {
            let pick = a.pick(Self.request, from: Self.views([0, 0, 0, 0, 0]))
            #expect(pick == b.pick(Self.request, from: Self.views([0, 0, 0, 0, 0])))
            counts[pick.index] += 1
        }
        // Each share within ±1% of 1/5 (about 5.6 standard errors).
        for count in counts { #expect(abs(Double(count) / 50_000 - 0.2) < 0.01) }
    }
}
