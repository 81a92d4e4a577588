import Foundation
import GRDB
import TestSupport
import Testing

@testable import ResultsStore

@Suite("ResultsStore")
struct ResultsStoreTests {
    /// Every migration ever shipped, in order: the list only grows.
    static let migrations = [
        "v1-initial", "v2-request-cache-and-preemptions", "v3-token-latencies-and-rates",
        "v4-sessions-scaling-and-mesh", "v5-run-writer-and-heartbeat", "v6-run-files", "v7-disaggregation",
        "v8-lora", "v9-kv-offload",
    ]

    @Test("migrations create every table and column, the index, and WAL mode")
    func schema() throws {
        try withTemporaryDatabase { path in
            let store = try ResultsStore(path: path)
            let expected: [String: [String]] = [
                "run": [
                    "id", "scenario_name", "scenario_sha256", "scenario_text", "policy", "seed",
                    "replication", "tool_version", "status", "digest", "events", "wall_seconds",
                    "created_at", "horizon_ns", "warmup_ns", "error", "writer_host", "writer_pid", "heartbeat_at",
                ],
                "replica": [
                    "run_id", "replica", "pool", "kind", "num_gpu_blocks", "busy_fraction", "prompt_tokens",
                    "generation_tokens", "prefix_cache_queries", "prefix_cache_hits", "preemptions", "cluster",
                    "external_prefix_cache_queries", "external_prefix_cache_hits",
                ],
                "request": [
                    "run_id", "request_id", "workload", "replica", "arrival_ns", "start_ns",
                    "first_token_ns", "end_ns", "input_tokens", "output_tokens", "status", "cached_tokens",
                    "preemptions", "itl_max_ns", "routed_ns", "session_id", "turn", "subagent", "origin_cluster",
                    "network_ns", "attempts", "cross_cluster", "prefill_replica", "kv_transfer_ns", "kv_transfer_bytes",
                    "lora_adapter",
                    "loaded_tokens",
                ],
                "mesh_event": ["run_id", "seq", "time_ns", "kind", "subject", "detail"],
                "session": [
                    "run_id", "session_id", "workload", "workload_session", "start_ns", "end_ns", "status",
                    "planned_turns", "turns", "timed_out_turns", "failed_turns", "retries", "reconnects",
                    "subagent_calls", "compactions",
                ],
                "scaling_event": [
                    "run_id", "seq", "time_ns", "pool", "replica", "state", "desired_replicas", "metric_value",
                ],
                "summary": ["run_id", "metric", "value"],
                "sample": [
                    "run_id", "time_ns", "replica", "num_requests_waiting", "num_requests_running",
                    "kv_cache_usage_perc", "busy_fraction", "tokens_per_second", "generation_tokens_per_second",
                    "prefix_cache_hit_rate",
                ],
                "itl_histogram": ["run_id", "replica", "le_ns", "tokens"],
                "run_file": ["run_id", "position", "path", "resolved_path", "sha256"],
            ]
            for (table, columns) in expected {
                #expect(try store.columns(ofTable: table) == columns, "table \(table)")
            }
            #expect(try store.indexColumns("run_scenario_policy") == ["scenario_name", "policy"])
            #expect(try store.journalMode() == "wal")
            #expect(try store.appliedMigrations() == Self.migrations)
        }
    }

