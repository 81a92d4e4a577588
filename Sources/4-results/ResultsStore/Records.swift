import GRDB

// One GRDB record per table. They are internal: the public API speaks in the plain rows of
// Rows.swift so no GRDB type leaks to callers. Bulk inserts bypass these records (see
// ResultsStore.completeRun) because encoding a Codable value per row is several times slower than
// binding a reused statement.

/// A row of `run`.
struct RunRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "run"

    var id: Int64?
    var scenarioName: String
    var scenarioSHA256: String
    var scenarioText: String
    var policy: String
    /// The UInt64 seed's bit pattern; SQLite has no unsigned 64-bit integer.
    var seed: Int64
    var replication: Int
    var toolVersion: String
    var status: String
    var digest: String?
    var events: Int64?
    var wallSeconds: Double?
    var createdAt: String
    var horizonNs: Int64
    var warmupNs: Int64
    var error: String?

    enum CodingKeys: String, CodingKey {
        case id
        case scenarioName = "scenario_name"
        case scenarioSHA256 = "scenario_sha256"
        case scenarioText = "scenario_text"
        case policy, seed, replication
        case toolVersion = "tool_version"
        case status, digest, events
        case wallSeconds = "wall_seconds"
        case createdAt = "created_at"
        case horizonNs = "horizon_ns"
        case warmupNs = "warmup_ns"
        case error
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let scenarioName = Column(CodingKeys.scenarioName)
        static let policy = Column(CodingKeys.policy)
        static let status = Column(CodingKeys.status)
        static let digest = Column(CodingKeys.digest)
        static let events = Column(CodingKeys.events)
        static let wallSeconds = Column(CodingKeys.wallSeconds)
        static let error = Column(CodingKeys.error)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    init(_ run: NewRun) {
        scenarioName = run.scenarioName
        scenarioSHA256 = run.scenarioSHA256
        scenarioText = run.scenarioText
        policy = run.policy
        seed = Int64(bitPattern: run.seed)
        replication = run.replication
        toolVersion = run.toolVersion
        status = RunStatus.running.rawValue
        createdAt = run.createdAt
        horizonNs = run.horizonNs
        warmupNs = run.warmupNs
    }

    /// The public value; nil `id` or an unknown status would mean the table was written by
    /// something other than this module, which is reported rather than papered over.
    func stored() throws -> StoredRun {
        guard let id else { throw Problem("run row without id") }
        guard let runStatus = RunStatus(rawValue: status) else {
            throw Problem("run \(id) has unknown status '\(status)'")
        }
        return StoredRun(
            id: id, scenarioName: scenarioName, scenarioSHA256: scenarioSHA256,
            scenarioText: scenarioText, policy: policy, seed: UInt64(bitPattern: seed),
            replication: replication, toolVersion: toolVersion, status: runStatus,
            digest: digest, events: events, wallSeconds: wallSeconds, createdAt: createdAt,
            horizonNs: horizonNs, warmupNs: warmupNs, error: error)
    }
}

/// A row of `replica`.
struct ReplicaRecord: Codable, FetchableRecord, PersistableRecord, BulkInsertable {
    static let databaseTableName = "replica"

