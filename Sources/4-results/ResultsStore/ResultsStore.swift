import Foundation
import GRDB

/// The SQLite database of simulation runs: one row per run plus its requests, samples and summaries.
///
/// Several stores, in one process or many, may write the same file at once: the database is in WAL
/// mode, every write is one IMMEDIATE transaction, and a writer that finds the file locked waits
/// up to `busyTimeoutSeconds` instead of failing. docs/results-schema.md describes the tables.
public final class ResultsStore: Sendable {
    /// Where the CLI keeps its database unless told otherwise, relative to the working directory.
    public static let defaultPath = "results/infermesh.sqlite"

    /// How long a write waits for another writer's transaction before giving up.
    ///
    /// Generous because the other writer may be committing a run with a million request rows.
    public static let busyTimeoutSeconds: Double = 60

    /// Upper bound on rows per multi-row INSERT. Past a few dozen rows the per-statement overhead is
    /// already amortized; larger batches only grow the argument array.
    static let maxRowsPerInsert = 100

    /// Microseconds `appendRows` sleeps between its inserts, inside the transaction, read once from
    /// `INFERMESH_TEST_APPEND_PAUSE_US`: only so a test can kill a writer in the middle of a batch.
    static let appendPauseForTests: UInt32 =
        ProcessInfo.processInfo.environment["INFERMESH_TEST_APPEND_PAUSE_US"].flatMap { UInt32($0) } ?? 0

    /// The database file.
    public let path: String

    // DatabasePool is Sendable (GRDB serializes access internally), which makes this class Sendable.
    let pool: DatabasePool

    /// Opens (creating if needed) the database at `path`, creating parent directories, and migrates it.
    public init(path: String) throws {
        self.path = path
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.busyMode = .timeout(Self.busyTimeoutSeconds)
            configuration.prepareDatabase { db in
                // In WAL mode NORMAL still survives a killed process; only an OS crash or power loss
                // can drop the last commits, and never corrupts the file. FULL would fsync every commit.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            // Openers of one file take turns creating and migrating it: an OS file lock beside the database
            // (held only while opening) keeps concurrent processes from racing on the schema.
            pool = try Self.withOpeningLock(path) {
                let pool = try DatabasePool(path: path, configuration: configuration)
                try Self.migrate(pool)
                return pool
            }
        } catch {
            throw StoreError(path: path, operation: "opening", underlying: error)
        }
    }

    /// Records a run that is about to start, with status `running`, and its scenario's files, in one transaction;
    /// returns its id.
    public func beginRun(_ run: NewRun) throws -> Int64 {
        try perform("beginning a run of '\(run.scenarioName)'") {
            try pool.write { db in
                var record = RunRecord(run)
                try record.insert(db)
                guard let id = record.id else { throw Problem("SQLite assigned no id") }
                try Self.insert(Tables.runFile, run.files, runID: id, db)
                return id
            }
        }
    }

    /// Stores a batch of a `running` run's request and sample rows while it goes on, in one transaction, so a
    /// long run need not hold its rows until the end. Readers see only `complete` runs, so they never see a
    /// run half written; if the run fails, ``failRun(id:error:)`` deletes what was appended.
    /// `heartbeat`, when given, becomes the run's last sign of life in the same transaction.
    public func appendRows(id: Int64, requests: [RequestRow], samples: [SampleRow], heartbeat: String? = nil) throws {
        try perform("appending rows to run \(id)") {
            try pool.write { db in
                try Self.requireRunning(id, db)
                try Self.insert(Tables.request, requests, runID: id, db)
                if Self.appendPauseForTests > 0 { usleep(Self.appendPauseForTests) }
                try Self.insert(Tables.sample, samples, runID: id, db)
                if let heartbeat {
                    try RunRecord.filter(key: id).updateAll(db, RunRecord.Columns.heartbeatAt.set(to: heartbeat))
                }
            }
        }
    }

