import DequeModule
import HeapModule

/// A vLLM-style inference engine on one replica: iteration-level continuous batching with chunked prefill,
/// a paged KV cache with automatic prefix caching, and preemption by recompute.
///
/// Each engine step decodes one token for every decoding sequence and spends the rest of the
/// `max-num-batched-tokens` budget on prefill chunks, first of sequences already prefilling, then of newly
/// admitted ones (first come, first served, within `max-num-seqs`). The step's duration comes from the
/// timing model. Decode progress is implicit: a sequence's tokens follow from the step it joined, so a step
/// costs O(prefill chunks + completions), not O(batch): completions come from a heap keyed by iteration,
/// and KV growth from per-class counts (see `boundaryClassCounts`).
public final class GPUReplica: ReplicaModel {
    public let kind = ReplicaKind.gpu.rawValue
    public var capacity: Int { 1 }

    public let settings: EngineSettings
    private let timing: any StepTimingModel
    private var cache: PagedKVCache

    private var sequences: [EngineSequence] = []
    private var freeSlots: [Int] = []
    private var slotOfRequest: [RequestID: Int] = [:]
    private var waiting = Deque<Int>()
    private var prefilling: [Int] = []
    /// Completions: `iteration << 24 | slot`, validated against the slot when popped.
    private var finishing = Heap<UInt64>()
    /// Decoding sequences by `(join iteration − prompt) mod block-size`: those in class `d mod B` need one
    /// more KV block at decode iteration `d`, so a step's block growth is one look-up, not a scan.
    private var boundaryClassCounts: [Int]
    /// The last decode iteration whose KV growth has been allocated.
    private var allocatedIteration: Int64 = -1

    /// Steps started so far; the step in flight, if any, is number `step`.
    private var step: Int64 = 0
    /// Decode iterations completed; decode progress is counted in these (a prefill-only step, possible with
    /// chunked prefill off, does not advance decoding sequences).
    private var decodeStep: Int64 = 0
    private var stepHasDecode = false
    private var preemptedDuringBuild = false
    /// Requests preempted while building the current step, reported with the step's start.
    private var preemptedRequests: [RequestID] = []
    private var stepInFlight = false
    /// Prefill chunks of the step in flight: (slot, tokens).
    private var chunks: [(slot: Int, tokens: Int)] = []
    private var decodingCount = 0
    /// Σ over decoding sequences of `(KV tokens at join) − (join iteration) + 1`; their context at decode
    /// iteration d is this plus `decodingCount × d`.
    private var decodeContextBase: Int64 = 0
    private var admissions: Int64 = 0

    /// When the last decode iteration ended, in ns (-1 before the first).
    private var lastIterationEnd: Int64 = -1
    /// Suffix maxima of the iteration gaps (end of iteration d − end of iteration d−1): gaps strictly
    /// decrease along the stack, so the longest gap since iteration `a` is the first entry at or after
    /// `a`. A sequence's max ITL is one binary search at its end instead of a per-step update.
    private var gapMaxima: [(iteration: Int64, gap: Int64)] = []
    /// Sequences that join decoding at the next decode iteration; their first decode token's latency is
    /// measured from their own prefill token, not from the previous iteration.
    private var joiners: [(slot: Int, request: RequestID)] = []
    /// Sequences whose prompt's KV came from a prefill replica and that join decoding at the next decode
    /// iteration: its end is their first token (disaggregated serving).
    private var transferredJoiners: [(slot: Int, request: RequestID)] = []
    /// Sequences ready to decode that joined between steps (a transfer arrived, or a held prefill resumed here);
    /// they join the batch when the next step is built, while `max-num-seqs` allows.
    private var pendingJoins = Deque<Int>()
    /// Prefill-only sequences whose prompt is done and whose KV is held for a transfer (not running).
    private var holdingCount = 0
    /// Transferred sequences whose first token the iteration that just ended produced.
    private var firstTokensThisIteration = 0
    private var measuring = false
    private var latencies = InterTokenLatencyStats()

    /// Preemptions so far (recompute).
    public private(set) var preemptions = 0
    private var lastChange = SimTime.zero
    private var integralsSoFar = ReplicaIntegrals()

    /// LoRA adapters on the GPUs; nil when the replica serves the base model only (then no step reads it).
    private var adapters: LoRAAdapterSlots?
    /// The CPU tier of KV blocks, if the engine has one (see `CPUOffloadTier`).
    private var offload: CPUOffloadTier?
    /// Loads from the CPU tier started so far; a loading sequence holds its load's number.
    private var loads: Int64 = 0

    private static let stepTimer: UInt32 = 1
    /// An adapter's load ended; its token is the load's number.
    private static let loraLoadTimer: UInt32 = 2
    /// A load of KV blocks from the CPU tier ended; its token is `load << 24 | slot`.
    private static let kvLoadTimer: UInt32 = 3
    private static let slotBits: UInt64 = 24

    /// Creates an engine with `kvBlocks` KV blocks, timed by `timing`, serving LoRA adapters if `lora` is set, with
    /// a CPU tier of KV blocks if `offload` is.
    public init(
        settings: EngineSettings, kvBlocks: Int, timing: any StepTimingModel, lora: LoRASettings? = nil,
        offload: KVOffloadSpec? = nil
    ) {
        self.settings = settings
        self.timing = timing
        self.cache = PagedKVCache(totalBlocks: kvBlocks, blockSize: settings.blockSize)
        self.boundaryClassCounts = Array(repeating: 0, count: settings.blockSize)
        self.adapters = lora.map(LoRAAdapterSlots.init)
        self.offload = offload.map(CPUOffloadTier.init(spec:))
    }

