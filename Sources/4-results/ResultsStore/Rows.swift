// The plain values the store accepts and returns. They mirror the tables in docs/results-schema.md
// one to one, so the simulator can fill them without this module knowing any simulator type.

// `request.status` holds `RequestStatus` raw values; the enum is the simulator's own, from the shared
// Vocabulary module, re-exported so callers of the store can name it.
@_exported public import Vocabulary

/// The life-cycle state of a run, as stored in `run.status`.
public enum RunStatus: String, Sendable, Hashable, CaseIterable {
    case running, complete, failed
}

/// The process writing a run: a `running` run whose writer is gone is abandoned (``RunLiveness``).
public struct RunWriter: Sendable, Hashable {
    /// The host name, as the writer's system reports it.
    public var host: String
    /// The writer's process id on that host.
    public var pid: Int32

    public init(host: String, pid: Int32) {
        self.host = host
        self.pid = pid
    }
}

/// Everything known about a run before it starts, for `ResultsStore.beginRun(_:)`.
public struct NewRun: Sendable, Hashable {
    /// The scenario's `name`.
    public var scenarioName: String
    /// The scenario's identity, lowercase hex SHA-256: of `scenarioText` alone when it names no files, otherwise of
    /// the text and `files` together (docs/results-schema.md, `run_file`).
    public var scenarioSHA256: String
    /// The scenario file exactly as read, so a run can be reproduced from the database alone.
    public var scenarioText: String
    /// The files the scenario names, in the order its loader read them; stored in `run_file`.
    public var files: [RunFileRow]
    /// The routing policy's name.
    public var policy: String
    /// The root seed; stored as its `Int64` bit pattern because SQLite integers are signed.
    public var seed: UInt64
    /// 0-based replication index.
    public var replication: Int
    /// The simulator's version string.
    public var toolVersion: String
    /// ISO-8601 UTC timestamp chosen by the caller; the store never reads the clock.
    public var createdAt: String
    /// Simulated horizon in nanoseconds.
    public var horizonNs: Int64
    /// Warm-up period in nanoseconds, excluded from summary metrics.
    public var warmupNs: Int64
    /// The process that will write the run; its first heartbeat is `createdAt`. Nil for callers that never
    /// leave a run `running` (the run then counts as abandoned once `createdAt` is stale).
    public var writer: RunWriter?

    /// Creates the description of a run about to start.
    public init(
        scenarioName: String, scenarioSHA256: String, scenarioText: String, policy: String,
        seed: UInt64, replication: Int, toolVersion: String, createdAt: String,
        horizonNs: Int64, warmupNs: Int64, writer: RunWriter? = nil, files: [RunFileRow] = []
    ) {
        self.writer = writer
        self.files = files
        self.scenarioName = scenarioName
        self.scenarioSHA256 = scenarioSHA256
        self.scenarioText = scenarioText
        self.policy = policy
        self.seed = seed
        self.replication = replication
        self.toolVersion = toolVersion
        self.createdAt = createdAt
        self.horizonNs = horizonNs
        self.warmupNs = warmupNs
    }
}

/// One row of `run`, as read back.
public struct StoredRun: Sendable, Hashable {
    /// The run's id, assigned by `beginRun(_:)`.
    public var id: Int64
    /// The scenario's `name`.
    public var scenarioName: String
    /// The scenario's identity, lowercase hex SHA-256 (see ``NewRun/scenarioSHA256``).
    public var scenarioSHA256: String
    /// The scenario file exactly as read.
    public var scenarioText: String
    /// The routing policy's name.
    public var policy: String
    /// The root seed, restored from its stored `Int64` bit pattern.
    public var seed: UInt64
    /// 0-based replication index.
    public var replication: Int
    /// The simulator's version string.
    public var toolVersion: String
    /// Where the run is in its life cycle.
    public var status: RunStatus
    /// The event-trace digest, 16 lowercase hex digits; nil until the run is complete.
    public var digest: String?
    /// Number of events processed; nil until the run is complete.
    public var events: Int64?
    /// Wall-clock duration of the simulation in seconds; nil until the run is complete.
    public var wallSeconds: Double?
    /// ISO-8601 UTC timestamp given to `beginRun(_:)`.
    public var createdAt: String
    /// Simulated horizon in nanoseconds.
    public var horizonNs: Int64
    /// Warm-up period in nanoseconds.
    public var warmupNs: Int64
    /// Why the run failed; nil unless `status` is `.failed`.
    public var error: String?
    /// The process that wrote (or writes) the run; nil for runs stored before writers were recorded.
    public var writer: RunWriter?
    /// ISO-8601 UTC time of the writer's last sign of life for this run; nil with no writer.
    public var heartbeatAt: String?