    /// Records a sign of life for those of `ids` still `running`, in one transaction.
    public func beat(ids: [Int64], at time: String) throws {
        guard !ids.isEmpty else { return }
        try perform("recording a heartbeat of runs \(ids.map(String.init).joined(separator: ", "))") {
            try pool.write { db in
                _ = try RunRecord.filter(ids.contains(RunRecord.Columns.id))
                    .filter(RunRecord.Columns.status == RunStatus.running.rawValue)
                    .updateAll(db, RunRecord.Columns.heartbeatAt.set(to: time))
            }
        }
    }

    /// Deletes every `failed` run and every run `liveness` finds abandoned, each with all its rows, in one
    /// transaction per run. Each run is checked again inside its transaction, so a run that completed or beat
    /// in the meantime is kept. Returns the deleted runs in id order.
    public func prune(_ liveness: RunLiveness) throws -> [PrunedRun] {
        let candidates = try runs().filter { $0.status == .failed || liveness.isAbandoned($0) }.map(\.id)
        var pruned: [PrunedRun] = []
        for id in candidates {
            let deleted: PrunedRun? = try perform("pruning run \(id)") {
                try pool.write { db in
                    guard let run = try RunRecord.fetchOne(db, key: id)?.stored(),
                        run.status == .failed || liveness.isAbandoned(run)
                    else { return nil }
                    var rows = 0
                    for table in Tables.all where table.name != Tables.run.name {
                        try db.execute(
                            sql: "DELETE FROM \(table.name.quotedDatabaseIdentifier) WHERE run_id = ?", arguments: [id])
                        rows += db.changesCount
                    }
                    try RunRecord.deleteOne(db, key: id)
                    return PrunedRun(id: id, status: liveness.shownStatus(run), rows: rows)
                }
            }
            if let deleted { pruned.append(deleted) }
        }
        return pruned
    }

    /// Stores a finished run's rows (those not appended already) and marks it `complete`, all in one
    /// transaction.
    ///
    /// If anything fails (a constraint, a bad status, the disk) nothing of it is kept and the run
    /// stays `running`, so a `complete` run always has all its rows.
    public func completeRun(id: Int64, results: RunResults) throws {
        try perform("completing run \(id)") {
            guard Self.isDigest(results.digest) else {
                throw Problem("digest '\(results.digest)' is not 16 lowercase hex digits")
            }
            try pool.write { db in
                try Self.requireRunning(id, db)
                try Self.insert(Tables.replica, results.replicas, runID: id, db)
                try Self.insert(Tables.request, results.requests, runID: id, db)
                try Self.insert(Tables.summary, results.summaries, runID: id, db)
                try Self.insert(Tables.sample, results.samples, runID: id, db)
                try Self.insert(Tables.itlHistogram, results.itlHistogram, runID: id, db)
                try Self.insert(Tables.session, results.sessions, runID: id, db)
                try Self.insert(Tables.scalingEvent, results.scalingEvents, runID: id, db)
                try Self.insert(Tables.meshEvent, results.meshEvents, runID: id, db)
                try RunRecord.filter(key: id).updateAll(
                    db,
                    RunRecord.Columns.status.set(to: RunStatus.complete.rawValue),
                    RunRecord.Columns.digest.set(to: results.digest),
                    RunRecord.Columns.events.set(to: results.events),
                    RunRecord.Columns.wallSeconds.set(to: results.wallSeconds))
                if let horizon = results.horizonNs {
                    try RunRecord.filter(key: id).updateAll(db, RunRecord.Columns.horizonNs.set(to: horizon))
                }
            }
        }
    }