    /// The KV cache (read-only view, for gauges and invariant checks).
    public var kvCache: PagedKVCache { cache }
    /// The CPU tier of KV blocks (read-only view); nil without one.
    public var offloadTier: CPUOffloadTier? { offload }

    // MARK: ReplicaModel

    public func enqueue(_ request: ServingRequest, now: SimTime, effects: inout ReplicaEffects) {
        advance(to: now)
        // A sequence whose prompt and output can never fit in the whole cache would be preempted forever;
        // vLLM refuses such a request up front (it exceeds the model length the cache can hold).
        // A request for an adapter the replica cannot serve (LoRA off) is refused, as vLLM answers an unknown model.
        guard cache.blocks(forTokens: max(1, request.inputTokens) + max(1, request.outputTokens)) <= cache.totalBlocks,
            request.adapter < 0 || adapters != nil
        else {
            effects.report(.rejected(request.id))
            return
        }
        let slot =
            freeSlots.popLast()
            ?? {
                sequences.append(EngineSequence()); return sequences.count - 1
            }()
        sequences[slot] = EngineSequence(request: request)
        slotOfRequest[request.id] = slot
        waiting.append(slot)
        if request.adapter >= 0 {
            assert(!request.prefillOnly, "LoRA adapters with disaggregation are not modeled (the loader refuses them)")
            adapters!.joinedWaiting(request.adapter)
        }
        if !stepInFlight { startStep(now: now, effects: &effects) }
    }

    public func fire(_ timer: ReplicaTimer, now: SimTime, effects: inout ReplicaEffects) {
        if timer.code == Self.loraLoadTimer {
            loadFinished(timer, now: now, effects: &effects)
            return
        }
        if timer.code == Self.kvLoadTimer {
            advance(to: now)
            finishLoad(timer.token)
            if !stepInFlight { startStep(now: now, effects: &effects) }
            return
        }
        precondition(
            timer.code == Self.stepTimer && Int64(timer.token) == step && stepInFlight, "stale step timer")
        advance(to: now)
        finishStep(now: now, effects: &effects)
        step += 1
        stepInFlight = false
        startStep(now: now, effects: &effects)
    }

    public func abort(_ request: RequestID, now: SimTime, effects: inout ReplicaEffects) -> Bool {
        advance(to: now)
        guard let slot = slotOfRequest[request] else { return false }
        switch sequences[slot].state {
        case .waiting:
            sequences[slot].state = .abortedWaiting  // skipped when it reaches the queue's front
            if sequences[slot].adapter >= 0 { adapters!.leftWaiting(sequences[slot].adapter) }
        case .prefilling, .decoding, .reserved: release(slot)
        case .holding:
            holdingCount -= 1
            release(slot)
        case .arrived:
            pendingJoins.removeAll { $0 == slot }
            release(slot)
        case .free, .abortedWaiting: return false
        }
        slotOfRequest[request] = nil
        return true
    }

    public func gauges(now: SimTime) -> ReplicaGauges {
        ReplicaGauges(
            numRequestsWaiting: waitingCount, numRequestsRunning: runningCount,
            kvCacheUsagePerc: cache.usage, lora: adapters?.info)
    }

    public func integrals(now: SimTime) -> ReplicaIntegrals {
        advance(to: now)
        return integralsSoFar
    }

    public var countsTokens: Bool { true }
    public var kvCacheBlocks: Int? { cache.totalBlocks }
    public var prefixBlockSize: Int? { settings.enablePrefixCaching ? settings.blockSize : nil }

    public func cachedPrefixBlocks(_ prefix: PromptPrefix, limit: Int) -> Int {
        guard settings.enablePrefixCaching else { return 0 }
        let blocks = min(limit, prefix.tokens / settings.blockSize)
        var matched = 0
        while matched < blocks && cache.isCached(prefix.blockHash(matched, blockSize: settings.blockSize)) {
            matched += 1
        }
        guard let offload else { return matched }
        // vLLM emits KV events for the CPU medium too, so an index fed by them sees the tier's blocks after the
        // GPU's. llm-d's KV-cache indexer weighs a block by its tier (`kvCacheBackendConfigs`: gpu 1.0, cpu 0.8):
        // a CPU block costs a load. The view counts whole blocks, so the CPU part is rounded down.
        var inCPU = 0
        while matched + inCPU < blocks
            && offload.contains(prefix.blockHash(matched + inCPU, blockSize: settings.blockSize))
        {
            inCPU += 1
        }
        return matched + inCPU * 4 / 5
    }
    public func setMeasuring(_ measuring: Bool) { self.measuring = measuring }
    public func restart(now: SimTime) {
        cache.evictAllCached()
        adapters?.unloadAll()
        offload?.removeAll()
    }
    public func interTokenLatencies() -> InterTokenLatencyStats? { latencies }

    // MARK: Disaggregated serving

    public func releaseTransferred(_ request: RequestID, now: SimTime) {
        advance(to: now)
        guard let slot = slotOfRequest[request], sequences[slot].state == .holding else { return }
        holdingCount -= 1
        slotOfRequest[request] = nil
        release(slot)  // its prefix blocks stay cached here, reusable
    }

