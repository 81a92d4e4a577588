import Fleet
import Testing

/// Drives one engine without the fleet: arrivals at given times, its single step timer, and the outcomes.
struct EngineDriver {
    let engine: GPUReplica
    var now = SimTime.zero
    var timer: (at: SimTime, timer: ReplicaTimer)?
    var log: [(time: SimTime, outcome: ReplicaOutcome)] = []
    var steps = 0
    /// When each step ended, in order.
    var stepEnds: [SimTime] = []

    init(
        _ settings: EngineSettings, kvBlocks: Int,
        timing: some StepTimingModel = LinearStepTiming(fixed: .milliseconds(5), perTokenNanoseconds: 10_000)
    ) {
        engine = GPUReplica(settings: settings, kvBlocks: kvBlocks, timing: timing)
        engine.setMeasuring(true)
    }

    /// Runs arrivals `(time, request)` (sorted by time) and the engine until it is idle.
    mutating func run(_ arrivals: [(SimTime, ServingRequest)]) {
        var pending = arrivals[...]
        while true {
            if let (time, request) = pending.first, timer == nil || time <= timer!.at {
                pending = pending.dropFirst()
                now = time
                var effects = ReplicaEffects()
                engine.enqueue(request, now: now, effects: &effects)
                record(effects)
            } else if let due = timer {
                timer = nil
                now = due.at
                steps += 1
                stepEnds.append(now)
                var effects = ReplicaEffects()
                engine.fire(due.timer, now: now, effects: &effects)
                record(effects)
            } else {
                return
            }
        }
    }

    private mutating func record(_ effects: ReplicaEffects) {
        for outcome in effects.outcomes { log.append((now, outcome)) }
        for scheduled in effects.timers {
            precondition(timer == nil, "two step timers at once")
            timer = scheduled
        }
    }

    func time(of outcome: ReplicaOutcome) -> SimTime? { log.first { $0.outcome == outcome }?.time }
}

@Suite struct GPUReplicaTests {
    static func request(_ id: Int, input: Int, output: Int, prefix: PromptPrefix? = nil) -> ServingRequest {
        ServingRequest(id: RequestID(id), inputTokens: input, outputTokens: output, prefix: prefix)
    }

    @Test func oneRequestPrefillsThenDecodesOneTokenPerStep() {
        var driver = EngineDriver(EngineSettings(), kvBlocks: 100)
        driver.run([(.zero, Self.request(0, input: 100, output: 10))])
        // Step 0 prefills 100 tokens: 5 ms + 1 ms; then 9 decode steps of 5.01 ms each.
        #expect(driver.time(of: .started(RequestID(0))) == .zero)
        #expect(driver.time(of: .firstToken(RequestID(0))) == .milliseconds(6))
        #expect(driver.time(of: .completed(RequestID(0))) == .milliseconds(6) + SimTime(nanoseconds: 9 * 5_010_000))
        #expect(driver.steps == 10)
        #expect(driver.engine.kvCache.heldBlocks == 0)
        #expect(driver.engine.kvCache.conservationViolation() == nil)
    }

    @Test func decodingSequencesShareSteps() {
        var driver = EngineDriver(EngineSettings(), kvBlocks: 100)
        driver.run([
            (.zero, Self.request(0, input: 10, output: 3)), (.zero, Self.request(1, input: 10, output: 5)),
        ])
        // Request 0 starts step 0 alone (request 1 arrives while it is in flight), so request 1 prefills in
        // step 1 beside request 0's first decode. Completions: request 0 after step 2, request 1 after step 5.
        let step0 = SimTime.milliseconds(5) + SimTime(nanoseconds: 100_000)
        let step1 = SimTime.milliseconds(5) + SimTime(nanoseconds: 110_000)  // 1 decode + 10 prefill tokens
        let step2 = SimTime.milliseconds(5) + SimTime(nanoseconds: 20_000)  // 2 decodes
        let single = SimTime.milliseconds(5) + SimTime(nanoseconds: 10_000)
        #expect(driver.time(of: .firstToken(RequestID(1))) == step0 + step1)
        #expect(driver.time(of: .completed(RequestID(0))) == step0 + step1 + step2)
        #expect(driver.time(of: .completed(RequestID(1))) == step0 + step1 + step2 + single + single + single)
    }

    @Test func chunkedPrefillSplitsALongPromptByTheTokenBudget() {
        var driver = EngineDriver(EngineSettings(maxNumBatchedTokens: 64), kvBlocks: 100)
        driver.run([(.zero, Self.request(0, input: 200, output: 2))])
        // Chunks of 64, 64, 64, 8: the first token comes after the fourth step.
        let chunk = SimTime.milliseconds(5) + SimTime(nanoseconds: 640_000)
        let last = SimTime.milliseconds(5) + SimTime(nanoseconds: 80_000)
        #expect(driver.time(of: .firstToken(RequestID(0))) == chunk + chunk + chunk + last)
    }