    /// Marks a `running` run as `failed` with the reason; it keeps no result rows (any appended are deleted).
    public func failRun(id: Int64, error: String) throws {
        try perform("failing run \(id)") {
            try pool.write { db in
                try Self.requireRunning(id, db)
                for table in [Tables.request.declaration, Tables.sample.declaration] {
                    try db.execute(
                        sql: "DELETE FROM \(table.name.quotedDatabaseIdentifier) WHERE run_id = ?", arguments: [id])
                }
                try RunRecord.filter(key: id).updateAll(
                    db,
                    RunRecord.Columns.status.set(to: RunStatus.failed.rawValue),
                    RunRecord.Columns.error.set(to: error))
            }
        }
    }

    /// The run with this id, or nil if there is none.
    public func run(id: Int64) throws -> StoredRun? {
        try perform("reading run \(id)") {
            try pool.read { db in try RunRecord.fetchOne(db, key: id)?.stored() }
        }
    }

    /// The runs matching every given filter (nil matches anything), ordered by id.
    public func runs(
        scenarioName: String? = nil, policy: String? = nil,
        status: RunStatus? = nil
    ) throws -> [StoredRun] {
        try perform("listing runs") {
            try pool.read { db in
                var request = RunRecord.all()
                if let scenarioName {
                    request = request.filter(RunRecord.Columns.scenarioName == scenarioName)
                }
                if let policy {
                    request = request.filter(RunRecord.Columns.policy == policy)
                }
                if let status {
                    request = request.filter(RunRecord.Columns.status == status.rawValue)
                }
                return try request.order(RunRecord.Columns.id).fetchAll(db).map { try $0.stored() }
            }
        }
    }

    /// A run's summary metrics, in the order they were given to `completeRun`.
    public func summaries(runID: Int64) throws -> [SummaryRow] {
        try perform("reading summaries of run \(runID)") {
            try pool.read { db in try Tables.summary.fetchAll(db, runID: runID) }
        }
    }

    /// A run's requests, ordered by request id.
    public func requests(runID: Int64) throws -> [RequestRow] {
        try perform("reading requests of run \(runID)") {
            try pool.read { db in try Tables.request.fetchAll(db, runID: runID) }
        }
    }

    /// A run's replica samples, ordered by time, then replica.
    public func samples(runID: Int64) throws -> [SampleRow] {
        try perform("reading samples of run \(runID)") {
            try pool.read { db in try Tables.sample.fetchAll(db, runID: runID) }
        }
    }

    /// A run's inter-token latency histogram, ordered by replica, then bucket.
    public func itlHistogram(runID: Int64) throws -> [ITLHistogramRow] {
        try perform("reading the ITL histogram of run \(runID)") {
            try pool.read { db in try Tables.itlHistogram.fetchAll(db, runID: runID) }
        }
    }

    /// A run's agent sessions, ordered by session id.
    public func sessions(runID: Int64) throws -> [SessionRow] {
        try perform("reading sessions of run \(runID)") {
            try pool.read { db in try Tables.session.fetchAll(db, runID: runID) }
        }
    }

    /// A run's scaling events, in the order they happened.
    public func scalingEvents(runID: Int64) throws -> [ScalingEventRow] {
        try perform("reading scaling events of run \(runID)") {
            try pool.read { db in try Tables.scalingEvent.fetchAll(db, runID: runID) }
        }
    }

    /// A run's mesh events, in the order they happened.
    public func meshEvents(runID: Int64) throws -> [MeshEventRow] {
        try perform("reading mesh events of run \(runID)") {
            try pool.read { db in try Tables.meshEvent.fetchAll(db, runID: runID) }
        }
    }

    /// The files a run's scenario names, in the order its loader read them; empty for a scenario that names none
    /// and for runs stored before `run_file` existed (`v6`).
    public func runFiles(runID: Int64) throws -> [RunFileRow] {
        try perform("reading the files of run \(runID)") {
            try pool.read { db in try Tables.runFile.fetchAll(db, runID: runID) }
        }
    }

    /// A run's replicas, ordered by replica index.
    public func replicas(runID: Int64) throws -> [ReplicaRow] {
        try perform("reading replicas of run \(runID)") {
            try pool.read { db in try Tables.replica.fetchAll(db, runID: runID) }
        }
    }

