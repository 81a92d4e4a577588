@_exported public import InferenceModel

/// What a routing policy sees of one candidate replica.
///
/// Policies never see a replica's internals, only this view. `outstanding` is the router's own count and is
/// always current; scraped replica metrics (queue depth, KV use), which are stale by a refresh interval,
/// arrive with the inference-aware policies.
public struct ReplicaView: Sendable, Equatable {
    public var id: ReplicaID
    /// Requests this router sent to the replica that have not ended.
    public var outstanding: Int

    @inlinable public init(id: ReplicaID, outstanding: Int) {
        self.id = id
        self.outstanding = outstanding
    }
}

/// What a policy knows of the request it routes.
public struct RoutingRequest: Sendable {
    public var id: RequestID
    public var workload: WorkloadID
    public var inputTokens: Int
    public var outputTokens: Int
    public var criticality: Criticality

    @inlinable public init(
        id: RequestID, workload: WorkloadID, inputTokens: Int, outputTokens: Int,
        criticality: Criticality
    ) {
        self.id = id
        self.workload = workload
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.criticality = criticality
    }
}

/// A routing policy: a decision over views. One instance serves one pool, so its state is per pool.
public protocol RoutingPolicy {
    /// Picks the replica for `request` among `candidates` (never empty, ordered by replica id).
    mutating func pick(_ request: RoutingRequest, from candidates: [ReplicaView]) -> ReplicaID
}

/// What a policy factory gets: the run's streams and the name its own stream must use.
public struct PolicyContext {
    /// The run's random streams.
    public let streams: RandomStreams
    /// The pool this instance routes for.
    public let pool: String
    /// The policy's registry name.
    public let policy: String

    public init(streams: RandomStreams, pool: String, policy: String) {
        self.streams = streams
        self.pool = pool
        self.policy = policy
    }

    /// The policy's seeded stream, `policy/<policy>/<pool>`: ties and samples come from here, never the clock.
    public func stream() -> RandomStream { streams.stream("policy/\(policy)/\(pool)") }
}