    public func decodeHeld(_ request: RequestID, now: SimTime, effects: inout ReplicaEffects) {
        advance(to: now)
        guard let slot = slotOfRequest[request], sequences[slot].state == .holding else { return }
        holdingCount -= 1
        sequences[slot].prefillOnly = false
        sequences[slot].generated += 1
        integralsSoFar.generationTokens += 1
        sequences[slot].lastTokenAt = now.nanoseconds
        sequences[slot].firstTokenReported = true
        effects.report(.firstToken(request))
        if sequences[slot].generated >= sequences[slot].output {
            complete(slot, effects: &effects)
        } else {
            sequences[slot].state = .arrived
            pendingJoins.append(slot)
        }
        if !stepInFlight { startStep(now: now, effects: &effects) }
    }

    public func canEverHold(_ request: ServingRequest) -> Bool {
        cache.blocks(forTokens: max(1, request.inputTokens) + max(1, request.outputTokens)) <= cache.totalBlocks
    }

    public func reserve(_ request: ServingRequest, now: SimTime) -> Int? {
        precondition(request.adapter < 0, "LoRA adapters with disaggregation are not modeled (the loader refuses them)")
        advance(to: now)
        let prompt = max(1, request.inputTokens)
        guard canEverHold(request) else { return nil }
        var sequence = EngineSequence(request: request)
        if settings.enablePrefixCaching, let prefix = request.prefix {
            // Blocks already here need not cross the link (the connector loads only what is missing).
            acquireCachedPrefix(
                prefix, blocks: min(prefix.tokens, prompt) / settings.blockSize, into: &sequence.identity)
            integralsSoFar.prefixCacheQueries += Int64(prompt)
            integralsSoFar.prefixCacheHits += Int64(sequence.identity.count * settings.blockSize)
        }
        let needed = cache.blocks(forTokens: prompt) - sequence.identity.count
        guard cache.allocate(needed) else {
            cache.release(sequence.identity)
            return nil
        }
        sequence.anonymous = needed
        sequence.nextPublish = sequence.identity.count
        sequence.state = .reserved
        let slot =
            freeSlots.popLast()
            ?? {
                sequences.append(EngineSequence()); return sequences.count - 1
            }()
        sequences[slot] = sequence
        slotOfRequest[request.id] = slot
        return sequence.identity.count * settings.blockSize
    }

    public func receive(_ request: RequestID, now: SimTime, effects: inout ReplicaEffects) {
        advance(to: now)
        guard let slot = slotOfRequest[request], sequences[slot].state == .reserved else { return }
        sequences[slot].computed = sequences[slot].prompt
        sequences[slot].started = true
        publishPrefixBlocks(slot)
        sequences[slot].state = .arrived
        pendingJoins.append(slot)
        if !stepInFlight { startStep(now: now, effects: &effects) }
    }

    /// The end of a decode iteration is the first token of the transferred sequences that joined at it.
    private func reportTransferredFirstTokens(now: SimTime, effects: inout ReplicaEffects) {
        for (slot, request) in transferredJoiners
        where sequences[slot].request == request && sequences[slot].state == .decoding
            && sequences[slot].joinStep == decodeStep
        {
            sequences[slot].firstTokenReported = true
            sequences[slot].lastTokenAt = now.nanoseconds
            effects.report(.firstToken(request))
            firstTokensThisIteration += 1
        }
        transferredJoiners.removeAll(keepingCapacity: true)
    }

    // MARK: Steps

    private var runningCount: Int { prefilling.count + decodingCount }
    private var waitingCount: Int { slotOfRequest.count - runningCount - holdingCount }

    /// Builds the next step from the current state and schedules its end; stays idle when there is no work.
    private func startStep(now: SimTime, effects: inout ReplicaEffects) {
        chunks.removeAll(keepingCapacity: true)
        preemptedDuringBuild = false
        while !pendingJoins.isEmpty && runningCount < settings.maxNumSeqs {
            joinDecoding(pendingJoins.removeFirst())
        }
        // Without chunked prefill a step is either prefill-only (admitting whole prompts) or decode-only.
        let prefillOnly = !settings.enableChunkedPrefill && canAdmitNext()
        stepHasDecode = false
        if !prefillOnly && decodingCount > 0 {
            allocateBoundaryBlocks()
            stepHasDecode = decodingCount > 0
        }
        var budget = settings.maxNumBatchedTokens - (stepHasDecode ? decodingCount : 0)

        // Sequences already prefilling keep going, oldest first.
        var index = 0
        while settings.enableChunkedPrefill && index < prefilling.count && budget > 0 {
            let slot = prefilling[index]
            if sequences[slot].load != 0 {  // its prefix is still coming from the CPU tier
                index += 1
                continue
            }
            let planned = min(sequences[slot].prompt - sequences[slot].computed, budget)
            if grow(slot, toTokens: sequences[slot].computed + planned) {
                chunks.append((slot, planned))
                budget -= planned
            }
            if sequences[slot].state == .prefilling { index += 1 }  // else it was preempted and left the list
        }
        // Then admit waiting sequences, first come first served, while they fit. A sequence whose LoRA adapter is
        // not loaded is passed over and keeps its place (vLLM skips it and puts it back at the queue's head).
        if adapters != nil { startLoadIfNeeded(now: now, effects: &effects) }
        var position = 0
        while (settings.enableChunkedPrefill || prefillOnly) && budget > 0 && !preemptedDuringBuild
            && runningCount < settings.maxNumSeqs && position < waiting.count
        {
            let slot = waiting[position]
            if sequences[slot].state == .abortedWaiting {
                removeWaiting(at: position)
                release(slot)
                continue
            }
            let adapter = sequences[slot].adapter
            if adapter >= 0 && !adapters!.isLoaded(adapter) {
                position += 1
                continue
            }
            guard let planned = admit(slot, budget: budget, alone: chunks.isEmpty, now: now, effects: &effects)
            else { break }
            removeWaiting(at: position)
            if adapter >= 0 { adapters!.admitted(adapter) }
            if !sequences[slot].started {
                sequences[slot].started = true
                effects.report(.started(sequences[slot].request))
            }
            if sequences[slot].computed > 0 {
                effects.report(.prefixHit(sequences[slot].request, tokens: sequences[slot].computed))
            }
            if planned > 0 {  // zero: admitted to load its prefix from the CPU tier first
                chunks.append((slot, planned))
                budget -= planned
            }
        }

        for request in preemptedRequests { effects.report(.preempted(request)) }
        preemptedRequests.removeAll(keepingCapacity: true)

        var shape = StepShape()
        for (slot, tokens) in chunks {
            let before = Double(sequences[slot].computed)
            shape.prefillTokens += tokens
            shape.prefillAttentionPairs += Double(tokens) * (before + Double(tokens) / 2)
        }
        if stepHasDecode {
            shape.decodeSequences = decodingCount
            shape.decodeContextTokens = Int(decodeContextBase + Int64(decodingCount) * decodeStep)
        }
        assert(invariantViolation(shape) == nil, invariantViolation(shape) ?? "")
        guard shape.batchTokens > 0 else { return }
        stepInFlight = true
        var duration = timing.stepDuration(shape)
        if let adapters {
            duration =
                duration
                + SimTime(
                    nanoseconds: adapters.settings.stepCostPerAdapter.nanoseconds * Int64(adapters.distinctRunning))
        }
        effects.schedule(ReplicaTimer(code: Self.stepTimer, token: UInt64(step)), at: now + duration)
    }

