import Fleet
import Testing

/// Why the router's approximate prefix index drifts from what the replicas hold (docs/routing.md, "Index
/// drift"): it forgets only by its own LRU rule, and each endpoint-picker replica learns only what it routed.
@Suite struct PrefixIndexDriftTests {
    /// A replica of 4 KV blocks and an index that believes it holds 8 (as the extension's fallback of 31,250
    /// blocks against a Qwen3-32B TP2 replica's 16,700). The replica evicts a cached prefix as soon as it needs
    /// the space, and the precise view (what the replica's cache holds) loses it at once; the index keeps listing
    /// it until the blocks it recorded since push it out of its own LRU.
    @Test func anEvictedBlockLeavesThePreciseViewAtOnceAndTheApproximateViewByItsOwnRule() {
        let replica = ReplicaID(0)
        let prefix: [UInt64] = [11, 12]
        var cache = PagedKVCache(totalBlocks: 4, blockSize: 16)
        var index = ApproximatePrefixIndex(capacityPerReplica: 8)
        func precise() -> Int { prefix.prefix { cache.isCached($0) }.count }

        // Request A, with the 2-block prefix, is routed to the replica, prefilled and finished: its blocks stay
        // cached, and both views hold them.
        let allocatedA = cache.allocate(2)
        #expect(allocatedA)
        let records = prefix.map { cache.publish(hash: $0)! }
        cache.release(records)
        index.record(prefix, uniqueBlocks: 0, key: 1, on: replica)
        #expect(precise() == 2)
        #expect(index.matchedBlocks(prefix, on: replica) == 2)

        // Request B, 4 blocks of its own: the replica evicts A's free cached blocks to run it. The precise
        // view drops them now; the index has recorded 2 + 4 = 6 of its 8 blocks and still lists both.
        let allocatedB = cache.allocate(4)
        #expect(allocatedB)
        index.record([], uniqueBlocks: 4, key: 2, on: replica)
        #expect(precise() == 0)
        #expect(index.matchedBlocks(prefix, on: replica) == 2)

        // Request C, 3 blocks of its own: 9 > 8, so the index evicts its oldest entry, A's second block (blocks
        // are recorded last-first); the leading block is still believed held.
        index.record([], uniqueBlocks: 3, key: 3, on: replica)
        #expect(index.matchedBlocks(prefix, on: replica) == 1)
        // Request D, 1 block: the leading block goes too. Only now do the two views agree.
        index.record([], uniqueBlocks: 1, key: 4, on: replica)
        #expect(index.matchedBlocks(prefix, on: replica) == 0)
        #expect(cache.conservationViolation() == nil)
    }

    static func prefixOnly(endpointPickers: Int) -> FleetSpec {
        let config = EndpointPickerConfig(
            plugins: [PluginSpec(type: "prefix-cache-scorer"), PluginSpec(type: "max-score-picker")],
            schedulingProfiles: [
                SchedulingProfileSpec(
                    name: "prefix-only",
                    plugins: [.init(pluginRef: "prefix-cache-scorer"), .init(pluginRef: "max-score-picker")])
            ])
        var spec = RouterBehaviorTests.spec(
            refresh: .milliseconds(50), sharedPrefix: 2_000, picker: config, rate: 40, horizon: .seconds(20))
        spec.router.endpointPickers = endpointPickers
        return spec
    }

    /// Every request shares one 2,000-token prefix and is scored on prefix alone, over 4 replicas. With one
    /// endpoint picker, the replica the first request went to matches every later one, so one replica takes
    /// everything. With two, the gateway hands them requests in turn (even and odd requests): each picker's
    /// index knows only where it sent its own, so the second picker's first request matches nowhere, goes
    /// elsewhere (seed 4), and from then on the two pickers send the same prefix to two different replicas.
    @Test func twoEndpointPickersDisagreeAboutWhereAPrefixIs() throws {
        func replicas(endpointPickers: Int) throws -> [Int] {
            let output = try FleetRun.execute(
                Self.prefixOnly(endpointPickers: endpointPickers), policy: "prefix-only", seed: 4)
            return output.requests.sorted { $0.id.index < $1.id.index }.map { $0.replica!.index }
        }
        let one = try replicas(endpointPickers: 1)
        let two = try replicas(endpointPickers: 2)
        #expect(one.count > 500 && two.count == one.count)
        #expect(Set(one).count == 1)
        let even = Set(two.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
        let odd = Set(two.enumerated().filter { $0.offset % 2 == 1 }.map(\.element))
        #expect(even.count == 1 && odd.count == 1)
        #expect(even != odd)
    }
}

extension PrefixIndexDriftTests {
    /// The extension's prefix plugin drops replicas gone from the pool every 2 minutes. A replica out from
    /// 3m10s to 3m50s misses the 4m check, so the index still lists what it held before its restart; out from
    /// 3m10s to 4m10s, the 4m check drops it; a check at the very instant it leaves or returns counts.
    @Test func aRestartedReplicaIsForgottenOnlyIfTheInactiveCheckRanWhileItWasOut() {
        func drops(_ removed: Int64, _ restored: Int64) -> Bool {
            ApproximatePrefixIndex.inactiveCheckDrops(removed: .seconds(removed), restored: .seconds(restored))
        }
        #expect(!drops(190, 230))
        #expect(drops(190, 250))
        #expect(drops(240, 241) && drops(239, 240))
        #expect(!drops(0, 119) && drops(0, 120))

        var index = ApproximatePrefixIndex(capacityPerReplica: 100)
        index.record([1, 2, 3], uniqueBlocks: 2, key: 9, on: ReplicaID(0))
        index.record([1, 2], uniqueBlocks: 0, key: 10, on: ReplicaID(1))
        index.remove(ReplicaID(0))
        #expect(index.matchedBlocks([1, 2, 3], on: ReplicaID(0)) == 0)
        #expect(index.matchedBlocks([1, 2, 3], on: ReplicaID(1)) == 2)
        // It learns the replica again from scratch.
        index.record([1], uniqueBlocks: 0, key: 11, on: ReplicaID(0))
        #expect(index.matchedBlocks([1, 2, 3], on: ReplicaID(0)) == 1)
    }
}