    var runID: Int64
    var replica: Int
    var pool: String
    var kind: String
    var numGPUBlocks: Int?
    var busyFraction: Double?
    var promptTokens: Int64?
    var generationTokens: Int64?
    var prefixCacheQueries: Int64?
    var prefixCacheHits: Int64?
    var preemptions: Int64?
    var cluster: String?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case replica, pool, kind, cluster
        case numGPUBlocks = "num_gpu_blocks"
        case busyFraction = "busy_fraction"
        case promptTokens = "prompt_tokens"
        case generationTokens = "generation_tokens"
        case prefixCacheQueries = "prefix_cache_queries"
        case prefixCacheHits = "prefix_cache_hits"
        case preemptions
    }

    enum Columns {
        static let runID = Column(CodingKeys.runID)
        static let replica = Column(CodingKeys.replica)
    }

    static let insertSQL = """
        INSERT INTO replica (run_id, replica, pool, kind, num_gpu_blocks, busy_fraction, prompt_tokens,
                             generation_tokens, prefix_cache_queries, prefix_cache_hits, preemptions, cluster) VALUES
        """
    static let columnCount = 12

    static func appendValues(of row: ReplicaRow, runID: Int64, to values: inout [DatabaseValue]) {
        values.append(runID.databaseValue)
        values.append(row.replica.databaseValue)
        values.append(row.pool.databaseValue)
        values.append(row.kind.databaseValue)
        values.append(row.numGPUBlocks.databaseValue)
        values.append(row.busyFraction.databaseValue)
        values.append(row.promptTokens.databaseValue)
        values.append(row.generationTokens.databaseValue)
        values.append(row.prefixCacheQueries.databaseValue)
        values.append(row.prefixCacheHits.databaseValue)
        values.append(row.preemptions.databaseValue)
        values.append(row.cluster.databaseValue)
    }

    var row: ReplicaRow {
        var row = ReplicaRow(
            replica: replica, pool: pool, kind: kind, numGPUBlocks: numGPUBlocks, busyFraction: busyFraction,
            promptTokens: promptTokens, generationTokens: generationTokens, prefixCacheQueries: prefixCacheQueries,
            prefixCacheHits: prefixCacheHits, preemptions: preemptions)
        row.cluster = cluster
        return row
    }
}

/// A row of `request`.
struct RequestRecord: Codable, FetchableRecord, PersistableRecord, BulkInsertable {
    static let databaseTableName = "request"