    /// Removes the waiting sequence at `position` (the front, unless sequences before it wait for their adapter).
    private func removeWaiting(at position: Int) {
        if position == 0 { waiting.removeFirst() } else { waiting.remove(at: position) }
    }

    // MARK: LoRA adapters

    /// With no load in flight, starts loading the adapter of the first waiting sequence whose adapter is not
    /// held, if a slot is free or can be freed.
    private func startLoadIfNeeded(now: SimTime, effects: inout ReplicaEffects) {
        guard adapters != nil, !adapters!.loadInFlight, let target = adapters!.slotForLoad() else { return }
        for slot in waiting
        where sequences[slot].adapter >= 0 && sequences[slot].state == .waiting
            && !adapters!.isResident(sequences[slot].adapter)
        {
            adapters!.startLoad(sequences[slot].adapter, into: target)
            effects.schedule(
                ReplicaTimer(code: Self.loraLoadTimer, token: UInt64(adapters!.loadsStarted - 1)),
                at: now + adapters!.settings.loadTime)
            return
        }
    }

    /// An adapter's load ended: its sequences may join the next step, and the next load may start.
    private func loadFinished(_ timer: ReplicaTimer, now: SimTime, effects: inout ReplicaEffects) {
        advance(to: now)
        // A restart forgets the load in flight; its timer still fires, and is ignored.
        guard adapters!.loadInFlight, Int64(timer.token) == adapters!.loadsStarted - 1 else { return }
        adapters!.finishLoad()
        integralsSoFar.loraLoads += 1
        if stepInFlight {
            startLoadIfNeeded(now: now, effects: &effects)
        } else {
            startStep(now: now, effects: &effects)
        }
    }

    /// The adapters held, by slot (-1 for a free slot), loaded or loading; empty without LoRA.
    public var heldAdapters: [Int32] { adapters?.held ?? [] }

    /// Whether `adapter` is loaded on the replica's GPUs.
    public func isAdapterLoaded(_ adapter: Int32) -> Bool { adapters?.isLoaded(adapter) ?? false }

    /// Whether the head of the queue could be admitted now (used to choose a prefill-only step).
    private func canAdmitNext() -> Bool {
        while let slot = waiting.first, sequences[slot].state == .abortedWaiting {
            waiting.removeFirst()
            release(slot)
        }
        // With LoRA, the first sequence whose adapter is loaded (aborted ones further back count as not ready).
        let head =
            adapters == nil
            ? waiting.first
            : waiting.first { slot in
                sequences[slot].state == .waiting
                    && (sequences[slot].adapter < 0 || adapters!.isLoaded(sequences[slot].adapter))
            }
        guard let slot = head, runningCount < settings.maxNumSeqs else { return false }
        return cache.availableBlocks >= cache.blocks(forTokens: sequences[slot].prompt)
    }

    /// Applies the end of the step in flight: completions of decoding sequences, prefill progress, first tokens.
    private func finishStep(now: SimTime, effects: inout ReplicaEffects) {
        if stepHasDecode {
            if !transferredJoiners.isEmpty { reportTransferredFirstTokens(now: now, effects: &effects) }
            recordIterationLatencies(now: now)
            while let top = finishing.min, top >> Self.slotBits <= UInt64(decodeStep) {
                _ = finishing.removeMin()
                let slot = Int(top & ((1 << Self.slotBits) - 1))
                guard sequences[slot].state == .decoding, sequences[slot].finishStep == Int64(top >> Self.slotBits)
                else { continue }
                complete(slot, effects: &effects)
            }
            decodeStep += 1
        }
        for (slot, tokens) in chunks where sequences[slot].state == .prefilling {
            integralsSoFar.promptTokens += Int64(tokens)
            sequences[slot].computed += tokens
            publishPrefixBlocks(slot)
            if sequences[slot].computed == sequences[slot].prompt {
                sampleAfterPrefill(slot, now: now, effects: &effects)
            }
        }
    }

