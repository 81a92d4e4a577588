/// One request's life in a run.
///
/// Stored compactly (80 bytes: 32-bit ids, sentinel-coded optionals) because a run keeps one per request;
/// the public properties read and write it as ordinary optionals.
public struct RequestRecord: Sendable, Equatable {
    private var idIndex: Int32
    private var workloadIndex: Int32
    private var replicaIndex: Int32 = -1
    private var statusCode: UInt8 = RequestRecord.noStatus
    /// Sits in the padding after the status, so the record is no larger for it.
    private var adapterIndex: Int16 = -1
    public var arrival: SimTime
    private var startNs: Int64 = -1
    private var firstTokenNs: Int64 = -1
    private var endNs: Int64 = -1
    private var inputTokenCount: Int32
    private var outputTokenCount: Int32
    private var cachedTokenCount: Int32 = 0
    private var preemptionCount: Int32 = 0
    private var maxITLNs: Int64 = -1
    private var routedNs: Int64 = -1
    private var loadedTokenCount: Int32 = 0

    private static let noStatus: UInt8 = .max

    public init(
        id: RequestID, workload: WorkloadID, replica: ReplicaID? = nil, arrival: SimTime,
        start: SimTime? = nil, firstToken: SimTime? = nil, end: SimTime? = nil,
        inputTokens: Int, outputTokens: Int, status: RequestStatus? = nil
    ) {
        self.idIndex = Int32(id.index)
        self.workloadIndex = Int32(workload.index)
        self.arrival = arrival
        self.inputTokenCount = Int32(clamping: inputTokens)
        self.outputTokenCount = Int32(clamping: outputTokens)
        self.replica = replica
        self.start = start
        self.firstToken = firstToken
        self.end = end
        self.status = status
    }

    public var id: RequestID { RequestID(Int(idIndex)) }
    /// The LoRA adapter it named, as an index into the run's adapter table (`FleetSpec.adapterNames`); nil for the
    /// base model.
    public var adapter: Int? {
        get { adapterIndex < 0 ? nil : Int(adapterIndex) }
        set { adapterIndex = newValue.map { Int16($0) } ?? -1 }
    }
    public var workload: WorkloadID { WorkloadID(Int(workloadIndex)) }
    public var inputTokens: Int { Int(inputTokenCount) }
    public var outputTokens: Int { Int(outputTokenCount) }
    /// Prompt tokens found in the prefix cache at admission.
    public var cachedTokens: Int {
        get { Int(cachedTokenCount) }
        set { cachedTokenCount = Int32(clamping: newValue) }
    }
    /// Prompt tokens loaded from a CPU tier of KV blocks instead of computed (0 without one).
    public var loadedTokens: Int {
        get { Int(loadedTokenCount) }
        set { loadedTokenCount = Int32(clamping: newValue) }
    }
    /// Times the request was preempted.
    public var preemptions: Int {
        get { Int(preemptionCount) }
        set { preemptionCount = Int32(clamping: newValue) }
    }

    /// The longest gap between consecutive output tokens; nil for replica kinds that do not time tokens
    /// one by one, and for requests with fewer than two output tokens.
    public var maxInterTokenLatency: SimTime? {
        get { Self.time(maxITLNs) }
        set { maxITLNs = newValue?.nanoseconds ?? -1 }
    }

    /// When the router sent it to its replica (after any wait at the gateway); nil if never routed.
    public var routed: SimTime? {
        get { Self.time(routedNs) }
        set { routedNs = newValue?.nanoseconds ?? -1 }
    }
    /// Time waiting at the gateway before routing (flow control), for routed requests.
    public var gatewayWait: SimTime? { routed.map { $0 - arrival } }

    /// The replica it was routed to; nil if never routed.
    public var replica: ReplicaID? {
        get { replicaIndex < 0 ? nil : ReplicaID(Int(replicaIndex)) }
        set { replicaIndex = newValue.map { Int32($0.index) } ?? -1 }
    }
    /// When service began.
    public var start: SimTime? {
        get { Self.time(startNs) }
        set { startNs = newValue?.nanoseconds ?? -1 }
    }
    public var firstToken: SimTime? {
        get { Self.time(firstTokenNs) }
        set { firstTokenNs = newValue?.nanoseconds ?? -1 }
    }
    /// When it reached its terminal status (nil for `unfinished`).
    public var end: SimTime? {
        get { Self.time(endNs) }
        set { endNs = newValue?.nanoseconds ?? -1 }
    }
    /// Nil only while the run is in progress.
    public var status: RequestStatus? {
        get { statusCode == Self.noStatus ? nil : RequestStatus(index: Int(statusCode)) }
        set { statusCode = newValue.map { UInt8($0.index) } ?? Self.noStatus }
    }
    /// The status's index in `RequestStatus.allCases`, or -1 while in progress (for digests and counts).
    public var statusIndex: Int { statusCode == Self.noStatus ? -1 : Int(statusCode) }

