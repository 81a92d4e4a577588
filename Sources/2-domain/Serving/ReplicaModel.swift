@_exported public import InferenceModel

/// A timer a replica asked for. Its meaning is private to the replica kind; the fleet only carries it.
public struct ReplicaTimer: Sendable, Equatable {
    /// Replica-defined kind of timer.
    public let code: UInt32
    /// Replica-defined payload (a slot, a generation, ...).
    public let token: UInt64

    @inlinable public init(code: UInt32, token: UInt64) {
        self.code = code
        self.token = token
    }
}

/// A step in a request's life on a replica, reported back to the fleet.
public enum ReplicaOutcome: Sendable, Equatable {
    /// Left the replica's waiting queue and began service.
    case started(RequestID)
    /// Produced its first output token.
    case firstToken(RequestID)
    /// Produced its last token and left the replica.
    case completed(RequestID)
    /// Refused by the replica (for instance, a full queue).
    case rejected(RequestID)
    /// Its prompt found `tokens` tokens already in the prefix cache (reported once, at admission).
    case prefixHit(RequestID, tokens: Int)
    /// Its prompt's next `tokens` tokens, past the prefix-cache hit, are loaded from a CPU tier of KV blocks
    /// instead of computed (reported when the load starts).
    case prefixLoaded(RequestID, tokens: Int)
    /// Preempted (its KV freed, to be recomputed later).
    case preempted(RequestID)
    /// The longest gap between two of its consecutive output tokens (reported just before `completed`, by
    /// kinds that time tokens individually).
    case maxInterTokenLatency(RequestID, SimTime)
    /// A prefill-only request's prompt is in KV, held for its transfer to a decode replica.
    case prefilled(RequestID)
}

/// What a replica did in one call: timers to schedule and outcomes to record.
///
/// The fleet owns one buffer and clears it between calls, so replicas never allocate on the hot path.
/// This keeps replicas out of the engine: they return effects instead of scheduling directly.
public struct ReplicaEffects {
    /// Timers to schedule, as `(absolute time, timer)`.
    public var timers = EffectList<(at: SimTime, timer: ReplicaTimer)>()
    /// Outcomes, in the order they happened.
    public var outcomes = EffectList<ReplicaOutcome>()

    public init() {}

    /// Asks for `timer` to fire at `time`.
    @inlinable public mutating func schedule(_ timer: ReplicaTimer, at time: SimTime) { timers.append((time, timer)) }
    /// Reports a step in a request's life.
    @inlinable public mutating func report(_ outcome: ReplicaOutcome) { outcomes.append(outcome) }

    @inlinable public mutating func removeAll() {
        timers.removeAll()
        outcomes.removeAll()
    }
}

/// A short list that keeps its storage when cleared, so that the event loop does not reallocate.
public struct EffectList<Element>: RandomAccessCollection {
    @usableFromInline var storage: [Element] = []
    @usableFromInline var used = 0

    @inlinable public init() {}

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { used }
    @inlinable public subscript(position: Int) -> Element { storage[position] }

    @inlinable mutating func append(_ element: Element) {
        if used < storage.count { storage[used] = element } else { storage.append(element) }
        used += 1
    }

    @inlinable mutating func removeAll() { used = 0 }
}

/// The gauges a replica exposes, named after vLLM's Prometheus metrics.
public struct ReplicaGauges: Sendable, Equatable {
    /// `vllm:num_requests_waiting`: queued, not yet started.
    public var numRequestsWaiting: Int
    /// `vllm:num_requests_running`: in service.
    public var numRequestsRunning: Int
    /// `vllm:kv_cache_usage_perc` as a fraction in [0, 1]; nil for kinds without a KV cache.
    public var kvCacheUsagePerc: Double?
    /// `vllm:lora_requests_info`: the adapters running and waiting, and `max_lora`; nil without LoRA (so a
    /// replica without it builds no arrays per scrape).
    public var lora: LoRARequestsInfo?

