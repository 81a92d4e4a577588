import ArgumentParser
import Fleet
import Foundation

/// Routing decisions per second on one large pool: the cost of a decision must grow no faster than the
/// number of candidates.
struct RoutingBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routing",
        abstract: "Decisions per second of each policy over a pool of N replicas, with metrics and prefix matches.")

    @Option(help: "Replicas in the pool.") var replicas = 256
    @Option(help: "Decisions per policy.") var decisions = 200_000
    @Option(help: "Run seed.") var seed: UInt64 = 1

    func run() throws {
        let streams = RandomStreams(runSeed: seed)
        let noise = streams.stream("bench/views")
        // Views as a router would prepare them: scraped metrics and, for a third of the replicas, a prefix match.
        let views = (0..<replicas).map { index in
            ReplicaView(
                id: ReplicaID(index), outstanding: noise.integer(below: 64), waiting: noise.integer(below: 8),
                running: noise.integer(below: 128), kvCacheUsage: noise.uniform(),
                prefixMatchedBlocks: index % 3 == 0 ? noise.integer(below: 64) : 0)
        }
        let request = RoutingRequest(
            id: RequestID(0), workload: WorkloadID(0), inputTokens: 1_000, outputTokens: 200, criticality: .standard,
            prefixBlocks: 64)
        print("replicas=\(replicas)")
        for entry in PolicyRegistry.entries {
            var policy = entry.make(PolicyContext(streams: streams, pool: "bench", policy: entry.name))
            var checksum = 0
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<decisions { checksum &+= policy.pick(request, from: views).index }
            let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            print("\(entry.name)_decisions_per_second=\(Int(Double(decisions) / wall))")
            print("\(entry.name)_checksum=\(checksum)")
        }
        // The approximate prefix index: one match per candidate and one record per decision, as the router does.
        var index = ApproximatePrefixIndex(capacityPerReplica: 31_250)
        let hashes = (0..<64).map { UInt64($0) &* 0x9E37_79B9_7F4A_7C15 }
        let start = DispatchTime.now().uptimeNanoseconds
        var matched = 0
        let candidates = views.map(\.id)
        var counts = [Int](repeating: 0, count: replicas)
        for decision in 0..<(decisions / 10) {
            for slot in counts.indices { counts[slot] = 0 }
            index.matchedBlocks(hashes, candidates: candidates, into: &counts)
            matched &+= counts.reduce(0, &+)
            index.record(hashes, uniqueBlocks: 8, key: UInt64(decision), on: views[decision % replicas].id)
        }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("approximate_index_decisions_per_second=\(Int(Double(decisions / 10) / wall))")
        print("approximate_index_checksum=\(matched)")
    }
}
