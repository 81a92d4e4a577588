@_exported public import InferenceModel

/// What a routing policy sees of one candidate replica.
///
/// Policies never see a replica's internals, only this view. `outstanding` is the router's own count and is
/// always current. The scraped metrics (`waiting`, `running`, `kvCacheUsage`) are what the last scrape of the
/// replica's vLLM metrics said, a refresh interval old at most; `fresh` says whether that scrape is within the
/// staleness limit. `prefixMatchedBlocks` is filled per request for policies that score prefix affinity.
public struct ReplicaView: Sendable, Equatable {
    public var id: ReplicaID
    /// Requests this router sent to the replica that have not ended.
    public var outstanding: Int
    /// Prompt tokens this router sent to the replica that it did not expect cached there, of requests that have not
    /// produced their first token: the prefill work queued or under way, as the router counts it (never stale).
    public var prefillBacklogTokens: Int = 0
    /// `vllm:num_requests_waiting` at the last scrape.
    public var waiting: Int
    /// `vllm:num_requests_running` at the last scrape.
    public var running: Int
    /// `vllm:kv_cache_usage_perc` (a fraction, 0–1) at the last scrape.
    public var kvCacheUsage: Double
    /// Whether the last scrape is within the staleness limit.
    public var fresh: Bool
    /// Leading prefix blocks of the request this replica is known (or believed) to hold.
    public var prefixMatchedBlocks: Int
    /// How far the replica's cluster is from the request's origin: 0 the same cluster, then one more per
    /// locality label of the mesh's failover priority on which they differ (0 without a mesh).
    public var localityTier: Int = 0
    /// The network round trip from the request's origin to the replica, in seconds (0 without a mesh).
    public var networkRoundTrip: Double = 0
    /// Where the request's LoRA adapter stands there, from `vllm:lora_requests_info` at the last scrape (filled for
    /// policies that read metrics).
    public var loraAffinity = LoRAAffinity.baseModel

    @inlinable public init(
        id: ReplicaID, outstanding: Int, waiting: Int = 0, running: Int = 0, kvCacheUsage: Double = 0,
        fresh: Bool = true, prefixMatchedBlocks: Int = 0
    ) {
        self.id = id
        self.outstanding = outstanding
        self.waiting = waiting
        self.running = running
        self.kvCacheUsage = kvCacheUsage
        self.fresh = fresh
        self.prefixMatchedBlocks = prefixMatchedBlocks
    }
}

/// What a policy knows of the request it routes.
public struct RoutingRequest: Sendable {
    public var id: RequestID
    public var workload: WorkloadID
    public var inputTokens: Int
    public var outputTokens: Int
    public var criticality: Criticality
    /// Prefix blocks the router hashed for this request (the denominator of prefix affinity); 0 without a prefix.
    public var prefixBlocks: Int
    /// The session the request belongs to, if any (for session affinity).
    public var session: UInt64?
    /// The LoRA adapter it names (an index into the run's adapter table), or -1 for the base model.
    public var adapter: Int32 = -1

    @inlinable public init(
        id: RequestID, workload: WorkloadID, inputTokens: Int, outputTokens: Int,
        criticality: Criticality, prefixBlocks: Int = 0, session: UInt64? = nil
    ) {
        self.id = id
        self.workload = workload
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.criticality = criticality
        self.prefixBlocks = prefixBlocks
        self.session = session
    }
}

/// Where a policy learns which replica holds which prefix blocks.
public enum PrefixKnowledge: String, Sendable, Equatable, CaseIterable {
    /// The router's own bounded LRU index of what it routed where (the inference extension's default).
    case approximate
    /// The replicas' actual caches, as from vLLM's KV events.
    case precise
}

/// How the router matches a request's prefix against what each replica holds (the prefix-cache scorer's
/// parameters in the inference extension).
public struct PrefixMatching: Sendable, Equatable {
    public var knowledge: PrefixKnowledge
    /// Tokens per hashed block (`blockSize`); the precise mode uses the replica's own block size instead.
    public var blockSize: Int
    /// At most this many leading blocks are hashed and matched (`maxPrefixBlocksToMatch`).
    public var maxBlocks: Int
    /// Blocks the approximate index remembers per replica, least recently routed evicted first
    /// (`lruCapacityPerServer`).
    public var lruCapacityPerServer: Int