    /// Creates a stored run value; the store builds these, tests may too.
    public init(
        id: Int64, scenarioName: String, scenarioSHA256: String, scenarioText: String,
        policy: String, seed: UInt64, replication: Int, toolVersion: String, status: RunStatus,
        digest: String?, events: Int64?, wallSeconds: Double?, createdAt: String,
        horizonNs: Int64, warmupNs: Int64, error: String?, writer: RunWriter? = nil, heartbeatAt: String? = nil
    ) {
        self.writer = writer
        self.heartbeatAt = heartbeatAt
        self.id = id
        self.scenarioName = scenarioName
        self.scenarioSHA256 = scenarioSHA256
        self.scenarioText = scenarioText
        self.policy = policy
        self.seed = seed
        self.replication = replication
        self.toolVersion = toolVersion
        self.status = status
        self.digest = digest
        self.events = events
        self.wallSeconds = wallSeconds
        self.createdAt = createdAt
        self.horizonNs = horizonNs
        self.warmupNs = warmupNs
        self.error = error
    }
}

/// One replica of the fleet, for `replica`.
public struct ReplicaRow: Sendable, Hashable {
    /// 0-based global replica index, the number `RequestRow.replica` and `SampleRow.replica` refer to.
    public var replica: Int
    /// The pool the replica belongs to.
    public var pool: String
    /// The replica model, e.g. `station`.
    public var kind: String
    /// KV-cache blocks (vLLM's `num_gpu_blocks`); nil for kinds without a KV cache.
    public var numGPUBlocks: Int?
    /// Busy capacity share over the measurement window; nil when not recorded.
    public var busyFraction: Double?
    /// Over the window: prompt tokens prefilled, output tokens generated, prefix-cache look-ups and hits
    /// (tokens), preemptions. Nil for kinds that do not count them.
    public var promptTokens: Int64?
    public var generationTokens: Int64?
    public var prefixCacheQueries: Int64?
    public var prefixCacheHits: Int64?
    public var preemptions: Int64?
    /// Over the window, for replicas with a CPU tier of KV blocks: prompt tokens looked up in it and tokens
    /// loaded from it (vLLM's `external_prefix_cache_queries` and `_hits`). Nil without a tier.
    public var externalPrefixCacheQueries: Int64?
    public var externalPrefixCacheHits: Int64?
    /// The cluster it runs in; nil without a mesh.
    public var cluster: String?

    /// Creates a replica row.
    public init(
        replica: Int, pool: String, kind: String, numGPUBlocks: Int? = nil, busyFraction: Double? = nil,
        promptTokens: Int64? = nil, generationTokens: Int64? = nil, prefixCacheQueries: Int64? = nil,
        prefixCacheHits: Int64? = nil, preemptions: Int64? = nil
    ) {
        self.replica = replica
        self.pool = pool
        self.kind = kind
        self.numGPUBlocks = numGPUBlocks
        self.busyFraction = busyFraction
        self.promptTokens = promptTokens
        self.generationTokens = generationTokens
        self.prefixCacheQueries = prefixCacheQueries
        self.prefixCacheHits = prefixCacheHits
        self.preemptions = preemptions
    }
}