    private static func time(_ ns: Int64) -> SimTime? { ns < 0 ? nil : SimTime(nanoseconds: ns) }

    /// Seconds from arrival to end, for completed requests.
    public var e2e: SimTime? { status == .completed ? end.map { $0 - arrival } : nil }
    /// Time to first token, for completed requests.
    public var ttft: SimTime? { status == .completed ? firstToken.map { $0 - arrival } : nil }
    /// Time waiting before service began.
    public var queueTime: SimTime? { start.map { $0 - arrival } }
    /// Mean time per output token after the first, for completed requests with more than one output token.
    public var tpot: SimTime? {
        guard status == .completed, outputTokens > 1, let first = firstToken, let end else { return nil }
        return SimTime(nanoseconds: (end - first).nanoseconds / Int64(outputTokens - 1))
    }
}

/// One replica's gauges at one instant.
public struct GaugeSample: Sendable, Equatable {
    public var time: SimTime
    public var replica: ReplicaID
    public var gauges: ReplicaGauges
    /// Busy capacity share over the interval that ends here.
    public var busyFraction: Double
    /// Prompt and output tokens processed per second over the interval; nil for kinds that do not count tokens.
    public var tokensPerSecond: Double?
    /// Output tokens per second over the interval (`vllm:generation_tokens_total` as a rate).
    public var generationTokensPerSecond: Double?
    /// Prefix-cache hits / queries over the interval, in tokens; nil without a prefix cache or without queries.
    public var prefixCacheHitRate: Double?

    public init(
        time: SimTime, replica: ReplicaID, gauges: ReplicaGauges, busyFraction: Double,
        tokensPerSecond: Double? = nil, generationTokensPerSecond: Double? = nil, prefixCacheHitRate: Double? = nil
    ) {
        self.time = time
        self.replica = replica
        self.gauges = gauges
        self.busyFraction = busyFraction
        self.tokensPerSecond = tokensPerSecond
        self.generationTokensPerSecond = generationTokensPerSecond
        self.prefixCacheHitRate = prefixCacheHitRate
    }
}

/// Static facts about one replica of a run.
public struct ReplicaInfo: Sendable, Equatable {
    public var id: ReplicaID
    public var pool: String
    public var name: String
    public var kind: String
    public var capacity: Int
    /// Whether the kind counts tokens (the token counters of `window` mean something).
    public var countsTokens: Bool
    /// Whether it has a prefix cache switched on.
    public var hasPrefixCache: Bool
    /// KV-cache blocks (vLLM's `num_gpu_blocks`); nil without a KV cache.
    public var kvCacheBlocks: Int?
    /// Integrals over the measurement window [warmup, horizon].
    public var window: ReplicaIntegrals
}

/// Everything one run produced.
public struct RunOutput: Sendable {
    public var spec: FleetSpec
    public var policy: String
    public var seed: UInt64
    /// Every request, in request order; empty unless the run kept them (``FleetRun/execute``'s `keepRequests`).
    public var requests: [RequestRecord]
    /// Every gauge sample, in time order; empty unless the run kept them.
    public var samples: [GaugeSample]
    /// Requests the run made, kept or not.
    public var requestCount = 0
    /// The most request records the run held at once: from the oldest not yet handed out to the newest. It
    /// follows the requests in flight, not the run's length (not part of any result or digest).
    public var peakRequestsHeld = 0
    /// Requests per terminal status, in `RequestStatus.allCases` order, kept or not.
    public var statusTotals = Array(repeating: 0, count: RequestStatus.allCases.count)
    public var replicas: [ReplicaInfo]
    /// Events the kernel processed.
    public var events: UInt64
    /// When the run stopped.
    public var endTime: SimTime
    public var stopReason: StopReason
    /// The digest over processed events and the final results.
    public var digest: RunDigest
    /// Wall-clock seconds spent in the event loop alone (not part of any result or digest).
    public var loopWallSeconds: Double
    /// Each replica's inter-token latencies over the measurement window, by replica index; nil for kinds
    /// that do not time tokens one by one.
    public var interTokenLatencies: [InterTokenLatencyStats?] = []
    /// What flow control did at the gateway (all zero without it).
    public var gateway = GatewayCounts()
    /// Agent sessions, in the order they started (empty without session workloads).
    public var sessions: [SessionRecord] = []
    /// The session and turn of each session request, in request order (empty unless the run kept requests).
    public var sessionLinks: [SessionLink] = []
    /// Replicas provisioned, ready, draining and stopped by autoscalers, in time order.
    public var scalingEvents: [ScalingEvent] = []
    /// Clusters, paths, faults and retries; nil without a mesh.
    public var mesh: MeshRunOutput?
    /// The split requests' prefill replicas and KV transfers, by request (empty unless the run kept requests;
    /// looked up by id, never iterated into results).
    public var splits: [RequestID: DisaggregatedServing] = [:]