    // MARK: - Internals

    /// Runs `body`, turning whatever it throws into a `StoreError` about `operation`.
    func perform<T>(_ operation: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw StoreError(path: path, operation: operation(), underlying: error)
        }
    }

    /// Runs `body` holding an exclusive `flock` on `<path>-open.lock`.
    private static func withOpeningLock<T>(_ path: String, _ body: () throws -> T) throws -> T {
        let descriptor = open(path + "-open.lock", O_CREAT | O_RDWR, 0o644)
        guard descriptor >= 0 else { throw Problem("cannot create \(path)-open.lock: errno \(errno)") }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw Problem("cannot lock \(path)-open.lock: errno \(errno)") }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }

    /// Applies pending migrations. Callers hold the opening lock, so no other opener races on the schema.
    private static func migrate(_ pool: DatabasePool) throws {
        try Schema.migrator.migrate(pool)
    }

    /// Throws unless run `id` exists and is `running`: finished runs are immutable.
    private static func requireRunning(_ id: Int64, _ db: Database) throws {
        let status =
            try RunRecord
            .filter(key: id)
            .select(RunRecord.Columns.status, as: String.self)
            .fetchOne(db)
        guard let status else { throw Problem("there is no run \(id)") }
        guard status == RunStatus.running.rawValue else {
            throw Problem("run \(id) is \(status), only a running run can be completed or failed")
        }
    }

    private static func isDigest(_ text: String) -> Bool {
        text.utf8.count == 16 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Inserts `rows` with multi-row INSERTs: one prepared statement for every full batch, and one
    /// more for the remainder. Binding a reused statement is what makes a million rows affordable;
    /// `Record.insert` per row would build and encode a record and look up SQL each time.
    private static func insert<Value>(
        _ table: RowTable<Value>, _ rows: [Value], runID: Int64, _ db: Database
    ) throws {
        guard !rows.isEmpty else { return }
        try rows.withUnsafeBufferPointer { rows in
            let included = table.includedColumns(rows)
            let batchSize = min(maxRowsPerInsert, rows.count)
            let fullBatch = try db.makeStatement(sql: table.insertSQL(rows: batchSize, included: included))
            var values: [DatabaseValue] = []
            values.reserveCapacity(batchSize * table.fields.count)
            var start = rows.startIndex
            while start < rows.endIndex {
                let end = min(start + batchSize, rows.endIndex)
                values.removeAll(keepingCapacity: true)
                for position in start..<end {
                    if let problem = table.problem(rows[position]) { throw Problem(problem) }
                    table.appendValues(
                        of: rows.baseAddress! + position, runID: runID, position: position, included: included,
                        to: &values)
                }
                let statement =
                    end - start == batchSize
                    ? fullBatch
                    : try db.makeStatement(sql: table.insertSQL(rows: end - start, included: included))
                // The values come from `appendValues`, which matches the placeholders by construction.
                statement.setUncheckedArguments(StatementArguments(values))
                try statement.execute()
                start = end
            }
        }
    }
}

// Introspection for tests (`@testable import`), kept out of the public API.
extension ResultsStore {
    /// The journal mode SQLite reports, e.g. `wal`.
    func journalMode() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// Columns of index `name`, in key order.
    func indexColumns(_ name: String) throws -> [String] {
        try pool.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM pragma_index_info(?) ORDER BY seqno", arguments: [name])
        }
    }

    /// Identifiers of the migrations applied to the file.
    func appliedMigrations() throws -> [String] {
        try pool.read { db in try Schema.migrator.appliedMigrations(db) }
    }

    /// How many rows of `table` belong to run `runID`.
    func rowCount(table: String, runID: Int64) throws -> Int {
        try pool.read { db in
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM \(table.quotedDatabaseIdentifier) WHERE run_id = ?",
                arguments: [runID]) ?? 0
        }
    }
}