    /// The prompt is in KV: the step sampled a token. Complete, or start decoding from the next step.
    private func sampleAfterPrefill(_ slot: Int, now: SimTime, effects: inout ReplicaEffects) {
        prefilling.removeAll { $0 == slot }
        if sequences[slot].prefillOnly {
            // A prefill replica's part ends here: its KV stays until the transfer has read it.
            sequences[slot].state = .holding
            holdingCount += 1
            effects.report(.prefilled(sequences[slot].request))
            return
        }
        sequences[slot].generated += 1
        integralsSoFar.generationTokens += 1
        if sequences[slot].lastTokenAt >= 0 {  // resuming after a preemption: the gap spans the recompute
            observe(slot, gap: now.nanoseconds - sequences[slot].lastTokenAt, at: now)
        }
        sequences[slot].lastTokenAt = now.nanoseconds
        if !sequences[slot].firstTokenReported {
            sequences[slot].firstTokenReported = true
            effects.report(.firstToken(sequences[slot].request))
        }
        if sequences[slot].generated >= sequences[slot].output {
            complete(slot, effects: &effects)
            return
        }
        joinDecoding(slot)
    }

    /// The sequence, its prompt in KV, decodes from the next decode iteration.
    private func joinDecoding(_ slot: Int) {
        let join = decodeStep  // the next decode iteration
        let kv = Int64(sequences[slot].prompt)
        sequences[slot].state = .decoding
        sequences[slot].joinStep = join
        sequences[slot].finishStep = join + Int64(sequences[slot].output - sequences[slot].generated) - 1
        decodingCount += 1
        decodeContextBase += kv - join + 1
        finishing.insert(UInt64(sequences[slot].finishStep) << Self.slotBits | UInt64(slot))
        if sequences[slot].firstTokenReported {
            joiners.append((slot, sequences[slot].request))
        } else {
            transferredJoiners.append((slot, sequences[slot].request))
        }
        let blockSize = Int64(settings.blockSize)
        sequences[slot].boundaryClass = Int(((join - kv) % blockSize + blockSize) % blockSize)
        boundaryClassCounts[sequences[slot].boundaryClass] += 1
    }

    private func complete(_ slot: Int, effects: inout ReplicaEffects) {
        if sequences[slot].state == .decoding { closeDecodePhase(slot) }
        publishOutputBlocks(slot)
        if sequences[slot].originalOutput > 1 {
            effects.report(
                .maxInterTokenLatency(
                    sequences[slot].request, SimTime(nanoseconds: sequences[slot].maxInterTokenLatency)))
        }
        effects.report(.completed(sequences[slot].request))
        slotOfRequest[sequences[slot].request] = nil
        release(slot)
    }

    // MARK: Admission, growth, preemption

    /// Admits the waiting sequence `slot` with a first chunk of at most `budget` tokens, reusing cached
    /// prefix blocks and taking only available blocks (admission never preempts). Returns the chunk, or nil
    /// (leaving the sequence waiting) when it does not fit. Without chunked prefill the whole prompt must
    /// fit, except that a prompt larger than the budget may run alone. With a CPU tier that holds the next prefix
    /// blocks, the sequence is admitted to load them first and the chunk is 0.
    private func admit(_ slot: Int, budget: Int, alone: Bool, now: SimTime, effects: inout ReplicaEffects) -> Int? {
        var shareable = 0
        if settings.enablePrefixCaching, let prefix = sequences[slot].prefix {
            shareable = min(prefix.tokens, sequences[slot].prompt - 1) / settings.blockSize
            acquireCachedPrefix(prefix, blocks: shareable, into: &sequences[slot].identity)
        }
        let hits = sequences[slot].identity.count
        if offload != nil, hits < shareable, let prefix = sequences[slot].prefix,
            admitLoading(slot, prefix, gpuHits: hits, shareable: shareable, now: now, effects: &effects)
        {
            return 0
        }
        sequences[slot].nextPublish = hits
        let computed = hits * settings.blockSize
        let remaining = sequences[slot].prompt - computed
        let fits = (hits + cache.availableBlocks) * settings.blockSize - computed
        let planned =
            settings.enableChunkedPrefill
            ? min(remaining, budget, fits)
            : (remaining <= fits && (remaining <= budget || alone) ? remaining : 0)
        guard planned > 0 else {
            cache.release(sequences[slot].identity)
            sequences[slot].identity.removeAll()
            return nil
        }
        if shareable > hits { cache.recordMiss(count: shareable - hits - 1) }
        sequences[slot].computed = computed
        sequences[slot].cachedTokens = max(sequences[slot].cachedTokens, computed)
        if settings.enablePrefixCaching {
            integralsSoFar.prefixCacheQueries += Int64(sequences[slot].prompt)
            integralsSoFar.prefixCacheHits += Int64(computed)
            if offload != nil { integralsSoFar.externalPrefixCacheQueries += Int64(sequences[slot].prompt) }
        }
        sequences[slot].state = .prefilling
        sequences[slot].admittedAt = admissions
        admissions += 1
        prefilling.append(slot)
        let granted = grow(slot, toTokens: computed + planned)
        precondition(granted, "admission took more blocks than were available")
        return planned
    }

