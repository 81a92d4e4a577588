/// Where a run hands its per-request and per-sample results as it goes, so that a long run need not hold
/// them: each request once it has ended (in request order), and each gauge sample when taken.
///
/// A run calls its sinks from its own thread, in a fixed order, so what they see is deterministic.
public protocol RunSink: AnyObject {
    func accept(_ request: FinishedRequest)
    func accept(_ sample: GaugeSample)
}

/// A request that has reached its terminal status, with what else the run knows of it.
public struct FinishedRequest: Sendable, Equatable {
    public var record: RequestRecord
    /// The session turn it belongs to, if any.
    public var session: SessionLink?
    /// When that session started.
    public var sessionStart: SimTime?
    /// Its way through the mesh; nil without one.
    public var path: RequestPath?
    /// Its prefill replica and KV transfer, if it was split between a prefill and a decode replica.
    public var disaggregation: DisaggregatedServing?

    public init(
        record: RequestRecord, session: SessionLink? = nil, sessionStart: SimTime? = nil, path: RequestPath? = nil,
        disaggregation: DisaggregatedServing? = nil
    ) {
        self.record = record
        self.session = session
        self.sessionStart = sessionStart
        self.path = path
        self.disaggregation = disaggregation
    }
}

/// A request's part on a prefill replica, and its KV's way to its decode replica (the record's replica).
public struct DisaggregatedServing: Sendable, Equatable {
    public var prefillReplica: ReplicaID
    /// From the start of the transfer (the decode replica had room) until the KV arrived; nil if it never
    /// arrived (the request decoded on its prefill replica, or ended first).
    public var kvTransferNanoseconds: Int64?
    /// KV bytes moved: the prompt's tokens not already cached on the decode replica.
    public var kvTransferBytes: Int64

    public init(prefillReplica: ReplicaID, kvTransferNanoseconds: Int64?, kvTransferBytes: Int64) {
        self.prefillReplica = prefillReplica
        self.kvTransferNanoseconds = kvTransferNanoseconds
        self.kvTransferBytes = kvTransferBytes
    }
}

/// A request's way through the mesh.
public struct RequestPath: Sendable, Equatable {
    /// The cluster index its first attempt came from.
    public var origin: Int
    /// Every attempt's path both ways, handshakes and gateway waits.
    public var networkNanoseconds: Int64
    /// 1 + retries.
    public var attempts: Int
    /// Whether its last attempt crossed clusters.
    public var crossCluster: Bool

    public init(origin: Int, networkNanoseconds: Int64, attempts: Int, crossCluster: Bool) {
        self.origin = origin
        self.networkNanoseconds = networkNanoseconds
        self.attempts = attempts
        self.crossCluster = crossCluster
    }
}

/// Keeps everything a run hands out, for callers that want the whole ``RunOutput`` in memory.
final class RunCollector: RunSink {
    var requests: [RequestRecord] = []
    var links: [SessionLink] = []
    var paths: [RequestPath] = []
    var samples: [GaugeSample] = []
    var splits: [RequestID: DisaggregatedServing] = [:]

    func accept(_ request: FinishedRequest) {
        requests.append(request.record)
        if let split = request.disaggregation { splits[request.record.id] = split }
        if let link = request.session { links.append(link) }
        if let path = request.path { paths.append(path) }
    }

    func accept(_ sample: GaugeSample) { samples.append(sample) }
}