    var runID: Int64
    var requestID: Int64
    var workload: String
    var replica: Int?
    var arrivalNs: Int64
    var startNs: Int64?
    var firstTokenNs: Int64?
    var endNs: Int64?
    var inputTokens: Int
    var outputTokens: Int
    var status: String
    var cachedTokens: Int
    var preemptions: Int
    var itlMaxNs: Int64?
    var routedNs: Int64?
    var sessionID: Int64?
    var turn: Int?
    var subagent: Bool?
    var originCluster: String?
    var networkNs: Int64?
    var attempts: Int?
    var crossCluster: Bool?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case requestID = "request_id"
        case workload, replica
        case arrivalNs = "arrival_ns"
        case startNs = "start_ns"
        case firstTokenNs = "first_token_ns"
        case endNs = "end_ns"
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case status
        case cachedTokens = "cached_tokens"
        case preemptions
        case itlMaxNs = "itl_max_ns"
        case routedNs = "routed_ns"
        case sessionID = "session_id"
        case turn, subagent
        case originCluster = "origin_cluster"
        case networkNs = "network_ns"
        case attempts
        case crossCluster = "cross_cluster"
    }

    enum Columns {
        static let runID = Column(CodingKeys.runID)
        static let requestID = Column(CodingKeys.requestID)
        static let workload = Column(CodingKeys.workload)
        static let replica = Column(CodingKeys.replica)
        static let arrivalNs = Column(CodingKeys.arrivalNs)
        static let startNs = Column(CodingKeys.startNs)
        static let firstTokenNs = Column(CodingKeys.firstTokenNs)
        static let endNs = Column(CodingKeys.endNs)
        static let inputTokens = Column(CodingKeys.inputTokens)
        static let outputTokens = Column(CodingKeys.outputTokens)
        static let status = Column(CodingKeys.status)
        static let cachedTokens = Column(CodingKeys.cachedTokens)
        static let preemptions = Column(CodingKeys.preemptions)
        static let itlMaxNs = Column(CodingKeys.itlMaxNs)
        static let routedNs = Column(CodingKeys.routedNs)
        static let sessionID = Column(CodingKeys.sessionID)
        static let turn = Column(CodingKeys.turn)
        static let subagent = Column(CodingKeys.subagent)
        static let originCluster = Column(CodingKeys.originCluster)
        static let networkNs = Column(CodingKeys.networkNs)
        static let attempts = Column(CodingKeys.attempts)
        static let crossCluster = Column(CodingKeys.crossCluster)
    }

    // Hand-written rather than the Decodable default: a run can have a million rows, and going
    // through a Decoder per row costs several times more than reading the columns directly.
    init(row: Row) throws {
        runID = try row.decode(forColumn: Columns.runID)
        requestID = try row.decode(forColumn: Columns.requestID)
        workload = try row.decode(forColumn: Columns.workload)
        replica = try row.decode(forColumn: Columns.replica)
        arrivalNs = try row.decode(forColumn: Columns.arrivalNs)
        startNs = try row.decode(forColumn: Columns.startNs)
        firstTokenNs = try row.decode(forColumn: Columns.firstTokenNs)
        endNs = try row.decode(forColumn: Columns.endNs)
        inputTokens = try row.decode(forColumn: Columns.inputTokens)
        outputTokens = try row.decode(forColumn: Columns.outputTokens)
        status = try row.decode(forColumn: Columns.status)
        cachedTokens = try row.decode(forColumn: Columns.cachedTokens)
        preemptions = try row.decode(forColumn: Columns.preemptions)
        itlMaxNs = try row.decode(forColumn: Columns.itlMaxNs)
        routedNs = try row.decode(forColumn: Columns.routedNs)
        sessionID = try row.decode(forColumn: Columns.sessionID)
        turn = try row.decode(forColumn: Columns.turn)
        subagent = try row.decode(forColumn: Columns.subagent)
        originCluster = try row.decode(forColumn: Columns.originCluster)
        networkNs = try row.decode(forColumn: Columns.networkNs)
        attempts = try row.decode(forColumn: Columns.attempts)
        crossCluster = try row.decode(forColumn: Columns.crossCluster)
    }

    static let insertSQL = """
        INSERT INTO request (run_id, request_id, workload, replica, arrival_ns, start_ns, first_token_ns,
                             end_ns, input_tokens, output_tokens, status, cached_tokens, preemptions,
                             itl_max_ns, routed_ns, session_id, turn, subagent, origin_cluster, network_ns,
                             attempts, cross_cluster) VALUES
        """
    static let columnCount = 22

    static func appendValues(of row: RequestRow, runID: Int64, to values: inout [DatabaseValue]) {
        values.append(runID.databaseValue)
        values.append(row.requestID.databaseValue)
        values.append(row.workload.databaseValue)
        values.append(row.replica.databaseValue)
        values.append(row.arrivalNs.databaseValue)
        values.append(row.startNs.databaseValue)
        values.append(row.firstTokenNs.databaseValue)
        values.append(row.endNs.databaseValue)
        values.append(row.inputTokens.databaseValue)
        values.append(row.outputTokens.databaseValue)
        values.append(row.status.databaseValue)
        values.append(row.cachedTokens.databaseValue)
        values.append(row.preemptions.databaseValue)
        values.append(row.itlMaxNs.databaseValue)
        values.append(row.routedNs.databaseValue)
        values.append(row.sessionID.databaseValue)
        values.append(row.turn.databaseValue)
        values.append(row.subagent.databaseValue)
        values.append(row.originCluster.databaseValue)
        values.append(row.networkNs.databaseValue)
        values.append(row.attempts.databaseValue)
        values.append(row.crossCluster.databaseValue)
    }

    // The CHECK constraint would reject the row too, but without saying which request it was.
    static func problem(with row: RequestRow) -> String? {
        guard RequestStatus(rawValue: row.status) == nil else { return nil }
        let allowed = RequestStatus.allCases.map(\.rawValue).joined(separator: ", ")
        return "request \(row.requestID) has status '\(row.status)', expected one of: \(allowed)"
    }

    var row: RequestRow {
        RequestRow(
            requestID: requestID, workload: workload, replica: replica, arrivalNs: arrivalNs,
            startNs: startNs, firstTokenNs: firstTokenNs, endNs: endNs, inputTokens: inputTokens,
            outputTokens: outputTokens, status: status, cachedTokens: cachedTokens, preemptions: preemptions,
            itlMaxNs: itlMaxNs, routedNs: routedNs, sessionID: sessionID, turn: turn, subagent: subagent,
            originCluster: originCluster, networkNs: networkNs, attempts: attempts, crossCluster: crossCluster)
    }
}

