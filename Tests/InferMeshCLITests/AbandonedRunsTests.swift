import Foundation
import GRDB
import ResultsStore
import TestSupport
import Testing

@testable import InferMeshCLI

/// Runs that die: a writer killed outright leaves an `abandoned` run that readers ignore and `--prune`
/// deletes; many writers at once all land, and a reader meanwhile sees only complete runs. Real processes.
@Suite(.serialized) struct AbandonedRunsTests {
    /// The streamed-rows scenario with two policies: each run streams several batches.
    static let scenario = StreamedRowsTests.scenario.replacingOccurrences(
        of: "policies: [least-connections]", with: "policies: [round-robin, least-connections]")

    static func start(_ binary: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Whether some connection holds the database's write lock: BEGIN IMMEDIATE fails at once with SQLITE_BUSY.
    static func writeLockHeld(_ path: String) throws -> Bool {
        var configuration = Configuration()
        configuration.busyMode = .immediateError
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        do {
            try queue.inDatabase { db in try db.inTransaction(.immediate) { .rollback } }
            return false
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
            return true
        }
    }

    /// `runs --status` takes exactly the statuses a reader can show: the stored ones and RunLiveness's `abandoned`.
    @Test func statusFilterNamesWhatReadersShow() {
        let shown = RunStatus.allCases.map(\.rawValue) + [RunLiveness.abandoned]
        #expect(Set(RunsCommand.Status.allCases.map(\.rawValue)) == Set(shown))
        #expect(RunsCommand.Status.allCases.count == shown.count)
    }

    @Test func aWriterKilledInTheMiddleOfABatchLeavesAnAbandonedRunThatPruneDeletes() throws {
        let binary = try #require(CLITests.executable(), "the infermesh executable was not built next to the tests")
        let folder = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("long.yaml")
        try StreamedRowsTests.scenario.replacingOccurrences(of: "horizon: 200s", with: "horizon: 20h")
            .write(to: file, atomically: true, encoding: .utf8)
        let db = folder.appendingPathComponent("k.sqlite").path
        // Each batch pauses 300 ms inside its transaction, between its request and sample inserts.
        let process = try Self.start(
            binary, ["run", file.path, "--db", db, "--quiet"], environment: ["INFERMESH_TEST_APPEND_PAUSE_US": "300000"]
        )
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // Wait for a committed batch, then for the writer to be inside the next batch's transaction.
        var committed = 0
        var inBatch = false
        for _ in 0..<600 where !(committed > 0 && inBatch) {
            Thread.sleep(forTimeInterval: 0.02)
            guard FileManager.default.fileExists(atPath: db), let store = try? ResultsStore(path: db),
                let run = try? store.runs().first
            else { continue }
            committed = (try? store.requests(runID: run.id).count) ?? 0
            inBatch = committed > 0 && ((try? Self.writeLockHeld(db)) ?? false)
        }
        #expect(committed > 0 && inBatch, "never saw a committed batch and a batch under way")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)

        let store = try ResultsStore(path: db)
        let integrity = try DatabaseQueue(path: db).read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check")
        }
        #expect(integrity == "ok")
        let run = try #require(try store.runs().first)
        #expect(run.status == .running && run.writer?.pid == process.processIdentifier)
        #expect(run.heartbeatAt.map { $0 > run.createdAt } == true, "streamed batches did not beat")
        // The batch under way rolled back: what is kept is the committed batches, a prefix of the run's requests.
        let kept = try store.requests(runID: run.id).map(\.requestID)
        #expect(kept.count >= committed && kept == Array(0..<Int64(kept.count)))
        #expect(RunLiveness.system().isAbandoned(run))

        let listed = CLITests.invoke(["runs", "--db", db])
        #expect(listed.out.contains("abandoned") && listed.out.contains("process \(process.processIdentifier)"))
        #expect(CLITests.invoke(["runs", "--db", db, "--status", "abandoned"]).out.contains("streamed-rows"))
        // Readers never take it as complete.
        let compare = CLITests.invoke(["compare", "--db", db])
        #expect(compare.status == 64 && compare.err.contains("no complete runs"))
        let byID = CLITests.invoke(["compare", String(run.id), "--db", db])
        #expect(byID.status == 64 && byID.err.contains("run \(run.id) is abandoned, not complete"), "\(byID.err)")
        #expect(CLITests.invoke(["reproduce", String(run.id), "--db", db]).err.contains("is abandoned"))

        let pruned = CLITests.invoke(["runs", "--db", db, "--prune"])
        #expect(pruned.status == 0 && pruned.out.contains("pruned run \(run.id) (abandoned)"))
        #expect(try store.runs().isEmpty)
        #expect(try Self.rowCount(db, "request", run.id) == 0 && Self.rowCount(db, "sample", run.id) == 0)
    }