    public init(
        numRequestsWaiting: Int, numRequestsRunning: Int, kvCacheUsagePerc: Double? = nil,
        lora: LoRARequestsInfo? = nil
    ) {
        self.numRequestsWaiting = numRequestsWaiting
        self.numRequestsRunning = numRequestsRunning
        self.kvCacheUsagePerc = kvCacheUsagePerc
        self.lora = lora
    }
}

/// Time integrals and counters a replica keeps, for utilization, Little's law and token rates.
///
/// The counters mirror vLLM's Prometheus counters; rates over an interval are differences of two readings.
public struct ReplicaIntegrals: Sendable, Equatable {
    /// ∫ busy capacity dt, in capacity-nanoseconds (busy servers for a station).
    public var busy: Double
    /// ∫ requests present (waiting + running) dt, in request-nanoseconds.
    public var occupancy: Double
    /// Prompt tokens computed by prefill, recomputation included (the engine's prefill work).
    public var promptTokens: Int64
    /// `vllm:generation_tokens_total`: output tokens produced.
    public var generationTokens: Int64
    /// `vllm:prefix_cache_queries`: prompt tokens looked up in the prefix cache.
    public var prefixCacheQueries: Int64
    /// `vllm:prefix_cache_hits`: of those, tokens found cached.
    public var prefixCacheHits: Int64
    /// `vllm:num_preemptions_total`: sequences preempted.
    public var preemptions: Int64
    /// LoRA adapters loaded onto the GPUs (vLLM logs these; it exports no counter).
    public var loraLoads: Int64
    /// `vllm:external_prefix_cache_queries`: prompt tokens looked up through the KV connector (the CPU tier);
    /// zero without one.
    public var externalPrefixCacheQueries: Int64
    /// `vllm:external_prefix_cache_hits`: of those, tokens loaded from the CPU tier instead of computed.
    public var externalPrefixCacheHits: Int64

    public init(
        busy: Double = 0, occupancy: Double = 0, promptTokens: Int64 = 0, generationTokens: Int64 = 0,
        prefixCacheQueries: Int64 = 0, prefixCacheHits: Int64 = 0, preemptions: Int64 = 0, loraLoads: Int64 = 0,
        externalPrefixCacheQueries: Int64 = 0, externalPrefixCacheHits: Int64 = 0
    ) {
        self.loraLoads = loraLoads
        self.busy = busy
        self.occupancy = occupancy
        self.promptTokens = promptTokens
        self.generationTokens = generationTokens
        self.prefixCacheQueries = prefixCacheQueries
        self.prefixCacheHits = prefixCacheHits
        self.preemptions = preemptions
        self.externalPrefixCacheQueries = externalPrefixCacheQueries
        self.externalPrefixCacheHits = externalPrefixCacheHits
    }

    public static func - (a: Self, b: Self) -> Self {
        ReplicaIntegrals(
            busy: a.busy - b.busy, occupancy: a.occupancy - b.occupancy, promptTokens: a.promptTokens - b.promptTokens,
            generationTokens: a.generationTokens - b.generationTokens,
            prefixCacheQueries: a.prefixCacheQueries - b.prefixCacheQueries,
            prefixCacheHits: a.prefixCacheHits - b.prefixCacheHits, preemptions: a.preemptions - b.preemptions,
            loraLoads: a.loraLoads - b.loraLoads,
            externalPrefixCacheQueries: a.externalPrefixCacheQueries - b.externalPrefixCacheQueries,
            externalPrefixCacheHits: a.externalPrefixCacheHits - b.externalPrefixCacheHits)
    }
}