    /// Continues the GPU's prefix match (`hits` blocks) in the CPU tier. When the tier holds the next blocks and the
    /// GPU has room for them, admits the sequence holding its GPU hits and fresh blocks for the loaded ones, and
    /// starts their load over the host link; it is computed on only once the load ends (vLLM loads before it
    /// schedules the request). Returns false, changing nothing, otherwise.
    private func admitLoading(
        _ slot: Int, _ prefix: PromptPrefix, gpuHits hits: Int, shareable: Int, now: SimTime,
        effects: inout ReplicaEffects
    ) -> Bool {
        var found = 0
        while hits + found < shareable,
            offload!.contains(prefix.blockHash(hits + found, blockSize: settings.blockSize))
        {
            found += 1
        }
        let blocks = min(found, cache.availableBlocks)
        guard blocks > 0 else { return false }
        // The connector touches every block the request hits, in either tier, so the tier keeps them longest.
        for index in 0..<(hits + blocks) { offload!.touch(prefix.blockHash(index, blockSize: settings.blockSize)) }
        if shareable > hits { cache.recordMiss(count: shareable - hits - 1) }
        let granted = cache.allocate(blocks)
        precondition(granted, "a load took more blocks than were available")
        let computed = hits * settings.blockSize
        sequences[slot].anonymous = blocks
        sequences[slot].nextPublish = hits
        sequences[slot].computed = computed
        sequences[slot].cachedTokens = max(sequences[slot].cachedTokens, computed)
        integralsSoFar.prefixCacheQueries += Int64(sequences[slot].prompt)
        integralsSoFar.prefixCacheHits += Int64(computed)
        integralsSoFar.externalPrefixCacheQueries += Int64(sequences[slot].prompt)
        integralsSoFar.externalPrefixCacheHits += Int64(blocks * settings.blockSize)
        sequences[slot].state = .prefilling
        sequences[slot].admittedAt = admissions
        admissions += 1
        prefilling.append(slot)
        effects.report(.prefixLoaded(sequences[slot].request, tokens: blocks * settings.blockSize))
        loads += 1
        sequences[slot].load = loads
        sequences[slot].loadBlocks = blocks
        effects.schedule(
            ReplicaTimer(code: Self.kvLoadTimer, token: UInt64(loads) << Self.slotBits | UInt64(slot)),
            at: offload!.beginLoad(blocks: blocks, now: now))
        return true
    }

    /// A load from the CPU tier ended: its blocks hold the prefix, so the sequence goes on from there, and they
    /// join the GPU's prefix cache like computed ones. A load whose sequence was preempted or aborted meanwhile
    /// is ignored (its blocks were freed then).
    private func finishLoad(_ token: UInt64) {
        let slot = Int(token & ((1 << Self.slotBits) - 1))
        guard sequences[slot].state == .prefilling, sequences[slot].load == Int64(token >> Self.slotBits) else {
            return
        }
        sequences[slot].load = 0
        sequences[slot].computed += sequences[slot].loadBlocks * settings.blockSize
        sequences[slot].loadBlocks = 0
        publishPrefixBlocks(slot)
    }

    /// Takes the cached blocks of `prefix`'s first `blocks` blocks, in order, up to the first one not cached (a
    /// block's identity stands for every token before it, so nothing past a miss can hit).
    private func acquireCachedPrefix(_ prefix: PromptPrefix, blocks: Int, into identity: inout [Int32]) {
        for index in 0..<blocks {
            guard let record = cache.acquireCached(prefix.blockHash(index, blockSize: settings.blockSize)) else {
                return
            }
            identity.append(record)
        }
    }

    /// Gives a prefilling `slot` enough blocks for `tokens` tokens, preempting the newest running sequences
    /// if needed. False if `slot` itself had to be preempted.
    private func grow(_ slot: Int, toTokens tokens: Int) -> Bool {
        while true {
            let needed = cache.blocks(forTokens: tokens) - sequences[slot].identity.count - sequences[slot].anonymous
            if needed <= 0 || cache.allocate(needed) {
                sequences[slot].anonymous += max(0, needed)
                return true
            }
            let victim = newestRunning()
            preempt(victim)
            if victim == slot { return false }
        }
    }

    /// Every decoding sequence whose context crosses into a new block at this iteration gets it now, in one
    /// allocation; when the cache cannot give them, the newest running sequences are preempted first.
    private func allocateBoundaryBlocks() {
        while !cache.allocate(boundaryClassCounts[Int(decodeStep % Int64(settings.blockSize))]) {
            preempt(newestRunning())
        }
        allocatedIteration = decodeStep
    }

    /// Blocks a sequence holds (identity and anonymous).
    private func heldBlocks(_ slot: Int) -> Int {
        guard sequences[slot].state == .decoding else {
            return sequences[slot].identity.count + sequences[slot].anonymous
        }
        let prompt = Int64(sequences[slot].prompt), join = sequences[slot].joinStep
        let tokens = allocatedIteration >= join ? prompt + allocatedIteration - join + 1 : prompt
        return cache.blocks(forTokens: Int(tokens))
    }