/// A row of `summary`.
struct SummaryRecord: Codable, FetchableRecord, PersistableRecord, BulkInsertable {
    static let databaseTableName = "summary"

    var runID: Int64
    var metric: String
    /// NULL stands for NaN: SQLite cannot store a NaN double and turns it into NULL on bind.
    var value: Double?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case metric, value
    }

    enum Columns {
        static let runID = Column(CodingKeys.runID)
    }

    static let insertSQL = "INSERT INTO summary (run_id, metric, value) VALUES "
    static let columnCount = 3

    static func appendValues(of row: SummaryRow, runID: Int64, to values: inout [DatabaseValue]) {
        values.append(runID.databaseValue)
        values.append(row.metric.databaseValue)
        values.append(row.value.isNaN ? .null : row.value.databaseValue)
    }

    var row: SummaryRow { SummaryRow(metric: metric, value: value ?? .nan) }
}

/// A row of `sample`.
struct SampleRecord: Codable, FetchableRecord, PersistableRecord, BulkInsertable {
    static let databaseTableName = "sample"

    var runID: Int64
    var timeNs: Int64
    var replica: Int
    var numRequestsWaiting: Int
    var numRequestsRunning: Int
    var kvCacheUsagePerc: Double?
    var busyFraction: Double
    var tokensPerSecond: Double?
    var generationTokensPerSecond: Double?
    var prefixCacheHitRate: Double?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case timeNs = "time_ns"
        case replica
        case numRequestsWaiting = "num_requests_waiting"
        case numRequestsRunning = "num_requests_running"
        case kvCacheUsagePerc = "kv_cache_usage_perc"
        case busyFraction = "busy_fraction"
        case tokensPerSecond = "tokens_per_second"
        case generationTokensPerSecond = "generation_tokens_per_second"
        case prefixCacheHitRate = "prefix_cache_hit_rate"
    }

    enum Columns {
        static let runID = Column(CodingKeys.runID)
        static let timeNs = Column(CodingKeys.timeNs)
        static let replica = Column(CodingKeys.replica)
        static let numRequestsWaiting = Column(CodingKeys.numRequestsWaiting)
        static let numRequestsRunning = Column(CodingKeys.numRequestsRunning)
        static let kvCacheUsagePerc = Column(CodingKeys.kvCacheUsagePerc)
        static let busyFraction = Column(CodingKeys.busyFraction)
        static let tokensPerSecond = Column(CodingKeys.tokensPerSecond)
        static let generationTokensPerSecond = Column(CodingKeys.generationTokensPerSecond)
        static let prefixCacheHitRate = Column(CodingKeys.prefixCacheHitRate)
    }

    // Hand-written for the same reason as `RequestRecord.init(row:)`: samples grow with
    // replicas × sampling ticks.
    init(row: Row) throws {
        runID = try row.decode(forColumn: Columns.runID)
        timeNs = try row.decode(forColumn: Columns.timeNs)
        replica = try row.decode(forColumn: Columns.replica)
        numRequestsWaiting = try row.decode(forColumn: Columns.numRequestsWaiting)
        numRequestsRunning = try row.decode(forColumn: Columns.numRequestsRunning)
        kvCacheUsagePerc = try row.decode(forColumn: Columns.kvCacheUsagePerc)
        busyFraction = try row.decode(forColumn: Columns.busyFraction)
        tokensPerSecond = try row.decode(forColumn: Columns.tokensPerSecond)
        generationTokensPerSecond = try row.decode(forColumn: Columns.generationTokensPerSecond)
        prefixCacheHitRate = try row.decode(forColumn: Columns.prefixCacheHitRate)
    }

    static let insertSQL = """
        INSERT INTO sample (run_id, time_ns, replica, num_requests_waiting, num_requests_running,
                            kv_cache_usage_perc, busy_fraction, tokens_per_second,
                            generation_tokens_per_second, prefix_cache_hit_rate) VALUES
        """
    static let columnCount = 10

    static func appendValues(of row: SampleRow, runID: Int64, to values: inout [DatabaseValue]) {
        values.append(runID.databaseValue)
        values.append(row.timeNs.databaseValue)
        values.append(row.replica.databaseValue)
        values.append(row.numRequestsWaiting.databaseValue)
        values.append(row.numRequestsRunning.databaseValue)
        values.append(row.kvCacheUsagePerc.databaseValue)
        values.append(row.busyFraction.databaseValue)
        values.append(row.tokensPerSecond.databaseValue)
        values.append(row.generationTokensPerSecond.databaseValue)
        values.append(row.prefixCacheHitRate.databaseValue)
    }

    var row: SampleRow {
        SampleRow(
            timeNs: timeNs, replica: replica, numRequestsWaiting: numRequestsWaiting,
            numRequestsRunning: numRequestsRunning, kvCacheUsagePerc: kvCacheUsagePerc,
            busyFraction: busyFraction, tokensPerSecond: tokensPerSecond,
            generationTokensPerSecond: generationTokensPerSecond, prefixCacheHitRate: prefixCacheHitRate)
    }
}