/// One request's outcome, for `request`. Times are simulated nanoseconds since the run's start.
public struct RequestRow: Sendable, Hashable {
    /// The request's id, unique within the run.
    public var requestID: Int64
    /// The workload (traffic class) that generated it.
    public var workload: String
    /// The replica it was routed to; nil if it was never routed.
    public var replica: Int?
    /// When it arrived at the router.
    public var arrivalNs: Int64
    /// When a replica started prefill; nil if it never started.
    public var startNs: Int64?
    /// When the first output token was produced; nil if none was.
    public var firstTokenNs: Int64?
    /// When it left the system; nil if it was still in flight when the run stopped.
    public var endNs: Int64?
    /// Prompt length in tokens.
    public var inputTokens: Int
    /// Output length in tokens.
    public var outputTokens: Int
    /// One of the `RequestStatus` raw values; anything else makes `completeRun` throw.
    public var status: String
    /// Prompt tokens found in the prefix cache (0 for replicas without one).
    public var cachedTokens: Int
    /// Times the request was preempted.
    public var preemptions: Int
    /// The longest gap between two consecutive output tokens; nil when not timed per token.
    public var itlMaxNs: Int64?
    /// When the router sent it to its replica; nil if it was never routed.
    public var routedNs: Int64?
    /// The agent session it belongs to (`session.session_id`); nil outside sessions.
    public var sessionID: Int64?
    /// The session's turn, from 1; nil outside sessions.
    public var turn: Int?
    /// Whether it is a sub-agent call spawned after `turn`; nil outside sessions.
    public var subagent: Bool?
    /// With a mesh: the cluster its client was in, its network time over every attempt (paths both ways,
    /// handshakes, east-west gateway waits), its attempts, and whether the last one crossed clusters.
    public var originCluster: String?
    public var networkNs: Int64?
    public var attempts: Int?
    public var crossCluster: Bool?
    /// With disaggregated serving: the replica that computed its prompt (the `replica` column decoded it), the
    /// time its KV took to reach the decode replica (nil if it never did), and the KV bytes moved.
    public var prefillReplica: Int?
    public var kvTransferNs: Int64?
    public var kvTransferBytes: Int64?
    /// The LoRA adapter it named; nil for the base model.
    public var loraAdapter: String?
    /// Prompt tokens loaded from a CPU tier of KV blocks instead of computed; nil when no pool has a tier (so runs
    /// without one leave the column out of their inserts).
    public var loadedTokens: Int?

    /// Creates a request row.
    public init(
        requestID: Int64, workload: String, replica: Int?, arrivalNs: Int64, startNs: Int64?,
        firstTokenNs: Int64?, endNs: Int64?, inputTokens: Int, outputTokens: Int, status: String,
        cachedTokens: Int = 0, preemptions: Int = 0, itlMaxNs: Int64? = nil, routedNs: Int64? = nil,
        sessionID: Int64? = nil, turn: Int? = nil, subagent: Bool? = nil, originCluster: String? = nil,
        networkNs: Int64? = nil, attempts: Int? = nil, crossCluster: Bool? = nil, prefillReplica: Int? = nil,
        kvTransferNs: Int64? = nil, kvTransferBytes: Int64? = nil, loraAdapter: String? = nil
    ) {
        self.prefillReplica = prefillReplica
        self.kvTransferNs = kvTransferNs
        self.kvTransferBytes = kvTransferBytes
        self.loraAdapter = loraAdapter
        self.originCluster = originCluster
        self.networkNs = networkNs
        self.attempts = attempts
        self.crossCluster = crossCluster
        self.sessionID = sessionID
        self.turn = turn
        self.subagent = subagent
        self.requestID = requestID
        self.workload = workload
        self.replica = replica
        self.arrivalNs = arrivalNs
        self.startNs = startNs
        self.firstTokenNs = firstTokenNs
        self.endNs = endNs
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.status = status
        self.cachedTokens = cachedTokens
        self.preemptions = preemptions
        self.itlMaxNs = itlMaxNs
        self.routedNs = routedNs
    }

    /// Creates a request row from a typed status.
    public init(
        requestID: Int64, workload: String, replica: Int?, arrivalNs: Int64, startNs: Int64?,
        firstTokenNs: Int64?, endNs: Int64?, inputTokens: Int, outputTokens: Int,
        status: RequestStatus
    ) {
        self.init(
            requestID: requestID, workload: workload, replica: replica, arrivalNs: arrivalNs,
            startNs: startNs, firstTokenNs: firstTokenNs, endNs: endNs, inputTokens: inputTokens,
            outputTokens: outputTokens, status: status.rawValue)
    }
}