    @Test func withoutChunkedPrefillAPromptRunsWholeAndAlone() {
        var driver = EngineDriver(EngineSettings(maxNumBatchedTokens: 64, enableChunkedPrefill: false), kvBlocks: 100)
        driver.run([(.zero, Self.request(0, input: 200, output: 2))])
        #expect(driver.time(of: .firstToken(RequestID(0))) == .milliseconds(5) + SimTime(nanoseconds: 2_000_000))
    }

    @Test func maxNumSeqsOneServesOneRequestAtATime() {
        var driver = EngineDriver(EngineSettings(maxNumSeqs: 1), kvBlocks: 100)
        driver.run([(.zero, Self.request(0, input: 10, output: 4)), (.zero, Self.request(1, input: 10, output: 4))])
        #expect(driver.time(of: .started(RequestID(1)))! >= driver.time(of: .completed(RequestID(0)))!)
    }

    @Test func aSharedPrefixIsServedFromTheCache() {
        var driver = EngineDriver(EngineSettings(), kvBlocks: 1_000)
        let system = PromptPrefix(key: 42, tokens: 2_000)
        driver.run([
            (.zero, Self.request(0, input: 2_100, output: 2, prefix: system)),
            (.seconds(1), Self.request(1, input: 2_100, output: 2, prefix: system)),
        ])
        // 2,000 shared tokens are 125 full blocks of 16; the second request computes only 100 tokens.
        #expect(driver.log.contains { $0.outcome == .prefixHit(RequestID(1), tokens: 2_000) })
        #expect(!driver.log.contains { if case .prefixHit(RequestID(0), _) = $0.outcome { true } else { false } })
        let ttft0 = driver.time(of: .firstToken(RequestID(0)))!
        let ttft1 = driver.time(of: .firstToken(RequestID(1)))! - .seconds(1)
        #expect(ttft0 == .milliseconds(5) + SimTime(nanoseconds: 21_000_000))
        #expect(ttft1 == .milliseconds(5) + SimTime(nanoseconds: 1_000_000))
        #expect(driver.engine.kvCache.prefixHits == 125)
    }

    /// The cached tokens the engine reported for `id`, 0 if none.
    static func hit(_ driver: EngineDriver, _ id: Int) -> Int {
        for entry in driver.log {
            if case .prefixHit(RequestID(id), let tokens) = entry.outcome { return tokens }
        }
        return 0
    }

    /// A session's second turn finds its first turn's prompt and reply in the cache: 1,000 + 200 − 1 tokens
    /// were in KV (the last token's never is), 74 full blocks of 16 = 1,184 tokens. Without
    /// `outputExtendsPrefix` only the first prompt's 62 full blocks (992 tokens) are cached.
    @Test(arguments: [true, false])
    func aSessionsNextTurnReusesThePreviousTurnsPromptAndReply(outputExtends: Bool) {
        var driver = EngineDriver(EngineSettings(), kvBlocks: 1_000)
        driver.run([
            (
                .zero,
                Self.request(
                    0, input: 1_000, output: 200,
                    prefix: PromptPrefix(key: 7, tokens: 1_000, outputExtendsPrefix: outputExtends))
            ),
            (
                .seconds(5),
                Self.request(
                    1, input: 1_500, output: 10,
                    prefix: PromptPrefix(key: 7, tokens: 1_200, outputExtendsPrefix: outputExtends))
            ),
        ])
        #expect(Self.hit(driver, 1) == (outputExtends ? 1_184 : 992))
        #expect(driver.engine.kvCache.conservationViolation() == nil && driver.engine.kvCache.heldBlocks == 0)
    }

    /// Trace hash ids of 40 tokens over engine blocks of 16: requests [1, 2, 3] and [1, 2, 9] share tokens
    /// 0..<80, so blocks 0–4 (whose last tokens, 15…79, lie in the shared trace blocks); block 5 ends at token
    /// 95, in trace block 2, which differs. A prompt whose first hash differs shares nothing after it either.
    @Test func traceHashIdsAreSharedUpToTheFirstDifferentBlock() {
        var driver = EngineDriver(EngineSettings(), kvBlocks: 1_000)
        driver.run([
            (
                .zero,
                Self.request(0, input: 120, output: 2, prefix: PromptPrefix(hashes: [1, 2, 3], tokensPerHash: 40))
            ),
            (
                .seconds(1),
                Self.request(1, input: 120, output: 2, prefix: PromptPrefix(hashes: [1, 2, 9], tokensPerHash: 40))
            ),
            (
                .seconds(2),
                Self.request(2, input: 120, output: 2, prefix: PromptPrefix(hashes: [5, 2, 3], tokensPerHash: 40))
            ),
            (
                .seconds(3),
                Self.request(3, input: 120, output: 2, prefix: PromptPrefix(hashes: [1, 2, 3], tokensPerHash: 40))
            ),
        ])
        #expect(Self.hit(driver, 1) == 80)
        #expect(Self.hit(driver, 2) == 0)
        // The same hashes again: every full block of the 120-token prompt but the last token's (7 blocks).
        #expect(Self.hit(driver, 3) == 112)
    }