/// A row of `itl_histogram`.
struct ITLHistogramRecord: Codable, FetchableRecord, PersistableRecord, BulkInsertable {
    static let databaseTableName = "itl_histogram"

    var runID: Int64
    var replica: Int
    var leNs: Int64
    var tokens: Int64

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case replica
        case leNs = "le_ns"
        case tokens
    }

    enum Columns {
        static let runID = Column(CodingKeys.runID)
        static let replica = Column(CodingKeys.replica)
        static let leNs = Column(CodingKeys.leNs)
    }

    static let insertSQL = "INSERT INTO itl_histogram (run_id, replica, le_ns, tokens) VALUES "
    static let columnCount = 4

    static func appendValues(of row: ITLHistogramRow, runID: Int64, to values: inout [DatabaseValue]) {
        values.append(runID.databaseValue)
        values.append(row.replica.databaseValue)
        values.append(row.leNs.databaseValue)
        values.append(row.tokens.databaseValue)
    }

    var row: ITLHistogramRow { ITLHistogramRow(replica: replica, leNs: leNs, tokens: tokens) }
}

/// A row of `session`.
struct SessionRecord: Codable, FetchableRecord, PersistableRecord, BulkInsertable {
    static let databaseTableName = "session"

    var runID: Int64
    var sessionID: Int64
    var workload: String
    var workloadSession: Int
    var startNs: Int64
    var endNs: Int64?
    var status: String
    var plannedTurns: Int
    var turns: Int
    var timedOutTurns: Int
    var failedTurns: Int
    var retries: Int
    var reconnects: Int
    var subagentCalls: Int
    var compactions: Int

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case sessionID = "session_id"
        case workload
        case workloadSession = "workload_session"
        case startNs = "start_ns"
        case endNs = "end_ns"
        case status
        case plannedTurns = "planned_turns"
        case turns
        case timedOutTurns = "timed_out_turns"
        case failedTurns = "failed_turns"
        case retries, reconnects
        case subagentCalls = "subagent_calls"
        case compactions
    }

    enum Columns {
        static let runID = Column(CodingKeys.runID)
        static let sessionID = Column(CodingKeys.sessionID)
    }

    static let insertSQL = """
        INSERT INTO session (run_id, session_id, workload, workload_session, start_ns, end_ns, status,
                             planned_turns, turns, timed_out_turns, failed_turns, retries, reconnects,
                             subagent_calls, compactions) VALUES
        """
    static let columnCount = 15

    static func appendValues(of row: SessionRow, runID: Int64, to values: inout [DatabaseValue]) {
        values.append(runID.databaseValue)
        values.append(row.sessionID.databaseValue)
        values.append(row.workload.databaseValue)
        values.append(row.workloadSession.databaseValue)
        values.append(row.startNs.databaseValue)
        values.append(row.endNs.databaseValue)
        values.append(row.status.databaseValue)
        for count in [
            row.plannedTurns, row.turns, row.timedOutTurns, row.failedTurns, row.retries, row.reconnects,
            row.subagentCalls, row.compactions,
        ] { values.append(count.databaseValue) }
    }

    static func problem(with row: SessionRow) -> String? {
        ["completed", "failed", "unfinished"].contains(row.status)
            ? nil : "session \(row.sessionID) has status '\(row.status)', expected completed, failed or unfinished"
    }

    var row: SessionRow {
        SessionRow(
            sessionID: sessionID, workload: workload, workloadSession: workloadSession, startNs: startNs,
            endNs: endNs, status: status, plannedTurns: plannedTurns, turns: turns, timedOutTurns: timedOutTurns,
            failedTurns: failedTurns, retries: retries, reconnects: reconnects, subagentCalls: subagentCalls,
            compactions: compactions)
    }
}