    /// Checks the incremental bookkeeping against an explicit O(sequences) recount: the decode context of
    /// the step, the decoding count, and that the cache's held blocks are exactly the running sequences'
    /// blocks. Debug builds check it at every step; returns the first violation, or nil.
    func invariantViolation(_ shape: StepShape) -> String? {
        var decoding = 0, context = 0, anonymous = 0
        var identity = Set<Int32>()
        for slot in sequences.indices {
            switch sequences[slot].state {
            case .decoding:
                decoding += 1
                context += sequences[slot].prompt + Int(decodeStep - sequences[slot].joinStep) + 1
            case .prefilling, .holding, .reserved, .arrived: break
            default: continue
            }
            anonymous += heldBlocks(slot) - sequences[slot].identity.count
            identity.formUnion(sequences[slot].identity)
        }
        if decoding != decodingCount { return "decoding count \(decodingCount), recount \(decoding)" }
        if stepHasDecode && shape.decodeContextTokens != context {
            return "decode context \(shape.decodeContextTokens), recount \(context)"
        }
        if anonymous + identity.count != cache.heldBlocks {
            return "cache holds \(cache.heldBlocks) blocks, sequences \(anonymous + identity.count)"
        }
        if let adapters {
            var running: [Int32: Int] = [:], waiting: [Int32: Int] = [:]
            for sequence in sequences where sequence.adapter >= 0 {
                switch sequence.state {
                case .prefilling, .decoding: running[sequence.adapter, default: 0] += 1
                case .waiting: waiting[sequence.adapter, default: 0] += 1
                default: break
                }
            }
            if let violation = adapters.violation(running: running, waiting: waiting) { return violation }
        }
        return cache.conservationViolation()
    }

    /// The most recently admitted running sequence: vLLM preempts it first. O(slots), and only on preemption.
    private func newestRunning() -> Int {
        var newest = -1
        for slot in sequences.indices where sequences[slot].state == .prefilling || sequences[slot].state == .decoding {
            if newest < 0 || sequences[slot].admittedAt > sequences[newest].admittedAt { newest = slot }
        }
        precondition(newest >= 0, "KV cache smaller than one sequence's needs")
        return newest
    }

    /// Recompute preemption: free the blocks and requeue at the front; tokens generated so far become
    /// part of the prompt to prefill again.
    private func preempt(_ slot: Int) {
        preemptedDuringBuild = true
        preemptedRequests.append(sequences[slot].request)
        preemptions += 1
        integralsSoFar.preemptions += 1
        sequences[slot].preemptions += 1
        let generatedTokens =
            sequences[slot].state == .decoding
            ? sequences[slot].generated + Int(decodeStep - sequences[slot].joinStep) : sequences[slot].generated
        if sequences[slot].state == .decoding && decodeStep > sequences[slot].joinStep {
            closeDecodePhase(slot)
            sequences[slot].lastTokenAt = lastIterationEnd
        }
        freeBlocks(slot)
        leaveRunning(slot)
        if sequences[slot].adapter >= 0 { adapters!.joinedWaiting(sequences[slot].adapter) }
        sequences[slot].prompt = sequences[slot].originalPrompt + generatedTokens
        sequences[slot].generated = generatedTokens
        sequences[slot].computed = 0
        sequences[slot].load = 0  // a load in flight is dropped: its timer finds no sequence waiting for it
        sequences[slot].loadBlocks = 0
        sequences[slot].state = .waiting
        waiting.prepend(slot)
    }

    /// Frees a slot and its blocks.
    private func release(_ slot: Int) {
        freeBlocks(slot)
        leaveRunning(slot)
        sequences[slot] = EngineSequence()
        freeSlots.append(slot)
    }

    /// Returns all of a sequence's blocks to the cache (its prefix blocks stay cached, evictable).
    private func freeBlocks(_ slot: Int) {
        cache.free(heldBlocks(slot) - sequences[slot].identity.count)
        cache.release(sequences[slot].identity)
        sequences[slot].identity.removeAll()
        sequences[slot].anonymous = 0
    }

    private func leaveRunning(_ slot: Int) {
        if sequences[slot].adapter >= 0,
            sequences[slot].state == .prefilling || sequences[slot].state == .decoding
        {
            adapters!.stoppedRunning(sequences[slot].adapter)
        }
        switch sequences[slot].state {
        case .prefilling: prefilling.removeAll { $0 == slot }
        case .decoding:
            decodingCount -= 1
            boundaryClassCounts[sequences[slot].boundaryClass] -= 1
            decodeContextBase -= Int64(sequences[slot].prompt) - sequences[slot].joinStep + 1
        default: break
        }
    }

    /// Makes the prefix blocks this sequence has fully computed reusable, in prompt order.
    private func publishPrefixBlocks(_ slot: Int) {
        guard settings.enablePrefixCaching, let prefix = sequences[slot].prefix else { return }
        publish(slot, prefix, throughBlock: min(prefix.tokens, sequences[slot].computed) / settings.blockSize)
    }

    /// At the end of a request whose output continues its prefix (a session turn): its full output blocks
    /// become reusable too, so the next turn finds the whole conversation so far. The last token's KV was
    /// never computed, so `prompt + output − 1` tokens are in the cache.
    private func publishOutputBlocks(_ slot: Int) {
        guard settings.enablePrefixCaching, let prefix = sequences[slot].prefix, prefix.outputExtendsPrefix else {
            return
        }
        let inCache = sequences[slot].originalPrompt + sequences[slot].originalOutput - 1
        publish(slot, prefix, throughBlock: min(inCache / settings.blockSize, heldBlocks(slot)))
    }