    /// The measurement window: [warmup, horizon].
    public var window: (start: SimTime, end: SimTime) { (spec.warmup, spec.horizon) }

    /// Whether `record` counts in metrics (it arrived in the window).
    public func isMeasured(_ record: RequestRecord) -> Bool {
        record.arrival >= spec.warmup && record.arrival < spec.horizon
    }

    /// Counts per terminal status over all requests generated, in `RequestStatus.allCases` order.
    public func statusCounts() -> [(RequestStatus, Int)] {
        zip(RequestStatus.allCases, statusTotals).map { ($0, $1) }
    }
}

/// How an agent session ended.
public enum SessionStatus: String, Sendable, CaseIterable {
    /// Ran all its turns.
    case completed
    /// A turn was cut (timed out or its connection closed) more times than the agent retries.
    case failed
    /// Still running when new turns stopped (at the horizon) or the run ended.
    case unfinished
}

/// One agent session's life in a run.
public struct SessionRecord: Sendable, Equatable {
    public var workload: WorkloadID
    /// The session's number within its workload (it names the session's random stream).
    public var index: Int
    public var start: SimTime
    /// When it completed or failed; nil while unfinished.
    public var end: SimTime?
    public var status: SessionStatus?
    /// Turns the session was drawn to run.
    public var plannedTurns: Int
    /// Turns completed.
    public var turns = 0
    /// Turn attempts cut by the gateway's request timeout.
    public var timedOutTurns = 0
    /// Turn attempts cut because the connection reached its maximum duration, or rejected.
    public var failedTurns = 0
    public var retries = 0
    /// Connections re-opened after the gateway closed one (idle timeout or maximum duration).
    public var reconnects = 0
    public var subagentCalls = 0
    public var compactions = 0

    public init(workload: WorkloadID, index: Int, start: SimTime, plannedTurns: Int) {
        self.workload = workload
        self.index = index
        self.start = start
        self.plannedTurns = plannedTurns
    }
}

/// Which session, and which of its turns, a request belongs to.
public struct SessionLink: Sendable, Equatable {
    public var request: RequestID
    /// Index into `RunOutput.sessions`.
    public var session: Int
    /// The turn's number, from 1.
    public var turn: Int
    /// Whether it is a sub-agent call spawned after that turn rather than the turn itself.
    public var subagent: Bool

    public init(request: RequestID, session: Int, turn: Int, subagent: Bool) {
        self.request = request
        self.session = session
        self.turn = turn
        self.subagent = subagent
    }
}

/// What the mesh recorded in a run.
public struct MeshRunOutput: Sendable {
    public var clusterNames: [String]
    /// Each replica's cluster index.
    public var replicaCluster: [Int]
    /// Per request, by request index: the origin cluster of its first attempt, its network time (every
    /// attempt's path both ways, handshakes, gateway waits), its attempts (1 + retries), and whether its last
    /// attempt crossed clusters. Empty unless the run kept requests.
    public var origin: [Int32]
    public var networkNanoseconds: [Int64]
    public var attempts: [Int32]
    public var crossCluster: [Bool]
    public var counts: MeshCounts
    public var events: [MeshEvent]
    /// Per cluster: its east-west gateway's mean streams over [0, horizon] / its concurrency.
    public var gatewayUtilization: [Double]
    /// Requests that waited for an east-west gateway stream.
    public var gatewayQueued: Int
}

extension RequestRecord {
    /// What reading a request already handed out gives: ended, with no replica.
    static let retired = RequestRecord(
        id: RequestID(0), workload: WorkloadID(0), arrival: .zero, inputTokens: 0, outputTokens: 0,
        status: .unfinished)
}
