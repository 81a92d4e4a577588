import Fleet
import Testing

/// Drives one engine that may hold a step timer and load timers at once: timers fire in (time, order asked).
private struct OffloadDriver {
    let engine: GPUReplica
    let timing = LinearStepTiming(fixed: .milliseconds(5), perTokenNanoseconds: 10_000)
    var now = SimTime.zero
    var timers: [(at: SimTime, order: Int, timer: ReplicaTimer)] = []
    var asked = 0
    var log: [(time: SimTime, outcome: ReplicaOutcome)] = []
    /// Checked after every call: both tiers' own accounting.
    var violations: [String] = []

    init(kvBlocks: Int, offload: KVOffloadSpec?) {
        engine = GPUReplica(settings: EngineSettings(), kvBlocks: kvBlocks, timing: timing, offload: offload)
    }

    /// Runs arrivals (sorted by time) and aborts until the engine is idle.
    mutating func run(_ arrivals: [(SimTime, ServingRequest)], aborts: [(SimTime, RequestID)] = []) {
        var pending = arrivals[...]
        var pendingAborts = aborts[...]
        while true {
            let next = timers.min { ($0.at, $0.order) < ($1.at, $1.order) }
            var effects = ReplicaEffects()
            if let (time, id) = pendingAborts.first, next == nil || time < next!.at,
                pending.first.map({ time < $0.0 }) ?? true
            {
                pendingAborts = pendingAborts.dropFirst()
                now = time
                _ = engine.abort(id, now: now, effects: &effects)
            } else if let (time, request) = pending.first, next == nil || time <= next!.at {
                pending = pending.dropFirst()
                now = time
                engine.enqueue(request, now: now, effects: &effects)
            } else if let due = next {
                timers.removeAll { $0.order == due.order }
                now = due.at
                engine.fire(due.timer, now: now, effects: &effects)
            } else {
                return
            }
            for outcome in effects.outcomes { log.append((now, outcome)) }
            for (at, timer) in effects.timers {
                timers.append((at, asked, timer))
                asked += 1
            }
            if let problem = engine.kvCache.conservationViolation() { violations.append(problem) }
            if let problem = engine.offloadTier?.conservationViolation() { violations.append(problem) }
        }
    }

    func time(of outcome: ReplicaOutcome) -> SimTime? { log.first { $0.outcome == outcome }?.time }
}

@Suite struct KVOffloadTests {
    /// 1 MB blocks over a 10 GB/s link: 100 µs a block.
    static let tier = KVOffloadSpec(cpuBlocks: 1_000, bytesPerBlock: 1_000_000, loadBytesPerSecond: 10e9)
    /// A 1,600-token document (100 blocks of 16) that later prompts start with.
    static let document = PromptPrefix(key: 7, tokens: 1_600)

    static func request(_ id: Int, input: Int, output: Int, prefix: PromptPrefix? = nil) -> ServingRequest {
        ServingRequest(id: RequestID(id), inputTokens: input, outputTokens: output, prefix: prefix)
    }

    /// Request 0 computes the document (100 blocks); request 1, with no prefix, fills all 200 GPU blocks and so
    /// evicts every one of them; request 2 comes back to the document on an idle engine.
    static let fillEvictReturn: [(SimTime, ServingRequest)] = [
        (.zero, request(0, input: 1_700, output: 2, prefix: document)),
        (.seconds(1), request(1, input: 3_190, output: 2)),
        (.seconds(2), request(2, input: 1_700, output: 2, prefix: document)),
    ]