    @Test func aFullCachePreemptsTheNewestAndEveryoneFinishes() {
        // 12 blocks of 16 tokens; two requests of 64 + 100 tokens cannot both hold their KV.
        var driver = EngineDriver(EngineSettings(), kvBlocks: 12)
        driver.run([(.zero, Self.request(0, input: 64, output: 100)), (.zero, Self.request(1, input: 64, output: 100))])
        #expect(driver.engine.preemptions > 0)
        #expect(driver.log.contains { $0.outcome == .preempted(RequestID(1)) })
        #expect(driver.time(of: .completed(RequestID(0))) != nil)
        #expect(driver.time(of: .completed(RequestID(1))) != nil)
        #expect(driver.engine.kvCache.heldBlocks == 0)
        #expect(driver.engine.kvCache.conservationViolation() == nil)
    }

    /// Random loads on small caches over 300 seeds: every request starts, gets its first token, completes
    /// exactly once, in that order; the KV cache ends empty and conserved.
    @Test(arguments: 0..<300)
    func everyRequestCompletesOnceAndBlocksAreConserved(seed: Int) {
        let stream = RandomStream(name: "test/engine", runSeed: UInt64(seed))
        let chunked = stream.uniform() < 0.8
        let settings = EngineSettings(
            maxNumSeqs: 1 + stream.integer(below: 8), maxNumBatchedTokens: 64 + stream.integer(below: 200),
            blockSize: [4, 16][stream.integer(below: 2)], enablePrefixCaching: stream.uniform() < 0.7,
            enableChunkedPrefill: chunked)
        let count = 1 + stream.integer(below: 30)
        var time = SimTime.zero
        var arrivals: [(SimTime, ServingRequest)] = []
        for id in 0..<count {
            time += .milliseconds(Int64(stream.integer(below: 20)))
            let input = 1 + stream.integer(below: chunked ? 300 : settings.maxNumBatchedTokens)
            let prefix: PromptPrefix? =
                switch stream.integer(below: 4) {
                case 0: PromptPrefix(key: UInt64(stream.integer(below: 3)), tokens: 48)
                case 1:
                    PromptPrefix(
                        key: UInt64(stream.integer(below: 3)), tokens: 32 + stream.integer(below: 64),
                        outputExtendsPrefix: true)
                case 2:
                    PromptPrefix(
                        hashes: (0..<stream.integer(below: 5)).map { _ in UInt64(stream.integer(below: 3)) },
                        tokensPerHash: 24)
                default: nil
                }
            arrivals.append(
                (time, Self.request(id, input: input, output: 1 + stream.integer(below: 40), prefix: prefix)))
        }
        let largest = arrivals.map { $0.1.inputTokens + $0.1.outputTokens }.max()!
        var driver = EngineDriver(
            settings, kvBlocks: (largest + settings.blockSize - 1) / settings.blockSize + stream.integer(below: 20))
        driver.run(arrivals)
        for id in 0..<count {
            let mine = driver.log.filter { entry in
                switch entry.outcome {
                case .started(let r), .firstToken(let r), .completed(let r): r.index == id
                default: false
                }
            }.map(\.outcome)
            let expected: [ReplicaOutcome] = [
                .started(RequestID(id)), .firstToken(RequestID(id)), .completed(RequestID(id)),
            ]
            #expect(mine == expected, "seed \(seed) request \(id): \(mine)")
        }
        #expect(driver.engine.kvCache.heldBlocks == 0, "seed \(seed)")
        #expect(driver.engine.kvCache.conservationViolation() == nil, "seed \(seed)")
        checkInterTokenLatencies(driver, arrivals.map(\.1), seed: seed)
    }

