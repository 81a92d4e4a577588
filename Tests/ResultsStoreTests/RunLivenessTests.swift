import Foundation
import TestSupport
import Testing

@testable import ResultsStore

/// Which `running` runs are abandoned, and what `prune` deletes: with an injected clock, host and process table.
@Suite struct RunLivenessTests {
    static let created = "2026-01-01T00:00:00.000Z"
    static let start = RunLiveness.date(created)!

    /// A reader on `host` at `seconds` after `created`, for whom only `alive` processes exist.
    static func reader(host: String = "here", at seconds: Double, alive: Set<Int32> = [7]) -> RunLiveness {
        RunLiveness(
            host: host, now: start.addingTimeInterval(seconds), staleAfter: 60, processExists: { alive.contains($0) })
    }

    static func running(writer: RunWriter?, heartbeat: String? = nil) -> StoredRun {
        var run = newRun()
        run.createdAt = created
        return StoredRun(
            id: 1, scenarioName: run.scenarioName, scenarioSHA256: run.scenarioSHA256, scenarioText: run.scenarioText,
            policy: run.policy, seed: run.seed, replication: 0, toolVersion: run.toolVersion, status: .running,
            digest: nil, events: nil, wallSeconds: nil, createdAt: created, horizonNs: 1, warmupNs: 0, error: nil,
            writer: writer, heartbeatAt: heartbeat ?? (writer == nil ? nil : created))
    }

    @Test func aRunOnThisHostIsAbandonedWhenItsProcessIsGone() {
        let live = Self.running(writer: RunWriter(host: "here", pid: 7))
        let dead = Self.running(writer: RunWriter(host: "here", pid: 8))
        #expect(!Self.reader(at: 1).isAbandoned(live))
        #expect(Self.reader(at: 1).isAbandoned(dead))
        #expect(
            Self.reader(at: 1).shownStatus(dead) == "abandoned" && Self.reader(at: 1).shownStatus(live) == "running")
    }

    @Test func aSilentRunIsAbandonedFromAnyHostAfterStaleAfter() {
        // Another host's process table says nothing about the writer: only its heartbeat counts.
        let remote = Self.running(writer: RunWriter(host: "there", pid: 8))
        #expect(!Self.reader(at: 59).isAbandoned(remote))
        #expect(Self.reader(at: 61).isAbandoned(remote))
        // A later heartbeat keeps it alive; a live process id on this host (perhaps reused) does not, once silent.
        let beating = Self.running(writer: RunWriter(host: "there", pid: 8), heartbeat: "2026-01-01T00:01:00.000Z")
        #expect(!Self.reader(at: 110).isAbandoned(beating) && Self.reader(at: 121).isAbandoned(beating))
        let reused = Self.running(writer: RunWriter(host: "here", pid: 7))
        #expect(Self.reader(at: 61).isAbandoned(reused))
        // Runs stored without a writer count from their creation.
        #expect(!Self.reader(at: 30).isAbandoned(Self.running(writer: nil)))
        #expect(Self.reader(at: 90).isAbandoned(Self.running(writer: nil)))
    }

    @Test func timestampsAreISO8601UTCWithMilliseconds() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for seconds in [0.0, 1_767_225_600.5, 1_796_631_384.123, 4_102_444_799.999] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(RunLiveness.timestamp(date) == formatter.string(from: date))
            #expect(
                RunLiveness.date(RunLiveness.timestamp(date)).map { abs($0.timeIntervalSince(date)) < 0.001 } == true)
        }
    }

    @Test func onlyRunningRunsCanBeAbandoned() {
        var run = Self.running(writer: RunWriter(host: "here", pid: 8))
        for status in [RunStatus.complete, .failed] {
            run.status = status
            #expect(
                !Self.reader(at: 1_000).isAbandoned(run) && Self.reader(at: 1_000).shownStatus(run) == status.rawValue)
        }
    }

    @Test func writerAndHeartbeatAreStoredAndEachBatchBeats() throws {
        try withTemporaryDatabase { path in
            let store = try ResultsStore(path: path)
            var description = newRun()
            description.createdAt = Self.created
            description.writer = RunWriter(host: "here", pid: 7)
            let id = try store.beginRun(description)
            #expect(try store.run(id: id)?.writer == RunWriter(host: "here", pid: 7))
            #expect(try store.run(id: id)?.heartbeatAt == Self.created)
            try store.appendRows(
                id: id, requests: [requestRow(1)], samples: [], heartbeat: "2026-01-01T00:00:30.000Z")
            #expect(try store.run(id: id)?.heartbeatAt == "2026-01-01T00:00:30.000Z")
            try store.beat(ids: [id], at: "2026-01-01T00:00:45.000Z")
            #expect(try store.run(id: id)?.heartbeatAt == "2026-01-01T00:00:45.000Z")
            // A complete run takes no more beats.
            try store.completeRun(id: id, results: results(requestCount: 0))
            try store.beat(ids: [id], at: "2026-01-01T00:09:00.000Z")
            #expect(try store.run(id: id)?.heartbeatAt == "2026-01-01T00:00:45.000Z")
        }
    }

    @Test func pruneDeletesAbandonedAndFailedRunsWithEveryRowAndKeepsTheRest() throws {
        try withTemporaryDatabase { path in
            let store = try ResultsStore(path: path)
            func begin(pid: Int32) throws -> Int64 {
                var description = newRun()
                description.createdAt = Self.created
                description.writer = RunWriter(host: "here", pid: pid)
                return try store.beginRun(description)
            }
            let complete = try begin(pid: 8)
            try store.completeRun(id: complete, results: results(requestCount: 40))
            let failed = try begin(pid: 7)
            try store.appendRows(id: failed, requests: (0..<5).map { requestRow($0) }, samples: [])
            try store.failRun(id: failed, error: "out of memory")
            let abandoned = try begin(pid: 8)
            try store.appendRows(id: abandoned, requests: (0..<25).map { requestRow($0) }, samples: [])
            let live = try begin(pid: 7)
            try store.appendRows(id: live, requests: (0..<3).map { requestRow($0) }, samples: [])

            let pruned = try store.prune(Self.reader(at: 10))
            #expect(
                pruned == [
                    PrunedRun(id: failed, status: "failed", rows: 0),
                    PrunedRun(id: abandoned, status: "abandoned", rows: 25),
                ])
            #expect(try store.runs().map(\.id) == [complete, live])
            #expect(try store.requests(runID: abandoned).isEmpty && store.requests(runID: complete).count == 40)
            #expect(try store.requests(runID: live).count == 3)
            // Nothing of the pruned runs is left in any table.
            for table in Tables.all where table.name != "run" {
                #expect(try store.rowCount(table: table.name, runID: abandoned) == 0)
            }
            #expect(try store.prune(Self.reader(at: 10)).isEmpty)
        }
    }
}