    @Test func aCPUTierHitCostsTheLoadNotTheRecompute() {
        var withTier = OffloadDriver(kvBlocks: 200, offload: Self.tier)
        withTier.run(Self.fillEvictReturn)
        var without = OffloadDriver(kvBlocks: 200, offload: nil)
        without.run(Self.fillEvictReturn)

        // The GPU lost the document: no GPU hit either way. With the tier, its 100 blocks are loaded.
        for driver in [withTier, without] {
            #expect(!driver.log.contains { if case .prefixHit(RequestID(2), _) = $0.outcome { true } else { false } })
        }
        #expect(withTier.log.contains { $0.outcome == .prefixLoaded(RequestID(2), tokens: 1_600) })
        #expect(!without.log.contains { if case .prefixLoaded = $0.outcome { true } else { false } })

        // TTFT with the tier: the load on an idle link, then one step prefilling only the 100 uncached tokens
        // against the 1,600 loaded. Without it: one step prefilling all 1,700.
        let timing = withTier.timing
        let load = Self.tier.loadDuration(blocks: 100)
        #expect(load == .microseconds(10_000))
        let remainder = timing.stepDuration(
            StepShape(prefillTokens: 100, prefillAttentionPairs: 100 * (1_600 + 50)))
        let recompute = timing.stepDuration(StepShape(prefillTokens: 1_700, prefillAttentionPairs: 1_700 * 850))
        let ttftWith = withTier.time(of: .firstToken(RequestID(2)))! - .seconds(2)
        let ttftWithout = without.time(of: .firstToken(RequestID(2)))! - .seconds(2)
        #expect(ttftWith == load + remainder)
        #expect(ttftWithout == recompute)
        #expect(ttftWith < ttftWithout)

        // vLLM's counters: every prompt token is looked up in both tiers; the tier's hits are the loaded tokens.
        let integrals = withTier.engine.integrals(now: withTier.now)
        #expect(integrals.prefixCacheQueries == 1_700 + 3_190 + 1_700)
        #expect(integrals.prefixCacheHits == 0)
        #expect(integrals.externalPrefixCacheQueries == 1_700 + 3_190 + 1_700)
        #expect(integrals.externalPrefixCacheHits == 1_600)
        // The loaded prompt tokens are not computed again.
        #expect(integrals.promptTokens == without.engine.integrals(now: without.now).promptTokens - 1_600)
        #expect(without.engine.integrals(now: without.now).externalPrefixCacheQueries == 0)
        #expect(withTier.violations.isEmpty)
    }

    /// Loads queue on the replica's one host link: a second load starts when the first ends.
    @Test func loadsShareTheLinkOneAfterAnother() {
        var driver = OffloadDriver(kvBlocks: 400, offload: Self.tier)
        let other = PromptPrefix(key: 8, tokens: 1_600)
        driver.run([
            (.zero, Self.request(0, input: 1_700, output: 2, prefix: Self.document)),
            (.seconds(1), Self.request(1, input: 1_700, output: 2, prefix: other)),
            (.seconds(2), Self.request(2, input: 6_398, output: 2)),  // takes all 400 blocks: evicts both documents
            (.seconds(3), Self.request(3, input: 1_700, output: 2, prefix: Self.document)),
            (.seconds(3), Self.request(4, input: 1_700, output: 2, prefix: other)),
        ])
        #expect(driver.log.contains { $0.outcome == .prefixLoaded(RequestID(3), tokens: 1_600) })
        #expect(driver.log.contains { $0.outcome == .prefixLoaded(RequestID(4), tokens: 1_600) })
        // Request 3's load ends at 3 s + 10 ms; request 4's, queued behind it, at 3 s + 20 ms.
        #expect(driver.engine.offloadTier!.linkFreeAt == (SimTime.seconds(3) + .milliseconds(20)).nanoseconds)
        #expect(driver.time(of: .firstToken(RequestID(4)))! >= .seconds(3) + .milliseconds(20))
        #expect(driver.violations.isEmpty)
    }