    /// Every output token after a request's first has exactly one inter-token latency, and a request's add up
    /// to its last token minus its first: so the samples' token count is Σ(output − 1) and their
    /// token-weighted sum is Σ(end − first token), preemptions and prefill-only steps included. Without
    /// preemption and with chunked prefill every step decodes every decoding sequence, so a request's tokens
    /// are its first token and every step end after it: its max ITL is the longest gap between those.
    func checkInterTokenLatencies(_ driver: EngineDriver, _ requests: [ServingRequest], seed: Int) {
        let stats = driver.engine.interTokenLatencies()!
        var expectedTokens = 0
        var expectedSum: Int64 = 0
        for request in requests {
            let first = driver.time(of: .firstToken(request.id))!, end = driver.time(of: .completed(request.id))!
            expectedTokens += request.outputTokens - 1
            expectedSum += (end - first).nanoseconds
            let reported = driver.log.compactMap { entry -> SimTime? in
                if case .maxInterTokenLatency(request.id, let latency) = entry.outcome { return latency }
                return nil
            }
            #expect(reported.count == (request.outputTokens > 1 ? 1 : 0), "seed \(seed) request \(request.id)")
            guard driver.engine.preemptions == 0, driver.engine.settings.enableChunkedPrefill,
                let maxITL = reported.first
            else { continue }
            let tokenTimes = [first] + driver.stepEnds.filter { $0 > first && $0 <= end }
            let oracle = zip(tokenTimes.dropFirst(), tokenTimes).map { $0 - $1 }.max()!
            #expect(maxITL == oracle, "seed \(seed) request \(request.id)")
        }
        #expect(stats.tokens == Int64(expectedTokens), "seed \(seed)")
        #expect(stats.totalNanoseconds == expectedSum, "seed \(seed)")
        #expect(stats.histogram.totalCount == UInt64(expectedTokens), "seed \(seed)")
    }

    @Test func aRequestLargerThanTheWholeCacheIsRejectedAndOthersAreServed() {
        // 10 blocks of 16 tokens hold 160 tokens: 150 + 20 can never fit, 100 + 20 can.
        var driver = EngineDriver(EngineSettings(), kvBlocks: 10)
        driver.run([(.zero, Self.request(0, input: 150, output: 20)), (.zero, Self.request(1, input: 100, output: 20))])
        #expect(driver.time(of: .rejected(RequestID(0))) == .zero)
        #expect(driver.time(of: .started(RequestID(0))) == nil)
        #expect(driver.time(of: .completed(RequestID(1))) != nil)
        #expect(driver.engine.kvCache.heldBlocks == 0)
    }

    @Test func oneRequestsInterTokenLatenciesAreItsDecodeSteps() {
        var driver = EngineDriver(EngineSettings(), kvBlocks: 100)
        driver.run([(.zero, Self.request(0, input: 100, output: 10))])
        // 9 decode steps of 5 ms + 1 token × 10 µs: nine tokens, each 5.01 ms after the one before.
        let step = SimTime(nanoseconds: 5_010_000)
        let stats = driver.engine.interTokenLatencies()!
        #expect(stats.tokens == 9 && stats.totalNanoseconds == 9 * step.nanoseconds)
        #expect(stats.maxNanoseconds == step.nanoseconds)
        // The histogram keeps three significant digits: the median is 5.01 ms to within 0.1%.
        #expect(abs(stats.quantileNanoseconds(0.5) - 5_010_000) <= 5_010)
        #expect(driver.time(of: .maxInterTokenLatency(RequestID(0), step)) != nil)
    }

    @Test func aLongPrefillChunkStallsTheDecodersItIsBatchedWith() {
        var driver = EngineDriver(EngineSettings(), kvBlocks: 1_000)
        // Request 1's 2,000-token prompt joins request 0's decode in one mixed step of 1 + 2,000 tokens:
        // 5 ms + 2,001 × 10 µs = 25.01 ms, request 0's longest gap; its other steps take 5.01 ms.
        driver.run([
            (.zero, Self.request(0, input: 10, output: 50)),
            (.milliseconds(50), Self.request(1, input: 2_000, output: 5)),
        ])
        #expect(driver.time(of: .maxInterTokenLatency(RequestID(0), SimTime(nanoseconds: 25_010_000))) != nil)
        let stats = driver.engine.interTokenLatencies()!
        #expect(stats.maxNanoseconds == 25_010_000)
        #expect(stats.histogram.countForValue(25_010_000) >= 1)
        #expect(stats.histogram.countForValue(5_010_000) >= 40)
    }

    @Test func aPreemptedRequestsGapSpansItsRecompute() throws {
        var driver = EngineDriver(EngineSettings(), kvBlocks: 12)
        driver.run([(.zero, Self.request(0, input: 64, output: 100)), (.zero, Self.request(1, input: 64, output: 100))])
        let maxITL = driver.log.compactMap { entry -> SimTime? in
            if case .maxInterTokenLatency(RequestID(1), let latency) = entry.outcome { return latency }
            return nil
        }
        // Request 1 waits while request 0 runs on alone: far longer than any single step (< 10 ms here).
        #expect(try #require(maxITL.first) > .milliseconds(100))
    }
}