/// One named summary metric of a run, for `summary`. Names are listed in docs/metrics.md.
public struct SummaryRow: Sendable, Hashable {
    /// The metric's name.
    public var metric: String
    /// Its value, in the unit docs/metrics.md gives for the name.
    public var value: Double

    /// Creates a summary row.
    public init(metric: String, value: Double) {
        self.metric = metric
        self.value = value
    }
}

/// One periodic observation of one replica, for `sample`.
public struct SampleRow: Sendable, Hashable {
    /// Simulated time of the observation in nanoseconds.
    public var timeNs: Int64
    /// 0-based global replica index.
    public var replica: Int
    /// Requests queued at the replica, not yet admitted.
    public var numRequestsWaiting: Int
    /// Requests admitted and being served.
    public var numRequestsRunning: Int
    /// KV-cache occupancy as a fraction (0–1), as vLLM reports it; nil for kinds without a KV cache.
    public var kvCacheUsagePerc: Double?
    /// Fraction (0–1) of the last sampling interval the replica was busy.
    public var busyFraction: Double
    /// Prompt plus output tokens processed per second over the last interval; nil if not counted.
    public var tokensPerSecond: Double?
    /// Output tokens per second over the last interval; nil if not counted.
    public var generationTokensPerSecond: Double?
    /// Prefix-cache hit rate in tokens over the last interval; nil without a prefix cache or lookups.
    public var prefixCacheHitRate: Double?

    /// Creates a sample row.
    public init(
        timeNs: Int64, replica: Int, numRequestsWaiting: Int, numRequestsRunning: Int,
        kvCacheUsagePerc: Double?, busyFraction: Double, tokensPerSecond: Double? = nil,
        generationTokensPerSecond: Double? = nil, prefixCacheHitRate: Double? = nil
    ) {
        self.timeNs = timeNs
        self.replica = replica
        self.numRequestsWaiting = numRequestsWaiting
        self.numRequestsRunning = numRequestsRunning
        self.kvCacheUsagePerc = kvCacheUsagePerc
        self.busyFraction = busyFraction
        self.tokensPerSecond = tokensPerSecond
        self.generationTokensPerSecond = generationTokensPerSecond
        self.prefixCacheHitRate = prefixCacheHitRate
    }
}

/// One bucket of a replica's token-weighted inter-token latency histogram, for `itl_histogram`.
public struct ITLHistogramRow: Sendable, Hashable {
    /// 0-based global replica index.
    public var replica: Int
    /// The bucket's inclusive upper bound in nanoseconds; its lower bound is the previous bucket's.
    public var leNs: Int64
    /// Output tokens whose inter-token latency fell in the bucket.
    public var tokens: Int64

    /// Creates a histogram row.
    public init(replica: Int, leNs: Int64, tokens: Int64) {
        self.replica = replica
        self.leNs = leNs
        self.tokens = tokens
    }
}

/// Everything a finished run produced, written atomically by `ResultsStore.completeRun(id:results:)`.
public struct RunResults: Sendable, Hashable {
    /// The fleet's replicas.
    public var replicas: [ReplicaRow]
    /// Every request the run generated, in any order.
    public var requests: [RequestRow]
    /// Summary metrics; their order is kept.
    public var summaries: [SummaryRow]
    /// Periodic replica samples.
    public var samples: [SampleRow]
    /// Non-empty inter-token latency buckets per replica.
    public var itlHistogram: [ITLHistogramRow]
    /// Agent sessions.
    public var sessions: [SessionRow] = []
    /// Autoscalers' changes, in order.
    public var scalingEvents: [ScalingEventRow] = []
    /// Mesh faults, ejections, restores and failovers, in order.
    public var meshEvents: [MeshEventRow] = []
    /// The event-trace digest, 16 lowercase hex digits.
    public var digest: String
    /// Number of events processed.
    public var events: Int64
    /// Wall-clock duration of the simulation in seconds.
    public var wallSeconds: Double
    /// The end of the measured window when it is not the horizon given to `beginRun`: a run that ended when its
    /// requests were done stores it as its `horizon_ns`.
    public var horizonNs: Int64?