    /// Turns the sequence's anonymous blocks up to block `end` (exclusive) into identity blocks. A block whose
    /// identity is already cached (another copy won) stays anonymous and publishing goes on past it.
    private func publish(_ slot: Int, _ prefix: PromptPrefix, throughBlock end: Int) {
        var anonymous = heldBlocks(slot) - sequences[slot].identity.count
        while sequences[slot].nextPublish < end, anonymous > 0 {
            let hash = prefix.blockHash(sequences[slot].nextPublish, blockSize: settings.blockSize)
            offload?.store(hash)  // the connector copies each full block to the CPU tier as it is computed
            if let record = cache.publish(hash: hash) {
                sequences[slot].identity.append(record)
                anonymous -= 1
                if sequences[slot].state != .decoding { sequences[slot].anonymous -= 1 }
            }
            sequences[slot].nextPublish += 1
        }
    }

    // MARK: Inter-token latency

    /// At the end of decode iteration `decodeStep`: the first decode token of each joiner waited since its
    /// own prefill token; every other decoding sequence waited since the previous iteration ended.
    private func recordIterationLatencies(now: SimTime) {
        integralsSoFar.generationTokens += Int64(decodingCount)
        var joined = 0
        for (slot, request) in joiners
        where sequences[slot].request == request && sequences[slot].state == .decoding
            && sequences[slot].joinStep == decodeStep
        {
            observe(slot, gap: now.nanoseconds - sequences[slot].lastTokenAt, at: now)
            joined += 1
        }
        joiners.removeAll(keepingCapacity: true)
        // A transferred sequence's first token is its time to first token, not an inter-token gap.
        joined += firstTokensThisIteration
        firstTokensThisIteration = 0
        if lastIterationEnd >= 0 {
            let gap = now.nanoseconds - lastIterationEnd
            while let top = gapMaxima.last, top.gap <= gap { gapMaxima.removeLast() }
            gapMaxima.append((decodeStep, gap))
            record(gap: gap, tokens: decodingCount - joined)
        }
        lastIterationEnd = now.nanoseconds
    }

    /// One token of `slot` came `gap` ns after its previous one.
    private func observe(_ slot: Int, gap: Int64, at now: SimTime) {
        sequences[slot].maxInterTokenLatency = max(sequences[slot].maxInterTokenLatency, gap)
        record(gap: gap, tokens: 1)
    }

    private func record(gap: Int64, tokens: Int) {
        guard measuring, tokens > 0 else { return }
        latencies.record(latency: gap, tokens: tokens)
    }

    /// Folds the iteration gaps a decoding sequence saw after its first decode iteration into its max ITL
    /// (the first one was observed when it joined).
    private func closeDecodePhase(_ slot: Int) {
        let from = sequences[slot].joinStep + 1
        var low = 0, high = gapMaxima.count
        while low < high {
            let mid = (low + high) / 2
            if gapMaxima[mid].iteration < from { low = mid + 1 } else { high = mid }
        }
        if low < gapMaxima.count {
            sequences[slot].maxInterTokenLatency = max(sequences[slot].maxInterTokenLatency, gapMaxima[low].gap)
        }
    }

    private func advance(to now: SimTime) {
        let dt = Double(now.nanoseconds - lastChange.nanoseconds)
        guard dt > 0 else { return }
        if stepInFlight { integralsSoFar.busy += dt }
        integralsSoFar.occupancy += Double(slotOfRequest.count) * dt
        lastChange = now
    }
}

/// One request's state on the engine.
struct EngineSequence {
    /// `holding`: a prefill-only sequence's prompt is done and its KV waits for the transfer; `reserved`: room
    /// taken for a prompt whose KV is on its way from a prefill replica; `arrived`: ready to join decoding.
    enum State { case free, waiting, abortedWaiting, prefilling, decoding, holding, reserved, arrived }

    var request = RequestID(-1)
    var state = State.free
    var originalPrompt = 0
    var originalOutput = 0
    /// When its latest output token was produced, ns; -1 before the first.
    var lastTokenAt: Int64 = -1
    var maxInterTokenLatency: Int64 = 0
    /// Tokens to prefill (the prompt, plus tokens generated before a preemption).
    var prompt = 0
    var output = 0
    /// Output tokens generated before the current decode phase.
    var generated = 0
    /// Prompt tokens already in KV.
    var computed = 0
    /// Identity (prefix-cached) blocks: the prompt's first ones, in order, then any published later.
    var identity: [Int32] = []
    /// The next block index to consider for publishing.
    var nextPublish = 0
    /// Anonymous blocks held while prefilling (while decoding they follow from the iteration).
    var anonymous = 0
    var boundaryClass = 0
    var prefix: PromptPrefix?
    var cachedTokens = 0
    var preemptions = 0
    var started = false
    var firstTokenReported = false
    var joinStep: Int64 = 0
    var finishStep: Int64 = 0
    var admittedAt: Int64 = 0
    /// Prefill only (a prefill replica's part of a disaggregated request): hold the KV after the prompt.
    var prefillOnly = false
    /// Its LoRA adapter (an index into the run's table), or -1 for the base model.
    var adapter: Int32 = -1
    /// The number of its load from the CPU tier in flight (0: none), and the blocks it brings.
    var load: Int64 = 0
    var loadBlocks = 0

    init() {}

    init(request: ServingRequest) {
        self.request = request.id
        self.state = .waiting
        self.originalPrompt = max(1, request.inputTokens)
        self.prompt = originalPrompt
        self.output = max(1, request.outputTokens)
        self.originalOutput = output
        self.prefix = request.prefix
        self.prefillOnly = request.prefillOnly
        self.adapter = request.adapter
    }
}