    /// Blocks are conserved across the tiers: a mix of returning sessions, abandoned loads and evictions on a
    /// small GPU cache and a smaller CPU tier leaves both tiers' accounting whole, every GPU block given back,
    /// and the tier holding what it stored less what it evicted.
    @Test(arguments: [1, 2, 3])
    func blocksAreConservedAcrossTiers(seed: UInt64) {
        let tier = KVOffloadSpec(cpuBlocks: 300, bytesPerBlock: 1_000_000, loadBytesPerSecond: 10e9)
        var driver = OffloadDriver(kvBlocks: 250, offload: tier)
        var state = seed
        func next(_ bound: Int) -> Int {  // SplitMix64, so the test does not depend on the standard library's
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
        var arrivals: [(SimTime, ServingRequest)] = []
        var aborts: [(SimTime, RequestID)] = []
        var time = SimTime.zero
        for id in 0..<120 {
            time = time + .milliseconds(Int64(1 + next(40)))
            let session = next(8)
            let prefix = PromptPrefix(key: UInt64(100 + session), tokens: 400 + 160 * next(10))
            let input = prefix.tokens + 1 + next(300)
            arrivals.append((time, Self.request(id, input: input, output: 1 + next(40), prefix: prefix)))
            if next(6) == 0 { aborts.append((time + .microseconds(Int64(1 + next(20_000))), RequestID(id))) }
        }
        aborts.sort { $0.0 < $1.0 }
        driver.run(arrivals, aborts: aborts)

        #expect(driver.violations.isEmpty)
        #expect(driver.engine.kvCache.heldBlocks == 0)
        let cpu = driver.engine.offloadTier!
        #expect(cpu.blocks <= cpu.capacity)
        #expect(cpu.stores - cpu.evictions == cpu.blocks)
        #expect(driver.log.contains { if case .prefixLoaded = $0.outcome { true } else { false } })
        let ended = Set(
            driver.log.compactMap { entry -> RequestID? in
                if case .completed(let id) = entry.outcome { return id }
                if case .rejected(let id) = entry.outcome { return id }
                return nil
            })
        #expect(ended.count + aborts.count >= 120)
    }

    /// A request aborted while its prefix is loading gives its blocks back at once; the load's end finds nothing.
    @Test func anAbortDuringALoadFreesItsBlocks() {
        var driver = OffloadDriver(kvBlocks: 200, offload: Self.tier)
        driver.run(Self.fillEvictReturn, aborts: [(.seconds(2) + .milliseconds(5), RequestID(2))])
        #expect(driver.log.contains { $0.outcome == .prefixLoaded(RequestID(2), tokens: 1_600) })
        #expect(driver.time(of: .firstToken(RequestID(2))) == nil)
        #expect(driver.engine.kvCache.heldBlocks == 0)
        #expect(driver.violations.isEmpty)
    }

    /// The precise prefix index (what `cachedPrefixBlocks` answers) sees the CPU tier after the GPU, each CPU
    /// block weighed 0.8 as llm-d's indexer does; without a tier the answer is the GPU's alone.
    @Test func thePreciseIndexCountsCPUTierBlocks() {
        var withTier = OffloadDriver(kvBlocks: 200, offload: Self.tier)
        withTier.run(Array(Self.fillEvictReturn.prefix(1)))
        var without = OffloadDriver(kvBlocks: 200, offload: nil)
        without.run(Array(Self.fillEvictReturn.prefix(1)))
        // In the GPU cache: 100 blocks either way.
        #expect(withTier.engine.cachedPrefixBlocks(Self.document, limit: 100) == 100)
        #expect(without.engine.cachedPrefixBlocks(Self.document, limit: 100) == 100)
        #expect(withTier.engine.cachedPrefixBlocks(Self.document, limit: 30) == 30)

        withTier.run([(.seconds(1), Self.request(1, input: 3_190, output: 2))])
        without.run([(.seconds(1), Self.request(1, input: 3_190, output: 2))])
        // Evicted from the GPU: the tier's 100 blocks count 80; without a tier nothing is left.
        #expect(withTier.engine.cachedPrefixBlocks(Self.document, limit: 100) == 80)
        #expect(withTier.engine.cachedPrefixBlocks(Self.document, limit: 10) == 8)
        #expect(without.engine.cachedPrefixBlocks(Self.document, limit: 100) == 0)
    }

    /// The tier's own LRU: a full tier drops its least recently used block, and a touch saves one.
    @Test func theTierEvictsItsLeastRecentlyUsedBlock() {
        var tier = CPUOffloadTier(
            spec: KVOffloadSpec(cpuBlocks: 3, bytesPerBlock: 1, loadBytesPerSecond: 1))
        for hash: UInt64 in [1, 2, 3] { tier.store(hash) }
        tier.touch(1)
        tier.store(4)  // evicts 2, the least recently used
        #expect(tier.contains(1) && !tier.contains(2) && tier.contains(3) && tier.contains(4))
        tier.store(3)  // already held: only touched
        tier.store(5)  // evicts 1
        #expect(!tier.contains(1) && tier.contains(3) && tier.contains(4) && tier.contains(5))
        #expect(tier.stores == 5 && tier.evictions == 2 && tier.blocks == 3)
        #expect(tier.conservationViolation() == nil)
    }

    /// Sizes as vLLM's flag gives them: GiB over the replica's KV bytes per block; loads over each GPU's link.
    @Test func theTierIsSizedFromGiBAndTheModelsKVBytes() throws {
        let deployment = ModelDeployment(
            gpu: .h100_80GB, model: try #require(LLMSpec.named("Llama-3.1-8B")), tensorParallelSize: 2)
        let spec = try #require(KVOffloadSpec(gibibytes: 64, deployment: deployment, blockSize: 16))
        // 32 layers × 2 × 8 KV heads × 128 × 2 bytes = 128 KiB a token, 2 MiB a block: 64 GiB hold 32,768.
        #expect(spec.bytesPerBlock == 2 << 20)
        #expect(spec.cpuBlocks == 32_768)
        #expect(spec.loadBytesPerSecond == 2 * 50e9)
        let a100 = ModelDeployment(gpu: .a100_80GB, model: try #require(LLMSpec.named("Llama-3.1-8B")))
        #expect(KVOffloadSpec(gibibytes: 1, deployment: a100, blockSize: 16)?.loadBytesPerSecond == 25e9)
        #expect(KVOffloadSpec(gibibytes: 0.001, deployment: a100, blockSize: 16) == nil)
    }
}
