import Fleet
import Testing

/// The endpoint picker's plugins and the inference-aware policies, decided exactly on hand-built snapshots.
@Suite struct EndpointPickerTests {
    static func request(prefixBlocks: Int = 0, session: UInt64? = nil) -> RoutingRequest {
        RoutingRequest(
            id: RequestID(0), workload: WorkloadID(0), inputTokens: 1_000, outputTokens: 100, criticality: .standard,
            prefixBlocks: prefixBlocks, session: session)
    }

    /// Views from `(outstanding, waiting, running, kv use, matched prefix blocks)`.
    static func views(_ rows: [(Int, Int, Int, Double, Int)], fresh: [Bool]? = nil) -> [ReplicaView] {
        rows.enumerated().map { index, row in
            ReplicaView(
                id: ReplicaID(index), outstanding: row.0, waiting: row.1, running: row.2, kvCacheUsage: row.3,
                fresh: fresh?[index] ?? true, prefixMatchedBlocks: row.4)
        }
    }

    static func scores(_ scorer: some EndpointScorer, _ request: RoutingRequest, _ views: [ReplicaView]) -> [Double] {
        var scores = Array(repeating: -1.0, count: views.count)
        scorer.score(request, views, into: &scores)
        return scores
    }

    static func make(_ name: String, seed: UInt64 = 1) -> any RoutingPolicy {
        PolicyRegistry.entry(named: name)!.make(
            PolicyContext(streams: RandomStreams(runSeed: seed), pool: "pool", policy: name))
    }

    // MARK: Scorers

    @Test func queueScorerIsMinMaxNormalizedWaiting() {
        let views = Self.views([(0, 2, 0, 0, 0), (0, 10, 0, 0, 0), (0, 6, 0, 0, 0)])
        #expect(Self.scores(QueueScorer(), Self.request(), views) == [1, 0, 0.5])
        // All equal: every replica scores 1, so the queue says nothing.
        #expect(Self.scores(QueueScorer(), Self.request(), Self.views([(0, 4, 0, 0, 0), (0, 4, 0, 0, 0)])) == [1, 1])
    }

    @Test func kvCacheScorerIsOneMinusUsage() {
        let views = Self.views([(0, 0, 0, 0.25, 0), (0, 0, 0, 1, 0), (0, 0, 0, 0, 0)])
        #expect(Self.scores(KVCacheUtilizationScorer(), Self.request(), views) == [0.75, 0, 1])
    }

    @Test func prefixScorerIsTheMatchedShareOfTheRequestsBlocks() {
        let views = Self.views([(0, 0, 0, 0, 0), (0, 0, 0, 0, 30), (0, 0, 0, 0, 60)])
        #expect(Self.scores(PrefixCacheScorer(), Self.request(prefixBlocks: 60), views) == [0, 0.5, 1])
        #expect(Self.scores(PrefixCacheScorer(), Self.request(prefixBlocks: 0), views) == [0, 0, 0])
    }