    @Test("a completed run reads back exactly, NULLs, big seed and summary order included")
    func roundTrip() throws {
        try withTemporaryDatabase { path in
            let store = try ResultsStore(path: path)
            let run = newRun()
            let id = try store.beginRun(run)

            let running = try #require(try store.run(id: id))
            #expect(running.status == .running)
            #expect(running.digest == nil && running.events == nil && running.wallSeconds == nil)

            let written = results(requestCount: 250)  // crosses a batch boundary, with a remainder
            try store.completeRun(id: id, results: written)

            let stored = try #require(try store.run(id: id))
            #expect(
                stored
                    == StoredRun(
                        id: id, scenarioName: run.scenarioName, scenarioSHA256: run.scenarioSHA256,
                        scenarioText: run.scenarioText, policy: run.policy, seed: run.seed,
                        replication: run.replication, toolVersion: run.toolVersion, status: .complete,
                        digest: written.digest, events: written.events, wallSeconds: written.wallSeconds,
                        createdAt: run.createdAt, horizonNs: run.horizonNs, warmupNs: run.warmupNs, error: nil))
            #expect(stored.seed > UInt64(Int64.max))
            #expect(try store.replicas(runID: id) == written.replicas)
            #expect(try store.requests(runID: id) == written.requests)
            #expect(try store.summaries(runID: id) == written.summaries)
            #expect(try store.samples(runID: id) == written.samples)
            #expect(try store.itlHistogram(runID: id) == written.itlHistogram)
            #expect(try store.sessions(runID: id) == written.sessions)
            #expect(try store.scalingEvents(runID: id) == written.scalingEvents)
            #expect(try store.meshEvents(runID: id) == written.meshEvents)

            let requests = try store.requests(runID: id)
            #expect(requests.contains { $0.replica == nil && $0.startNs == nil && $0.endNs != nil })
            #expect(requests.contains { $0.endNs == nil && $0.status == "unfinished" })
            #expect(try store.samples(runID: id).contains { $0.kvCacheUsagePerc == nil })
        }
    }

    @Test("a database written before v3 upgrades in place: old rows keep their values, new columns are NULL")
    func upgradeFromV2() throws {
        try withTemporaryDatabase { path in
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let queue = try DatabaseQueue(path: path)
            try Schema.migrator.migrate(queue, upTo: "v2-request-cache-and-preemptions")
            try queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO run (scenario_name, scenario_sha256, scenario_text, policy, seed, replication,
                                         tool_version, status, created_at, horizon_ns, warmup_ns)
                        VALUES ('old', '', '', 'random', 1, 0, '0.0.9', 'running', 't', 1, 0);
                        INSERT INTO request (run_id, request_id, workload, arrival_ns, input_tokens, output_tokens,
                                             status, cached_tokens, preemptions)
                        VALUES (1, 0, 'chat', 5, 10, 20, 'unfinished', 16, 2);
                        INSERT INTO sample (run_id, time_ns, replica, num_requests_waiting, num_requests_running,
                                            busy_fraction)
                        VALUES (1, 1000, 0, 3, 4, 0.5);
                        """)
            }
            try queue.close()
            let store = try ResultsStore(path: path)
            #expect(try store.appliedMigrations() == Self.migrations)
            let request = try #require(try store.requests(runID: 1).first)
            #expect(request.cachedTokens == 16 && request.preemptions == 2 && request.itlMaxNs == nil)
            let sample = try #require(try store.samples(runID: 1).first)
            #expect(sample.numRequestsRunning == 4 && sample.tokensPerSecond == nil && sample.prefixCacheHitRate == nil)
            #expect(try store.itlHistogram(runID: 1).isEmpty)
            #expect(request.sessionID == nil && request.turn == nil && request.subagent == nil)
            #expect(try store.sessions(runID: 1).isEmpty && store.scalingEvents(runID: 1).isEmpty)
        }
    }

    @Test("rows come back in their documented order whatever order they were given in")
    func readOrder() throws {
        try withTemporaryDatabase { path in
            let store = try ResultsStore(path: path)
            let id = try store.beginRun(newRun())
            var shuffled = results(requestCount: 30)
            shuffled.requests.reverse()
            shuffled.samples.reverse()
            shuffled.replicas.reverse()
            try store.completeRun(id: id, results: shuffled)
            #expect(try store.requests(runID: id).map(\.requestID) == Array(0..<30))
            #expect(try store.replicas(runID: id).map(\.replica) == [0, 1, 2, 3])
            let samples = try store.samples(runID: id)
            #expect(samples == samples.sorted { ($0.timeNs, $0.replica) < ($1.timeNs, $1.replica) })
        }
    }

    @Test("a NaN summary value survives as NaN; infinities round trip")
    func nonFiniteSummaries() throws {
        try withTemporaryDatabase { path in
            let store = try ResultsStore(path: path)
            let id = try store.beginRun(newRun())
            var written = results(requestCount: 0)
            written.summaries = [
                SummaryRow(metric: "ttft_ms_p99", value: .nan),
                SummaryRow(metric: "e2e_ms_max", value: .infinity),
            ]
            try store.completeRun(id: id, results: written)
            let read = try store.summaries(runID: id)
            #expect(read.map(\.metric) == ["ttft_ms_p99", "e2e_ms_max"])
            #expect(read[0].value.isNaN)
            #expect(read[1].value == .infinity)
            #expect(try store.requests(runID: id).isEmpty)
        }
    }

    @Test("an invalid request status midway rolls back the whole completion")
    func invalidStatusRollsBack() throws {
        try withTemporaryDatabase { path in
            let store = try ResultsStore(path: path)
            let earlier = try store.beginRun(newRun(replication: 0))
            let earlierResults = results(requestCount: 50)
            try store.completeRun(id: earlier, results: earlierResults)

            let id = try store.beginRun(newRun(replication: 1))
            var bad = results(requestCount: 500)
            bad.requests[450].status = "exploded"  // after several full batches were inserted
            let error = try #require(throws: StoreError.self) {
                try store.completeRun(id: id, results: bad)
            }
            #expect(error.message.contains("request 450"))
            #expect(error.message.contains("exploded"))
            #expect(error.path == path)
            try expectNothingStored(runID: id, in: store)
            try expectUntouched(earlier, earlierResults, in: store)
        }
    }

    @Test("a constraint violation inside SQLite midway rolls back the whole completion")
    func duplicateKeyRollsBack() throws {
        try withTemporaryDatabase { path in
            let store = try ResultsStore(path: path)
            let earlier = try store.beginRun(newRun(replication: 0))
            let earlierResults = results(requestCount: 50)
            try store.completeRun(id: earlier, results: earlierResults)

            let id = try store.beginRun(newRun(replication: 1))
            var bad = results(requestCount: 300)
            bad.samples.append(bad.samples[0])  // requests and summaries are in; samples collide
            let error = try #require(throws: StoreError.self) {
                try store.completeRun(id: id, results: bad)
            }
            #expect(error.message.contains("UNIQUE constraint failed"))
            try expectNothingStored(runID: id, in: store)
            try expectUntouched(earlier, earlierResults, in: store)

            // The run is still running, so the caller can retry with good rows.
            try store.completeRun(id: id, results: results(requestCount: 300))
            #expect(try store.run(id: id)?.status == .complete)
        }
    }

    @Test("a malformed digest is refused before anything is written")
    func badDigest() throws {
        try withTemporaryDatabase { path in
            let store = try ResultsStore(path: path)
            let id = try store.beginRun(newRun())
            for digest in ["0123456789ABCDEF", "0123456789abcde", "0123456789abcdefa", "0123456789abcdeg"] {
                #expect(throws: StoreError.self) {
                    try store.completeRun(id: id, results: results(requestCount: 5, digest: digest))
                }
            }
            try expectNothingStored(runID: id, in: store)
        }
    }

    @Test("failRun marks a running run failed with the message; finished runs are immutable")
    func failRun() throws {
        try withTemporaryDatabase { path in
            let store = try ResultsStore(path: path)
            let id = try store.beginRun(newRun())
            try store.failRun(id: id, error: "replica 3 ran out of KV cache")
            let failed = try #require(try store.run(id: id))
            #expect(failed.status == .failed)
            #expect(failed.error == "replica 3 ran out of KV cache")
            #expect(failed.digest == nil)

            #expect(throws: StoreError.self) { try store.completeRun(id: id, results: results(requestCount: 3)) }
            #expect(throws: StoreError.self) { try store.failRun(id: id, error: "again") }
            try expectNothingStored(runID: id, in: store, status: .failed)

            let done = try store.beginRun(newRun())
            try store.completeRun(id: done, results: results(requestCount: 3))
            #expect(throws: StoreError.self) { try store.failRun(id: done, error: "too late") }
            #expect(throws: StoreError.self) { try store.completeRun(id: done, results: results(requestCount: 3)) }
            #expect(try store.run(id: done)?.status == .complete)
            #expect(try store.requests(runID: done).count == 3)

            #expect(throws: StoreError.self) { try store.failRun(id: 9_999, error: "no such run") }
            #expect(try store.run(id: 9_999) == nil)
        }
    }

    @Test("a column NULL in every row of an insert is left out of it and reads back NULL")
    func columnsNullInEveryRowAreLeftOut() throws {
        try withTemporaryDatabase { path in
            let store = try ResultsStore(path: path)
            let full = results(requestCount: 300)
            let id = try store.beginRun(newRun())
            // The first batch has no split request (its PD columns are all NULL, left out); the second has some.
            try store.appendRows(id: id, requests: Array(full.requests[0..<110]), samples: [])
            try store.appendRows(id: id, requests: Array(full.requests[110...]), samples: [])
            var rest = full
            rest.requests = []
            try store.completeRun(id: id, results: rest)
            let stored = try store.requests(runID: id)
            #expect(stored == full.requests)
            #expect(stored[0..<110].allSatisfy { $0.prefillReplica == nil && $0.kvTransferBytes == nil })
            #expect(stored.contains { $0.kvTransferNs != nil })
        }
    }

    @Test("rows appended while a run goes on are kept when it completes and deleted when it fails")
    func appendedRows() throws {
        try withTemporaryDatabase { path in
            let store = try ResultsStore(path: path)
            let full = results(requestCount: 5)
            // Appended in two batches, then completed with the rest: the run reads back as if stored at once.
            let streamed = try store.beginRun(newRun())
            try store.appendRows(
                id: streamed, requests: Array(full.requests[0..<3]), samples: Array(full.samples[0..<7]))
            try store.appendRows(
                id: streamed, requests: Array(full.requests[3...]), samples: Array(full.samples[7...]))
            var rest = full
            rest.requests = []
            rest.samples = []
            try store.completeRun(id: streamed, results: rest)
            let whole = try store.beginRun(newRun())
            try store.completeRun(id: whole, results: full)
            #expect(try store.requests(runID: streamed) == store.requests(runID: whole))
            #expect(try store.samples(runID: streamed) == store.samples(runID: whole))
            // A complete run takes no more rows.
            #expect(throws: StoreError.self) {
                try store.appendRows(id: streamed, requests: [requestRow(99)], samples: [])
            }
            #expect(try store.requests(runID: streamed).count == 5)

            // A run that fails after appending keeps none of its rows.
            let failing = try store.beginRun(newRun())
            try store.appendRows(id: failing, requests: full.requests, samples: full.samples)
            try store.failRun(id: failing, error: "the disk filled up")
            try expectNothingStored(runID: failing, in: store, status: .failed)
            #expect(throws: StoreError.self) { try store.appendRows(id: failing, requests: full.requests, samples: []) }
        }
    }

    @Test("runs(…) filters by scenario, policy and status, ordered by id")
    func listRuns() throws {
        try withTemporaryDatabase { path in
            let store = try ResultsStore(path: path)
            let a = try store.beginRun(newRun(scenario: "s1", policy: "jsq"))
            let b = try store.beginRun(newRun(scenario: "s1", policy: "round_robin"))
            let c = try store.beginRun(newRun(scenario: "s2", policy: "jsq"))
            try store.completeRun(id: a, results: results(requestCount: 1))
            try store.failRun(id: c, error: "boom")

            #expect(try store.runs().map(\.id) == [a, b, c])
            #expect(try store.runs(scenarioName: "s1").map(\.id) == [a, b])
            #expect(try store.runs(policy: "jsq").map(\.id) == [a, c])
            #expect(try store.runs(scenarioName: "s1", policy: "jsq").map(\.id) == [a])
            #expect(try store.runs(status: .running).map(\.id) == [b])
            #expect(try store.runs(policy: "jsq", status: .failed).map(\.id) == [c])
            #expect(try store.runs(scenarioName: "none").isEmpty)
        }
    }

    @Test("two stores on one file write 20k-request runs concurrently from two threads")
    func concurrentWriters() throws {
        try withTemporaryDatabase { path in
            let written = Collected<(Int, Int64)>()
            let failures = Collected<String>()
            let group = DispatchGroup()
            for writer in 0..<2 {
                group.enter()
                // Each thread opens its own store (its own pool), so the file is also created and
                // migrated concurrently.
                Thread {
                    defer { group.leave() }
                    do {
                        let store = try ResultsStore(path: path)
                        let id = try store.beginRun(newRun(policy: "writer-\(writer)"))
                        try store.completeRun(id: id, results: results(requestCount: 20_000))
                        written.append((writer, id))
                    } catch {
                        failures.append("writer \(writer): \(error)")
                    }
                }.start()
            }
            group.wait()
            #expect(failures.values.isEmpty, "\(failures.values)")

            let store = try ResultsStore(path: path)
            #expect(written.values.count == 2)
            for (writer, id) in written.values {
                let run = try #require(try store.run(id: id))
                #expect(run.status == .complete)
                #expect(run.policy == "writer-\(writer)")
                #expect(try store.requests(runID: id) == results(requestCount: 20_000).requests)
                #expect(try store.summaries(runID: id).count == 4)
                #expect(try store.samples(runID: id).count == 40)
                #expect(try store.replicas(runID: id).count == 4)
            }
            #expect(try store.appliedMigrations() == Self.migrations)
        }
    }

    @Test("several stores opening the same new file at once all migrate it without error")
    func concurrentFirstOpen() throws {
        for _ in 0..<10 {
            try withTemporaryDatabase { path in
                let failures = Collected<String>()
                let group = DispatchGroup()
                for opener in 0..<4 {
                    group.enter()
                    Thread {
                        defer { group.leave() }
                        do {
                            _ = try ResultsStore(path: path).beginRun(newRun(replication: opener))
                        } catch {
                            failures.append("opener \(opener): \(error)")
                        }
                    }.start()
                }
                group.wait()
                #expect(failures.values.isEmpty, "\(failures.values)")
                let store = try ResultsStore(path: path)
                #expect(try store.appliedMigrations() == Self.migrations)
                #expect(try store.runs().count == 4)
            }
        }
    }

    @Test("reopening keeps the data and does not re-run migrations")
    func reopen() throws {
        try withTemporaryDatabase { path in
            var ids: [Int64] = []
            do {
                let store = try ResultsStore(path: path)
                ids.append(try store.beginRun(newRun()))
                try store.completeRun(id: ids[0], results: results(requestCount: 120))
                ids.append(try store.beginRun(newRun()))
            }
            // Open twice in a row: the second open of an up-to-date file must also be a no-op.
            for _ in 0..<2 {
                let store = try ResultsStore(path: path)
                #expect(try store.appliedMigrations() == Self.migrations)
                #expect(try store.runs().map(\.id) == ids)
                #expect(try store.run(id: ids[0])?.status == .complete)
                #expect(try store.run(id: ids[1])?.status == .running)
                #expect(try store.requests(runID: ids[0]) == results(requestCount: 120).requests)
                #expect(try store.summaries(runID: ids[0]) == results(requestCount: 120).summaries)
            }
            // Ids keep growing after a reopen (AUTOINCREMENT), so old ids are never reused.
            let store = try ResultsStore(path: path)
            #expect(try store.beginRun(newRun()) == ids[1] + 1)
        }
    }

    @Test("StoreError names the path and the operation")
    func errorDescription() throws {
        let error = StoreError(path: "/tmp/x.sqlite", operation: "completing run 3", message: "disk full")
        #expect(error.description == "results store /tmp/x.sqlite: completing run 3: disk full")
    }

    @Test("200k request rows are written and read back in full (prints the timing)")
    func bulkWrite() throws {
        try withTemporaryDatabase { path in
            let store = try ResultsStore(path: path)
            let id = try store.beginRun(newRun())
            let written = results(requestCount: 200_003)  // not a multiple of the batch size
            // CPU time as well as wall time: on a busy machine only the former is comparable.
            let clock = ContinuousClock()
            var cpu = processCPUSeconds()
            let writeTime = try clock.measure { try store.completeRun(id: id, results: written) }
            let writeCPU = processCPUSeconds() - cpu
            var read: [RequestRow] = []
            cpu = processCPUSeconds()
            let readTime = try clock.measure { read = try store.requests(runID: id) }
            let readCPU = processCPUSeconds() - cpu
            print(
                "ResultsStore: 200003 request rows: write \(writeTime) (CPU \(writeCPU) s), "
                    + "read \(readTime) (CPU \(readCPU) s)")
            #expect(read == written.requests)
            #expect(try store.rowCount(table: "request", runID: id) == 200_003)
        }
    }

    // MARK: - Helpers

    private func expectNothingStored(
        runID id: Int64, in store: ResultsStore, status: RunStatus = .running,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(try store.run(id: id)?.status == status, sourceLocation: sourceLocation)
        #expect(try store.run(id: id)?.digest == nil, sourceLocation: sourceLocation)
        for table in ["replica", "request", "summary", "sample"] {
            #expect(try store.rowCount(table: table, runID: id) == 0, "\(table)", sourceLocation: sourceLocation)
        }
    }

    private func expectUntouched(
        _ id: Int64, _ written: RunResults, in store: ResultsStore,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(try store.run(id: id)?.status == .complete, sourceLocation: sourceLocation)
        #expect(try store.requests(runID: id) == written.requests, sourceLocation: sourceLocation)
        #expect(try store.summaries(runID: id) == written.summaries, sourceLocation: sourceLocation)
        #expect(try store.samples(runID: id) == written.samples, sourceLocation: sourceLocation)
        #expect(try store.replicas(runID: id) == written.replicas, sourceLocation: sourceLocation)
    }
}
