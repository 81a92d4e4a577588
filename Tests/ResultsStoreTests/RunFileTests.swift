import Foundation
import GRDB
import TestSupport
import Testing

@testable import ResultsStore

/// `run_file` (v6): the files a run's scenario names, stored with the run, carried by merge and prune, absent
/// from runs stored before it.
@Suite("run_file")
struct RunFileTests {
    static let files = [
        RunFileRow(
            path: "traces/conv.csv", resolvedPath: "scenarios/traces/conv.csv",
            sha256: String(repeating: "0f", count: 32)),
        RunFileRow(path: "lengths.txt", resolvedPath: "/srv/s/lengths.txt", sha256: String(repeating: "a1", count: 32)),
    ]

    /// A database at `path` migrated up to v5, before `run_file`, holding one complete run.
    static func version5Database(_ path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(queue, upTo: Schema.v5)
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO run (scenario_name, scenario_sha256, scenario_text, policy, seed, replication,
                                     tool_version, status, digest, events, wall_seconds, created_at, horizon_ns,
                                     warmup_ns)
                    VALUES ('old', 'ab', 'name: old', 'random', 1, 0, '0.3.0', 'complete', '0123456789abcdef', 5, 0.1,
                            't', 1, 0)
                    """)
        }
        try queue.close()
    }

    @Test("a run's files are stored with it, in order, and read back; a run without files has none")
    func filesRoundTrip() throws {
        try withTemporaryDatabase { path in
            let store = try ResultsStore(path: path)
            let id = try store.beginRun(newRun(files: Self.files))
            let bare = try store.beginRun(newRun())
            #expect(try store.runFiles(runID: id) == Self.files)
            #expect(try store.runFiles(runID: bare) == [])
            var positions: [StoredValue] = []
            try store.forEachRow(table: "run_file", columns: ["position"], runID: id, orderBy: ["position"]) {
                positions.append($0[0])
            }
            #expect(positions == [.integer(0), .integer(1)])
            try store.completeRun(id: id, results: results(requestCount: 3))
            #expect(try store.runFiles(runID: id) == Self.files)
        }
    }

    @Test("a file whose sha256 is not 64 lowercase hex digits is refused, and no run is left behind")
    func aBadDigestIsRefused() throws {
        try withTemporaryDatabase { path in
            let store = try ResultsStore(path: path)
            let bad = RunFileRow(path: "a.csv", resolvedPath: "a.csv", sha256: String(repeating: "AB", count: 32))
            #expect(throws: StoreError.self) { try store.beginRun(newRun(files: [bad])) }
            #expect(try store.runs().isEmpty)
        }
    }

    @Test("a v5 database upgrades in place: its runs have no files, and new runs store theirs")
    func upgradeFromV5() throws {
        try withTemporaryDatabase { path in
            try Self.version5Database(path)
            let store = try ResultsStore(path: path)
            #expect(try store.appliedMigrations() == ResultsStoreTests.migrations)
            #expect(try store.run(id: 1)?.status == .complete)
            #expect(try store.runFiles(runID: 1) == [])
            let id = try store.beginRun(newRun(files: Self.files))
            #expect(try store.runFiles(runID: id) == Self.files)
        }
    }

    @Test("merge copies each complete run's files under its new id, and merges a v5 database, which has none")
    func mergeCarriesTheFiles() throws {
        try withTemporaryDatabase { path in
            let folder = (path as NSString).deletingLastPathComponent
            let source = try ResultsStore(path: folder + "/source.sqlite")
            let complete = try source.beginRun(newRun(files: Self.files))
            try source.completeRun(id: complete, results: results(requestCount: 3))
            _ = try source.beginRun(newRun(files: [Self.files[1]]))  // running: not merged
            let old = folder + "/v5.sqlite"
            try Self.version5Database(old)

            let store = try ResultsStore(path: path)
            let existing = try store.beginRun(newRun(files: [Self.files[0]]))
            let merged = try store.merge(from: source.path)
            #expect(merged.newRunIDs == [existing + 1] && merged.skipped == 1)
            #expect(try store.runFiles(runID: existing + 1) == Self.files)
            #expect(try store.runFiles(runID: existing) == [Self.files[0]])
            let fromV5 = try store.merge(from: old)
            #expect(fromV5.newRunIDs == [existing + 2])
            #expect(try store.runFiles(runID: existing + 2) == [])
        }
    }

    @Test("pruning a failed run deletes its files")
    func pruneDeletesTheFiles() throws {
        try withTemporaryDatabase { path in
            let store = try ResultsStore(path: path)
            let id = try store.beginRun(newRun(files: Self.files))
            try store.failRun(id: id, error: "boom")
            #expect(try store.runFiles(runID: id) == Self.files)
            let pruned = try store.prune(RunLiveness.system())
            #expect(pruned.map(\.id) == [id])
            #expect(try store.rowCount(table: "run_file", runID: id) == 0)
        }
    }
}