/// A row of `scaling_event`; `seq` is its position in the run's list.
struct ScalingEventRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "scaling_event"

    var runID: Int64
    var seq: Int
    var timeNs: Int64
    var pool: String
    var replica: Int
    var state: String
    var desiredReplicas: Int
    var metricValue: Double?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case seq
        case timeNs = "time_ns"
        case pool, replica, state
        case desiredReplicas = "desired_replicas"
        case metricValue = "metric_value"
    }

    enum Columns {
        static let runID = Column(CodingKeys.runID)
        static let seq = Column(CodingKeys.seq)
    }

    var row: ScalingEventRow {
        ScalingEventRow(
            timeNs: timeNs, pool: pool, replica: replica, state: state, desiredReplicas: desiredReplicas,
            metricValue: metricValue)
    }
}

/// A row of `mesh_event`; `seq` is its position in the run's list.
struct MeshEventRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "mesh_event"

    var runID: Int64
    var seq: Int
    var timeNs: Int64
    var kind: String
    var subject: String
    var detail: String

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case seq
        case timeNs = "time_ns"
        case kind, subject, detail
    }

    enum Columns {
        static let runID = Column(CodingKeys.runID)
        static let seq = Column(CodingKeys.seq)
    }

    var row: MeshEventRow { MeshEventRow(timeNs: timeNs, kind: kind, subject: subject, detail: detail) }
}

/// A table whose rows `completeRun` writes in bulk with multi-row `INSERT … VALUES (…), (…)`.
protocol BulkInsertable {
    /// The public value type (named so as not to shadow GRDB's `Row` inside the records).
    associatedtype Value
    /// `INSERT INTO table (columns) VALUES`, to which placeholder groups are appended.
    static var insertSQL: String { get }
    /// Values per row, the size of one placeholder group.
    static var columnCount: Int { get }
    /// Appends one row's values, in `insertSQL` column order.
    static func appendValues(of row: Value, runID: Int64, to values: inout [DatabaseValue])
    /// Why `row` must not be stored, checked in Swift so the error can name the row; nil if fine.
    static func problem(with row: Value) -> String?
}

extension BulkInsertable {
    static func problem(with row: Value) -> String? { nil }
}

/// A condition the store itself rejects (bad input, or a row it cannot represent); SQLite's own
/// errors arrive as `DatabaseError`. Both become `StoreError` at the public boundary.
struct Problem: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
