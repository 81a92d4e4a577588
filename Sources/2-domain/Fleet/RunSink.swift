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

    public init(
        record: RequestRecord, session: SessionLink? = nil, sessionStart: SimTime? = nil, path: RequestPath? = nil
    ) {
        self.record = record
        self.session = session
        self.sessionStart = sessionStart
        self.path = path
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

    func accept(_ request: FinishedRequest) {
        requests.append(request.record)
        if let link = request.session { links.append(link) }
        if let path = request.path { paths.append(path) }
    }

    func accept(_ sample: GaugeSample) { samples.append(sample) }
}