    public init(
        knowledge: PrefixKnowledge = .approximate, blockSize: Int = 16, maxBlocks: Int = 256,
        lruCapacityPerServer: Int = 31_250
    ) {
        self.knowledge = knowledge
        self.blockSize = blockSize
        self.maxBlocks = maxBlocks
        self.lruCapacityPerServer = lruCapacityPerServer
    }
}

/// What a policy needs the router to prepare before each decision.
public struct PolicyNeeds: Sendable, Equatable {
    /// Scraped replica metrics (the router then scrapes every refresh interval).
    public var metrics: Bool
    /// Prefix matches per candidate, and how; nil if the policy ignores prefixes.
    public var prefix: PrefixMatching?

    public init(metrics: Bool = false, prefix: PrefixMatching? = nil) {
        self.metrics = metrics
        self.prefix = prefix
    }

    /// Both sets of needs (the first prefix matching wins).
    public func union(_ other: PolicyNeeds) -> PolicyNeeds {
        PolicyNeeds(metrics: metrics || other.metrics, prefix: prefix ?? other.prefix)
    }
}

/// A routing policy: a decision over views. One instance serves one pool, so its state is per pool.
public protocol RoutingPolicy {
    /// What the router must fill in the views (default: nothing beyond `outstanding`).
    var needs: PolicyNeeds { get }
    /// Picks the replica for `request` among `candidates` (never empty, ordered by replica id).
    mutating func pick(_ request: RoutingRequest, from candidates: [ReplicaView]) -> ReplicaID
    /// Told where the request went (for policies that remember, like session affinity).
    mutating func routed(_ request: RoutingRequest, to replica: ReplicaID)
    /// Whether the policy leaves the endpoint to the mesh: across clusters the pick names a cluster, and the
    /// connection the mesh pools decides the backend (Istio's own balancing).
    var meshBalanced: Bool { get }
}

extension RoutingPolicy {
    public var needs: PolicyNeeds { PolicyNeeds() }
    public var meshBalanced: Bool { false }
    public mutating func routed(_ request: RoutingRequest, to replica: ReplicaID) {}
}

/// The inference extension's saturation detector: a replica is saturated when its metrics are stale, its
/// waiting queue is at least `queueDepthThreshold`, or its KV use at least `kvCacheUtilThreshold`; a pool is
/// saturated when all its replicas are.
public struct SaturationDetectorSpec: Sendable, Equatable {
    public var queueDepthThreshold: Int
    public var kvCacheUtilThreshold: Double

    public init(queueDepthThreshold: Int = 5, kvCacheUtilThreshold: Double = 0.8) {
        self.queueDepthThreshold = queueDepthThreshold
        self.kvCacheUtilThreshold = kvCacheUtilThreshold
    }

    /// Whether a replica with these metrics is saturated.
    public func isSaturated(waiting: Int, kvCacheUsage: Double, fresh: Bool) -> Bool {
        !fresh || waiting >= queueDepthThreshold || kvCacheUsage >= kvCacheUtilThreshold
    }

    /// Whether the replica a view shows is saturated.
    public func isSaturated(_ view: ReplicaView) -> Bool {
        isSaturated(waiting: view.waiting, kvCacheUsage: view.kvCacheUsage, fresh: view.fresh)
    }
}

/// What a policy factory gets: the run's streams, the name its own stream must use, and the gateway's
/// saturation detector.
public struct PolicyContext {
    /// The run's random streams.
    public let streams: RandomStreams
    /// The pool this instance routes for.
    public let pool: String
    /// The policy's registry name.
    public let policy: String
    /// When the gateway counts a replica as full (for policies that spill over at saturation).
    public let saturation: SaturationDetectorSpec

    public init(
        streams: RandomStreams, pool: String, policy: String,
        saturation: SaturationDetectorSpec = SaturationDetectorSpec()
    ) {
        self.streams = streams
        self.pool = pool
        self.policy = policy
        self.saturation = saturation
    }

    /// The policy's seeded stream, `policy/<policy>/<pool>`: ties and samples come from here, never the clock.
    public func stream() -> RandomStream { streams.stream("policy/\(policy)/\(pool)") }
}