    @Test func eightConcurrentWritersAllLandWhileAReaderSeesOnlyCompleteRuns() throws {
        let binary = try #require(CLITests.executable(), "the infermesh executable was not built next to the tests")
        let folder = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("two.yaml")
        try Self.scenario.write(to: file, atomically: true, encoding: .utf8)
        let db = folder.appendingPathComponent("w.sqlite").path
        let compare = ["compare", "--db", db, "--scenario", "streamed-rows", "--format", "csv"]
        let writers = try (0..<8).map { _ in try Self.start(binary, ["run", file.path, "--db", db, "--quiet"]) }
        defer { for writer in writers where writer.isRunning { kill(writer.processIdentifier, SIGKILL) } }

        // Meanwhile a reader compares, again and again: before the first run lands there is nothing to compare;
        // afterwards every comparison it prints is that of complete runs.
        var seen: [String] = []
        var nothingYet = 0
        while writers.contains(where: \.isRunning) {
            let result = CLITests.invoke(compare)
            if result.status == 0 {
                seen.append(result.out)
            } else {
                // Before the first writer has created the file, or before a run has landed.
                let nothing =
                    (result.status == 66 && result.err.contains("no results database"))
                    || (result.status == 64 && result.err.contains("no complete runs"))
                #expect(nothing, "\(result.status): \(result.err)")
                nothingYet += 1
            }
        }
        #expect(writers.allSatisfy { $0.terminationReason == .exit && $0.terminationStatus == 0 })

        let store = try ResultsStore(path: db)
        let runs = try store.runs()
        #expect(runs.count == 16 && runs.allSatisfy { $0.status == .complete })
        // Every process ran the same two runs: one digest and one row count per policy.
        for policy in ["round-robin", "least-connections"] {
            let group = runs.filter { $0.policy == policy }
            #expect(group.count == 8 && Set(group.map(\.digest)).count == 1)
            let rows = try Set(group.map { try Self.rowCount(db, "request", $0.id) })
            #expect(rows.count == 1 && rows.first! > 2 * RowStreamer.batchRows)
        }
        // The final comparison, and every one seen during the writes, is of whole runs: runs of one policy are
        // identical, so a comparison of complete runs never changes; one that read a partly written run would.
        let final = CLITests.invoke(compare)
        #expect(final.status == 0)
        let figures = Set(Self.perPolicyFigures(final.out))
        for (index, output) in seen.enumerated() where !Set(Self.perPolicyFigures(output)).isSubset(of: figures) {
            Issue.record("comparison \(index) during the writes differs from the final one:\n\(output)")
        }
        #expect(!seen.isEmpty, "no comparison of complete runs happened while the writers ran")
    }

    static func rowCount(_ path: String, _ table: String, _ runID: Int64) throws -> Int {
        try DatabaseQueue(path: path).read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table) WHERE run_id = ?", arguments: [runID]) ?? 0
        }
    }

    /// Each compared policy's metric means, without the run counts and intervals that grow as runs land.
    static func perPolicyFigures(_ csv: String) -> [String] {
        csv.split(whereSeparator: \.isNewline).dropFirst().map { line in
            line.split(separator: ",", omittingEmptySubsequences: false).prefix(3).joined(separator: ",")
        }
    }
}