    @Test func activeRequestScorerUsesTheRoutersOwnCounts() {
        let views = Self.views([(8, 0, 0, 0, 0), (2, 0, 0, 0, 0), (0, 0, 0, 0, 0)])
        #expect(Self.scores(ActiveRequestScorer(), Self.request(), views) == [0, 0.75, 1])
        #expect(
            Self.scores(ActiveRequestScorer(), Self.request(), Self.views([(0, 0, 0, 0, 0), (0, 0, 0, 0, 0)])) == [
                1, 1,
            ])
    }

    /// 1 − min(1, backlog / the request's prompt): the request here has 1,000 prompt tokens.
    @Test func prefillBacklogScorerWeighsTokensAgainstThePrompt() {
        var views = Self.views([(0, 0, 0, 0, 0), (0, 0, 0, 0, 0), (0, 0, 0, 0, 0), (0, 0, 0, 0, 0)])
        for (index, tokens) in [0, 250, 1_000, 30_000].enumerated() { views[index].prefillBacklogTokens = tokens }
        #expect(Self.scores(PrefillBacklogScorer(), Self.request(), views) == [1, 0.75, 0, 0])
    }

    /// One queued 30,000-token prompt against three queued 500-token ones: the queue scorer prefers the replica
    /// with one waiting request, the prefill-backlog scorer the one with less prefill work.
    @Test func prefillBacklogScorerPrefersAShortTokenBacklogOverFewerLongerPrompts() {
        var views = Self.views([(1, 1, 0, 0, 0), (3, 3, 0, 0, 0)])
        views[0].prefillBacklogTokens = 30_000
        views[1].prefillBacklogTokens = 1_500
        let request = RoutingRequest(
            id: RequestID(0), workload: WorkloadID(0), inputTokens: 12_000, outputTokens: 300, criticality: .standard)
        #expect(Self.scores(QueueScorer(), request, views) == [1, 0])
        #expect(Self.scores(PrefillBacklogScorer(), request, views) == [0, 0.875])
    }

    /// Against the prefix scorer at the same weight, the replica holding m of the prompt behind a backlog b wins
    /// over an idle one exactly when m > b.
    @Test func prefillBacklogAgainstPrefixAtEqualWeightsComparesSavedWithQueuedTokens() throws {
        let config = EndpointPickerConfig(
            plugins: [
                .init(type: "prefix-cache-scorer"), .init(type: "prefill-backlog-scorer"),
                .init(type: "max-score-picker"),
            ],
            schedulingProfiles: [
                .init(
                    name: "p",
                    plugins: [
                        .init(pluginRef: "prefix-cache-scorer", weight: 1),
                        .init(pluginRef: "prefill-backlog-scorer", weight: 1), .init(pluginRef: "max-score-picker"),
                    ])
            ])
        // 1,000-token prompt in 10 blocks; replica 0 holds 6 of them (600 tokens) behind a backlog.
        for (backlog, expected) in [(500, 0), (700, 1)] {
            var policy = try config.policy(profile: "p", stream: RandomStreams(runSeed: 1).stream("t"))
            var views = Self.views([(0, 0, 0, 0, 6), (0, 0, 0, 0, 0)])
            views[0].prefillBacklogTokens = backlog
            #expect(
                policy.pick(Self.request(prefixBlocks: 10), from: views) == ReplicaID(expected), "backlog \(backlog)")
        }
    }

    @Test func loadAwareScorerFallsFromHalfToZeroAtTheThreshold() {
        let views = Self.views([(0, 0, 0, 0, 0), (0, 64, 0, 0, 0), (0, 200, 0, 0, 0)])
        #expect(Self.scores(LoadAwareScorer(threshold: 128), Self.request(), views) == [0.5, 0.25, 0])
    }

    @Test func runningRequestsScorerIsMinMaxNormalizedRunning() {
        let views = Self.views([(0, 0, 8, 0, 0), (0, 0, 4, 0, 0), (0, 0, 0, 0, 0)])
        #expect(Self.scores(RunningRequestsScorer(), Self.request(), views) == [0, 0.5, 1])
    }

    @Test func sessionAffinityRemembersWhereTheSessionWent() throws {
        let config = EndpointPickerConfig(
            plugins: [PluginSpec(type: "session-affinity-scorer"), PluginSpec(type: "max-score-picker")],
            schedulingProfiles: [
                SchedulingProfileSpec(
                    name: "sticky",
                    plugins: [.init(pluginRef: "session-affinity-scorer"), .init(pluginRef: "max-score-picker")])
            ])
        var policy = try config.policy(profile: "sticky", stream: RandomStream(name: "t", runSeed: 3))
        let views = Self.views([(0, 0, 0, 0, 0), (0, 0, 0, 0, 0), (0, 0, 0, 0, 0), (0, 0, 0, 0, 0)])
        let first = policy.pick(Self.request(session: 42), from: views)
        policy.routed(Self.request(session: 42), to: first)
        for _ in 0..<20 { #expect(policy.pick(Self.request(session: 42), from: views) == first) }
    }

    // MARK: Filters and pickers

    @Test func filtersFallBackToEveryoneWhenNoneQualifies() {
        let views = Self.views([(0, 200, 0, 0, 0), (0, 3, 0, 0, 0), (0, 500, 0, 0, 0)])
        #expect(LowQueueFilter(threshold: 128).filter(Self.request(), views).map(\.id.index) == [1])
        #expect(LowQueueFilter(threshold: 2).filter(Self.request(), views).count == 3)
        let stale = Self.views([(0, 0, 0, 0, 0), (0, 0, 0, 0, 0)], fresh: [false, true])
        #expect(FreshMetricsFilter().filter(Self.request(), stale).map(\.id.index) == [1])
        let allStale = Self.views([(0, 0, 0, 0, 0), (0, 0, 0, 0, 0)], fresh: [false, false])
        #expect(FreshMetricsFilter().filter(Self.request(), allStale).count == 2)
    }

    @Test func leastFiltersKeepTheLowestBandOfTheRange() {
        // Queues 0, 3, 4, 12 over 4 candidates: the band is [0, 0 + 12/4] = [0, 3].
        let queues = Self.views([(0, 0, 0, 0, 0), (0, 3, 0, 0, 0), (0, 4, 0, 0, 0), (0, 12, 0, 0, 0)])
        #expect(LeastQueueFilter().filter(Self.request(), queues).map(\.id.index) == [0, 1])
        // Integer band: queues 1, 2, 3 over 3 candidates give [1, 1 + 2/3] = [1, 1].
        let narrow = Self.views([(0, 1, 0, 0, 0), (0, 2, 0, 0, 0), (0, 3, 0, 0, 0)])
        #expect(LeastQueueFilter().filter(Self.request(), narrow).map(\.id.index) == [0])
        // KV 0.2, 0.3, 0.5, 0.6: band [0.2, 0.3]; equal values all stay.
        let kv = Self.views([(0, 0, 0, 0.6, 0), (0, 0, 0, 0.3, 0), (0, 0, 0, 0.2, 0), (0, 0, 0, 0.5, 0)])
        #expect(LeastKVCacheFilter().filter(Self.request(), kv).map(\.id.index) == [1, 2])
        let even = Self.views([(0, 0, 0, 0.4, 0), (0, 0, 0, 0.4, 0)])
        #expect(LeastKVCacheFilter().filter(Self.request(), even).count == 2)
        #expect(LeastQueueFilter().filter(Self.request(), []).isEmpty)
    }

    @Test func maxScorePickerTakesTheBestAndSplitsTiesEvenly() {
        var picker = MaxScorePicker(stream: RandomStream(name: "t", runSeed: 5))
        let views = Self.views([(0, 0, 0, 0, 0), (0, 0, 0, 0, 0), (0, 0, 0, 0, 0)])
        #expect(picker.pick(views, scores: [0.2, 0.9, 0.5]) == ReplicaID(1))
        // Two tied at the top, 20,000 picks: each within ±1.5% of one half (> 4 standard errors).
        var counts = [0, 0, 0]
        for _ in 0..<20_000 { counts[picker.pick(views, scores: [0.7, 0.1, 0.7]).index] += 1 }
        #expect(counts[1] == 0 && abs(Double(counts[0]) / 20_000 - 0.5) < 0.015)
    }

    @Test func weightedRandomPickerFollowsTheScores() {
        let picker = WeightedRandomPicker(stream: RandomStream(name: "t", runSeed: 6))
        let views = Self.views([(0, 0, 0, 0, 0), (0, 0, 0, 0, 0), (0, 0, 0, 0, 0)])
        var counts = [0, 0, 0]
        for _ in 0..<40_000 { counts[picker.pick(views, scores: [1, 3, 0]).index] += 1 }
        // Shares 1/4, 3/4, 0, each within ±1.5% (> 6 standard errors at n = 40,000).
        #expect(counts[2] == 0 && abs(Double(counts[1]) / 40_000 - 0.75) < 0.015)
        var uniform = [0, 0, 0]
        for _ in 0..<30_000 { uniform[picker.pick(views, scores: [0, 0, 0]).index] += 1 }
        #expect(uniform.allSatisfy { abs(Double($0) / 30_000 - 1.0 / 3) < 0.015 })
    }

    // MARK: Policies

    /// inference-aware = 2 × queue + 2 × KV + 3 × prefix, max score. Replica 0: empty queue (queue 1), KV 0.9
    /// (0.1), no match: 2.2. Replica 1: queue 10 of 10 (0), KV 0.2 (0.8), full match (1): 4.6. Replica 2: queue
    /// 5 (0.5), KV 0.5 (0.5), half match: 3.5. So replica 1, the prefix holder, despite its queue.
    @Test func inferenceAwareWeighsQueueKVAndPrefix() {
        var policy = Self.make("inference-aware")
        let views = Self.views([(0, 0, 0, 0.9, 0), (0, 10, 0, 0.2, 40), (0, 5, 0, 0.5, 20)])
        #expect(policy.pick(Self.request(prefixBlocks: 40), from: views) == ReplicaID(1))
        // Without a prefix the load terms decide: replica 0 scores 2.2, replica 1 1.6, replica 2 2.0.
        #expect(policy.pick(Self.request(), from: views) == ReplicaID(0))
        #expect(policy.needs == PolicyNeeds(metrics: true, prefix: PrefixMatching()))
        #expect(Self.make("inference-aware-precise").needs.prefix?.knowledge == .precise)
    }

    @Test func powerOfTwoNeverPicksTheMostLoadedOfTwo() {
        var policy = Self.make("power-of-two", seed: 2)
        // With two candidates both are always sampled: the less loaded one wins.
        for _ in 0..<100 {
            #expect(policy.pick(Self.request(), from: Self.views([(9, 0, 0, 0, 0), (3, 0, 0, 0, 0)])) == ReplicaID(1))
        }
        // With four, the most loaded is never picked, and the least loaded is picked whenever sampled.
        var counts = [0, 0, 0, 0]
        for _ in 0..<30_000 {
            counts[
                policy.pick(
                    Self.request(),
                    from: Self.views([(4, 0, 0, 0, 0), (1, 0, 0, 0, 0), (9, 0, 0, 0, 0), (6, 0, 0, 0, 0)])
                ).index] += 1
        }
        // Replica 1 wins every pair it is in: 3 of 6 pairs; replica 0 wins 2 (vs 2 and 3); replica 3 one.
        #expect(counts[2] == 0)
        #expect(abs(Double(counts[1]) / 30_000 - 0.5) < 0.015 && abs(Double(counts[3]) / 30_000 - 1.0 / 6) < 0.015)
    }

    @Test func prefixAffinityStaysWhileTheHolderIsBelowSaturation() {
        var policy = Self.make("prefix-affinity-until-saturated")
        let request = Self.request(prefixBlocks: 50)
        // Replica 2 holds the most blocks and waits 4 (< 5): it keeps the request.
        #expect(
            policy.pick(request, from: Self.views([(0, 0, 0, 0, 10), (0, 1, 0, 0, 0), (0, 4, 0, 0.5, 50)]))
                == ReplicaID(2))
        // At 5 waiting it is saturated: the least-waiting replica takes it.
        #expect(
            policy.pick(request, from: Self.views([(0, 2, 0, 0, 10), (0, 1, 0, 0, 0), (0, 5, 0, 0.5, 50)]))
                == ReplicaID(1))
        // KV use at 80% saturates it too; stale metrics make it untrusted.
        #expect(
            policy.pick(request, from: Self.views([(0, 2, 0, 0, 0), (0, 1, 0, 0, 0), (0, 3, 0, 0.8, 50)]))
                == ReplicaID(1))
        #expect(
            policy.pick(
                request,
                from: Self.views([(0, 2, 0, 0, 0), (0, 1, 0, 0, 0), (0, 3, 0, 0, 50)], fresh: [true, true, false]))
                == ReplicaID(1))
        // Equal matches: the fewer outstanding wins.
        #expect(
            policy.pick(request, from: Self.views([(7, 0, 0, 0, 50), (2, 0, 0, 0, 50), (0, 0, 0, 0, 0)]))
                == ReplicaID(1))
    }

    // MARK: Approximate prefix index

    @Test func approximateIndexMatchesLeadingRunsAndEvictsTheLeastRecent() {
        var index = ApproximatePrefixIndex(capacityPerReplica: 10)
        index.record([1, 2, 3, 4], uniqueBlocks: 0, key: 100, on: ReplicaID(0))
        #expect(index.matchedBlocks([1, 2, 3, 4, 5], on: ReplicaID(0)) == 4)
        #expect(index.matchedBlocks([1, 9, 3], on: ReplicaID(0)) == 1)
        #expect(index.matchedBlocks([1, 2], on: ReplicaID(1)) == 0)
        // 7 unique blocks of another request push the total to 11 > 10: the oldest entry goes. Blocks were
        // recorded last-first, so block 4 is the oldest and the leading run 1–3 survives.
        index.record([], uniqueBlocks: 7, key: 101, on: ReplicaID(0))
        #expect(index.matchedBlocks([1, 2, 3, 4], on: ReplicaID(0)) == 3)
        // An entry heavier than the capacity is not kept, and evicts nothing.
        index.record([], uniqueBlocks: 11, key: 102, on: ReplicaID(0))
        #expect(index.matchedBlocks([1, 2, 3], on: ReplicaID(0)) == 3)
    }

    /// The index against a plain reference (per replica, an ordered list of weighted entries, oldest first),
    /// over random records and lookups with small capacities so eviction is constant: the inverted lookup must
    /// give every replica exactly the reference's leading run.
    @Test(arguments: 0..<40)
    func approximateIndexMatchesAPlainReference(seed: Int) {
        let stream = RandomStream(name: "test/prefix-index", runSeed: UInt64(seed))
        let capacity = 4 + stream.integer(below: 20)
        var index = ApproximatePrefixIndex(capacityPerReplica: capacity)
        var reference: [[(key: UInt64, weight: Int)]] = Array(repeating: [], count: 4)
        let candidates = (0..<4).map { ReplicaID($0) }
        for step in 0..<300 {
            // Prefixes from a few roots, so requests share leading blocks and diverge.
            let root = UInt64(stream.integer(below: 3)) << 32
            let length = stream.integer(below: 12)
            let hashes = (0..<length).map { root | UInt64($0 < 6 ? $0 : $0 + 100 * stream.integer(below: 2)) }
            var expected = [Int](repeating: 0, count: 4)
            for replica in 0..<4 {
                while expected[replica] < hashes.count
                    && reference[replica].contains(where: { $0.key == hashes[expected[replica]] })
                {
                    expected[replica] += 1
                }
            }
            var matched = [Int](repeating: 0, count: 4)
            index.matchedBlocks(hashes, candidates: candidates, into: &matched)
            #expect(matched == expected, "seed \(seed) step \(step)")
            let replica = stream.integer(below: 4)
            let unique = stream.integer(below: 4)
            let key = UInt64(1 << 60) | UInt64(step)
            index.record(hashes, uniqueBlocks: unique, key: key, on: ReplicaID(replica))
            // Reference: touch the unique entry, then the blocks last-first; evict the oldest to fit.
            var entries = reference[replica]
            let touches = (unique > 0 ? [(key, unique)] : []) + hashes.reversed().map { ($0, 1) }
            for (touched, weight) in touches {
                if let at = entries.firstIndex(where: { $0.key == touched }) {
                    entries.append(entries.remove(at: at))
                } else if weight <= capacity {
                    entries.append((touched, weight))
                    while entries.reduce(0, { $0 + $1.weight }) > capacity { entries.removeFirst() }
                }
            }
            reference[replica] = entries
        }
    }

    // MARK: Configuration errors

    @Test func aConfigWithTwoPickersOrAnUnknownPluginIsRefused() {
        let config = EndpointPickerConfig(
            plugins: [PluginSpec(type: "random-picker"), PluginSpec(type: "max-score-picker")],
            schedulingProfiles: [
                SchedulingProfileSpec(
                    name: "two", plugins: [.init(pluginRef: "random-picker"), .init(pluginRef: "max-score-picker")]),
                SchedulingProfileSpec(name: "ghost", plugins: [.init(pluginRef: "nope")]),
            ])
        let stream = RandomStream(name: "t", runSeed: 1)
        #expect(throws: PluginError.self) { try config.policy(profile: "two", stream: stream) }
        #expect(throws: PluginError.self) { try config.policy(profile: "ghost", stream: stream) }
        #expect(throws: PluginError.self) { try config.policy(profile: "missing", stream: stream) }
        #expect(throws: PluginError.self) {
            try PluginRegistry.type(named: "prefix-cache-scorer")!.make(
                PluginParameters(["mode": .text("psychic")]), stream)
        }
    }
}
