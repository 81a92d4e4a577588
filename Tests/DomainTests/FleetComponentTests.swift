import Fleet
import Testing

/// Fixes that came with splitting the fleet into components: sub-agent calls sent while a replica's outcomes
/// are applied, think time counted from the client's receipt, and a restarted replica's empty cache.
@Suite struct FleetComponentTests {
    /// Every turn asks for three sub-agent calls, on single-server stations: the calls are sent from inside
    /// the completion that ended the turn, onto other replicas, while that replica's outcomes are still being
    /// applied. Each call must arrive exactly when its turn ended (no detour through a later event), and every
    /// replica's timers must stay its own: a timer applied to the wrong replica would end a request twice or
    /// leave one without a terminal status, which the run reports as an invariant violation (it throws).
    @Test(arguments: ["round-robin", "least-connections"])
    func subagentCallsAreSentAtOnceAndTheirWorkStaysWithTheirReplica(policy: String) throws {
        let station = ReplicaSpec.station(StationSpec(servers: 1, serviceSeconds: .exponential(mean: 0.05)))
        var agents = WorkloadSpec(name: "agents", ratePerSecond: 1, pool: "pool")
        agents.session = AgentSessionSpec(
            turns: .constant(4), thinkTimeSeconds: .constant(0.5), fanOutProbability: 1, fanOutSize: .constant(3))
        let spec = FleetSpec(
            pools: [PoolSpec(name: "pool", replicas: 4, replica: station)],
            workloads: [agents, WorkloadSpec(name: "chat", ratePerSecond: 10, pool: "pool")],
            horizon: .seconds(120), warmup: .zero)
        let output = try FleetRun.execute(spec, policy: policy, seed: 31)
        let links = output.sessionLinks
        #expect(links.contains { $0.subagent })
        for link in links where link.subagent {
            let call = output.requests[link.request.index]
            let turn = links.last { $0.session == link.session && $0.turn == link.turn && !$0.subagent }!
            let parent = output.requests[turn.request.index]
            #expect(parent.status == .completed && call.arrival == parent.end!)
        }
        // Nothing is lost: every request ended once (checked by the run) and the statuses add up.
        #expect(output.statusTotals.reduce(0, +) == output.requests.count)
    }

    /// Clients in `east`, replicas in `west` behind a 40 ms link: a response reaches the agent after its way
    /// back, and the next turn follows the think time from then, so the gap between a turn's end (its
    /// receipt) and the next turn's arrival is exactly the think time.
    @Test func thinkTimeCountsFromTheClientsReceipt() throws {
        let mesh = MeshSpec(
            clusters: [
                ClusterSpec(name: "east", region: "us-east1", zone: "us-east1-b"),
                ClusterSpec(name: "west", region: "us-west1", zone: "us-west1-a"),
            ],
            links: [LinkSpec(from: "east", to: "west", latency: .milliseconds(40))])
        var pool = PoolSpec(
            name: "pool", replicas: 2,
            replica: .station(StationSpec(servers: 4, serviceSeconds: .exponential(mean: 0.02))))
        pool.placement = [PoolPlacement(cluster: "west", replicas: 2)]
        var agents = WorkloadSpec(name: "agents", ratePerSecond: 0.5, pool: "pool")
        agents.cluster = "east"
        agents.session = AgentSessionSpec(turns: .constant(5), thinkTimeSeconds: .constant(1), fanOutProbability: 0)
        var spec = FleetSpec(pools: [pool], workloads: [agents], horizon: .seconds(120), warmup: .zero)
        spec.mesh = mesh
        let output = try FleetRun.execute(spec, policy: "round-robin", seed: 32)
        var checked = 0
        for (index, link) in output.sessionLinks.enumerated() where link.turn > 1 {
            let previous = output.sessionLinks[..<index].last { $0.session == link.session }!
            let before = output.requests[previous.request.index], next = output.requests[link.request.index]
            guard before.status == .completed, let received = before.end else { continue }
            // The receipt is after the replica finished: the response crossed the 40 ms link.
            #expect(received - before.firstToken! >= .zero)
            #expect(next.arrival == received + .seconds(1))
            checked += 1
        }
        #expect(checked > 50)
        #expect(output.mesh!.crossCluster.allSatisfy { $0 })
    }

    /// One GPU replica crashes for 10 s and restarts. Requests share a 1,024-token system prompt, so before
    /// the crash they find it cached; the first request the restarted engine serves must compute it again.
    @Test func aRestartedReplicaStartsWithAnEmptyPrefixCache() throws {
        var mesh = MeshSpec(clusters: [ClusterSpec(name: "east", region: "us-east1", zone: "us-east1-b")])
        mesh.faults = [FaultSpec(.replicaCrash(pool: "gpu", replica: 0), at: .seconds(20), duration: .seconds(10))]
        mesh.endpointRemovalDelay = .seconds(1)
        var chat = WorkloadSpec(
            name: "chat", ratePerSecond: 2, inputTokens: .constant(1_200), outputTokens: .constant(10), pool: "gpu")
        chat.sharedPrefixTokens = 1_024
        var spec = FleetSpec(
            pools: [
                PoolSpec(
                    name: "gpu", replicas: 1,
                    replica: .gpu(
                        GPUReplicaSpec(
                            engine: EngineSettings(), kvBlocks: 4_000,
                            timing: .linear(fixed: .milliseconds(5), perTokenNanoseconds: 10_000))))
            ],
            workloads: [chat], horizon: .seconds(60), warmup: .zero)
        spec.mesh = mesh
        let output = try FleetRun.execute(spec, policy: "round-robin", seed: 33)
        let served = output.requests.filter { $0.status == .completed }.sorted { $0.start! < $1.start! }
        let before = served.filter { $0.start! < .seconds(20) }
        let after = served.filter { $0.start! >= .seconds(30) }
        #expect(before.dropFirst().allSatisfy { $0.cachedTokens == 1_024 })
        #expect(after.first?.cachedTokens == 0, "the restarted engine found \(after.first?.cachedTokens ?? -1) cached")
        #expect(after.dropFirst().allSatisfy { $0.cachedTokens == 1_024 })
    }
}