/// The contract every replica kind implements (the queueing station now; the GPU model next).
///
/// A replica has identity (it is a `final class`), sees only the requests routed to it, and reports
/// through ``ReplicaEffects``. It must conserve requests: every request it accepts ends in exactly one of
/// `completed`, `rejected`, or an `abort` from the fleet.
public protocol ReplicaModel: AnyObject {
    /// The kind's registry name, as written in scenarios (`station`).
    var kind: String { get }
    /// Capacity units for utilization (servers for a station).
    var capacity: Int { get }
    /// Accepts a routed request at `now`.
    func enqueue(_ request: ServingRequest, now: SimTime, effects: inout ReplicaEffects)
    /// Handles a timer this replica asked for.
    func fire(_ timer: ReplicaTimer, now: SimTime, effects: inout ReplicaEffects)
    /// Removes a request the fleet gave up on (a timeout); returns whether it was here.
    func abort(_ request: RequestID, now: SimTime, effects: inout ReplicaEffects) -> Bool
    /// Current gauges.
    func gauges(now: SimTime) -> ReplicaGauges
    /// Integrals up to `now`.
    func integrals(now: SimTime) -> ReplicaIntegrals
    /// Whether the kind counts tokens (fills the token counters of ``ReplicaIntegrals``).
    var countsTokens: Bool { get }
    /// KV-cache blocks (vLLM's `num_gpu_blocks`); nil for kinds without a KV cache.
    var kvCacheBlocks: Int? { get }
    /// Opens or closes the measurement window: windowed statistics (inter-token latencies) record only
    /// while it is open. The fleet opens it at the end of warm-up and closes it at the horizon.
    func setMeasuring(_ measuring: Bool)
    /// Inter-token latencies recorded while measuring; nil for kinds that do not time tokens one by one.
    func interTokenLatencies() -> InterTokenLatencyStats?
    /// Tokens per prefix-cache block; nil for kinds without a prefix cache.
    var prefixBlockSize: Int? { get }
    /// How many leading blocks of `prefix` (at most `limit`) the cache holds now, as a router fed by the
    /// replica's KV events would know.
    func cachedPrefixBlocks(_ prefix: PromptPrefix, limit: Int) -> Int
    /// The replica restarts after a crash: whatever it cached is gone (it holds no requests by then).
    func restart(now: SimTime)

    // Disaggregated serving (kinds with a KV cache).
    /// Decode side: takes room for `request`'s prompt KV before it is transferred here. Returns the prompt
    /// tokens already cached here (not to be transferred), or nil when there is no room now.
    func reserve(_ request: ServingRequest, now: SimTime) -> Int?
    /// Decode side: whether the whole cache could ever hold `request` (its prompt and output).
    func canEverHold(_ request: ServingRequest) -> Bool
    /// Decode side: the reserved request's KV has arrived; it decodes from the next iteration, whose end is
    /// its first token.
    func receive(_ request: RequestID, now: SimTime, effects: inout ReplicaEffects)
    /// Prefill side: the held KV has been read; it is freed (its prefix blocks stay cached).
    func releaseTransferred(_ request: RequestID, now: SimTime)
    /// Prefill side: no decode replica took the request; it decodes here (aggregated), its first token now.
    func decodeHeld(_ request: RequestID, now: SimTime, effects: inout ReplicaEffects)
}

extension ReplicaModel {
    public var countsTokens: Bool { false }
    public var kvCacheBlocks: Int? { nil }
    public func setMeasuring(_ measuring: Bool) {}
    public func interTokenLatencies() -> InterTokenLatencyStats? { nil }
    public var prefixBlockSize: Int? { nil }
    public func cachedPrefixBlocks(_ prefix: PromptPrefix, limit: Int) -> Int { 0 }
    public func restart(now: SimTime) {}
    public func reserve(_ request: ServingRequest, now: SimTime) -> Int? { nil }
    public func canEverHold(_ request: ServingRequest) -> Bool { false }
    public func receive(_ request: RequestID, now: SimTime, effects: inout ReplicaEffects) {}
    public func releaseTransferred(_ request: RequestID, now: SimTime) {}
    public func decodeHeld(_ request: RequestID, now: SimTime, effects: inout ReplicaEffects) {}
    /// Whether the kind has a prefix cache that is switched on (fills the prefix-cache counters).
    public var hasPrefixCache: Bool { prefixBlockSize != nil }
}
