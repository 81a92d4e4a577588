import GRDB

// `run` is the one table written a row at a time, through a GRDB record. It is internal: the public API
// speaks in the plain values of Rows.swift, so no GRDB type leaks to callers. The other tables are written in
// bulk and read from their declarations in Tables.swift: encoding a Codable value per row is several times
// slower than binding a reused statement.

/// A row of `run`.
struct RunRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = Tables.run.name

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
    var writerHost: String?
    var writerPid: Int64?
    var heartbeatAt: String?

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
        case writerHost = "writer_host"
        case writerPid = "writer_pid"
        case heartbeatAt = "heartbeat_at"
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
        static let heartbeatAt = Column(CodingKeys.heartbeatAt)
        static let horizonNs = Column(CodingKeys.horizonNs)
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
        writerHost = run.writer?.host
        writerPid = run.writer.map { Int64($0.pid) }
        heartbeatAt = run.writer == nil ? nil : run.createdAt
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
            horizonNs: horizonNs, warmupNs: warmupNs, error: error,
            writer: writerHost.flatMap { host in
                writerPid.map { RunWriter(host: host, pid: Int32(truncatingIfNeeded: $0)) }
            },
            heartbeatAt: heartbeatAt)
    }
}

/// A condition the store itself rejects (bad input, or a row it cannot represent); SQLite's own
/// errors arrive as `DatabaseError`. Both become `StoreError` at the public boundary.
struct Problem: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