    /// Creates the results of a run.
    public init(
        replicas: [ReplicaRow], requests: [RequestRow], summaries: [SummaryRow],
        samples: [SampleRow], itlHistogram: [ITLHistogramRow] = [], digest: String, events: Int64,
        wallSeconds: Double
    ) {
        self.replicas = replicas
        self.requests = requests
        self.summaries = summaries
        self.samples = samples
        self.itlHistogram = itlHistogram
        self.digest = digest
        self.events = events
        self.wallSeconds = wallSeconds
    }
}

/// One agent session, for `session`.
public struct SessionRow: Sendable, Hashable {
    /// The session's id within the run (requests refer to it).
    public var sessionID: Int64
    public var workload: String
    /// The session's number within its workload.
    public var workloadSession: Int
    public var startNs: Int64
    /// When it completed or failed; nil if unfinished.
    public var endNs: Int64?
    /// `completed`, `failed` or `unfinished`.
    public var status: String
    public var plannedTurns: Int
    public var turns: Int
    public var timedOutTurns: Int
    public var failedTurns: Int
    public var retries: Int
    public var reconnects: Int
    public var subagentCalls: Int
    public var compactions: Int

    /// Creates a session row.
    public init(
        sessionID: Int64, workload: String, workloadSession: Int, startNs: Int64, endNs: Int64?, status: String,
        plannedTurns: Int, turns: Int, timedOutTurns: Int, failedTurns: Int, retries: Int, reconnects: Int,
        subagentCalls: Int, compactions: Int
    ) {
        self.sessionID = sessionID
        self.workload = workload
        self.workloadSession = workloadSession
        self.startNs = startNs
        self.endNs = endNs
        self.status = status
        self.plannedTurns = plannedTurns
        self.turns = turns
        self.timedOutTurns = timedOutTurns
        self.failedTurns = failedTurns
        self.retries = retries
        self.reconnects = reconnects
        self.subagentCalls = subagentCalls
        self.compactions = compactions
    }
}

/// One change an autoscaler made to a pool, for `scaling_event`.
public struct ScalingEventRow: Sendable, Hashable {
    public var timeNs: Int64
    public var pool: String
    public var replica: Int
    /// The state the replica entered: `provisioning`, `ready`, `draining` or `off`.
    public var state: String
    /// The recommendation behind it (for `ready` and `off`, the pool's ready count).
    public var desiredReplicas: Int
    /// The metric's average over ready replicas at the decision; nil for `ready` and `off`.
    public var metricValue: Double?

    /// Creates a scaling-event row.
    public init(timeNs: Int64, pool: String, replica: Int, state: String, desiredReplicas: Int, metricValue: Double?) {
        self.timeNs = timeNs
        self.pool = pool
        self.replica = replica
        self.state = state
        self.desiredReplicas = desiredReplicas
        self.metricValue = metricValue
    }
}

/// One mesh event, for `mesh_event`.
public struct MeshEventRow: Sendable, Hashable {
    public var timeNs: Int64
    /// `fault_start`, `fault_end`, `ejected`, `restored`, `failover`, `endpoint_removed`, `endpoint_restored`.
    public var kind: String
    /// A replica (`pool/index`), a cluster, a link (`a<->b`) or a workload.
    public var subject: String
    public var detail: String

    /// Creates a mesh-event row.
    public init(timeNs: Int64, kind: String, subject: String, detail: String) {
        self.timeNs = timeNs
        self.kind = kind
        self.subject = subject
        self.detail = detail
    }
}

/// A file a run's scenario names, for `run_file`.
public struct RunFileRow: Sendable, Hashable {
    /// The path as the scenario writes it.
    public var path: String
    /// Where the run's loader found it (relative paths from the directory the run was started in).
    public var resolvedPath: String
    /// SHA-256 of its bytes when the run was loaded, 64 lowercase hex digits.
    public var sha256: String

    /// Creates a file row.
    public init(path: String, resolvedPath: String, sha256: String) {
        self.path = path
        self.resolvedPath = resolvedPath
        self.sha256 = sha256
    }
}
