import Foundation
import ResultsStore
import Scenarios
import TestSupport
import Testing

@testable import InferMeshCLI

/// `infermesh sweep` and `infermesh merge` end to end, on small station scenarios.
@Suite struct SweepTests {
    static let scenario = """
        # A small station scenario for sweep tests.
        name: sweep-small
        seed: 3
        horizon: 2m
        warmup: 10s
        slo: {e2e: 3s}
        policies: [round-robin, least-connections]
        pools:
          - name: pool
            replicas: 3
            station: {servers: 1, service: {dist: exponential, mean: 500ms}}
        workloads:
          - name: chat
            rate: 4.8/s
        """

    static let sweep = """
        scenario: small.yaml
        grid:
          workloads[0].rate: [2/s, 4/s]
          pools[0].replicas: [2, 3]
          router.refresh-interval: [0ms]
          policy: [round-robin, least-connections]
          seed: [1, 2]
        """

    /// A fresh folder with the scenario and the sweep file in it.
    static func workspace() throws -> URL {
        let folder = try TemporaryDirectory.make("infermesh-sweep")
        try scenario.write(to: folder.appendingPathComponent("small.yaml"), atomically: true, encoding: .utf8)
        try sweep.write(to: folder.appendingPathComponent("grid.yaml"), atomically: true, encoding: .utf8)
        return folder
    }

    /// Each complete run's (scenario sha, policy, seed) with its digest and summaries.
    static func contents(_ db: String) throws -> [String: String] {
        let store = try ResultsStore(path: db)
        var result: [String: String] = [:]
        for run in try store.runs(status: .complete) {
            let key = "\(run.scenarioSHA256) \(run.policy) \(run.seed)"
            let summaries = try store.summaries(runID: run.id).map { "\($0.metric)=\(String(describing: $0.value))" }
            #expect(result[key] == nil)
            result[key] = run.digest! + " " + summaries.joined(separator: ",")
        }
        return result
    }

    @Test func pointsAreEnumeratedInFileOrderLastKeyFastest() throws {
        let folder = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let sweep = try Sweep.load(path: folder.appendingPathComponent("grid.yaml").path)
        #expect(sweep.pointCount == 16)
        #expect(
            sweep.dimensions.map(\.key)
                == ["workloads[0].rate", "pools[0].replicas", "router.refresh-interval", "policy", "seed"])
        let point = try sweep.point(5)
        #expect(point.parameters.map(\.value) == ["2/s", "3", "0ms", "round-robin", "2"])
        #expect(point.policy == "round-robin" && point.seed == 2 && point.replication == 1)
        #expect(point.scenario.fleet.pools[0].replicas == 3)
        #expect(point.scenario.fleet.router.refreshInterval == .zero)
        // The stored text is a complete scenario with the values substituted.
        let reloaded = try ScenarioLoader.parse(point.scenario.sourceText, file: "point.yaml")
        #expect(reloaded.fleet.pools[0].replicas == 3)
        #expect(point.scenario.sourceText.contains("rate: 2/s"))
        #expect(try sweep.point(10).parameters.map(\.value) == ["4/s", "2", "0ms", "least-connections", "1"])
    }

    @Test func aSweepStoresEveryPointAndJobsDoNotChangeResults() throws {
        let folder = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("grid.yaml").path
        var stored: [[StoredRun]] = []
        var contents: [[String: String]] = []
        for jobs in ["1", "2"] {
            let db = folder.appendingPathComponent("jobs-\(jobs).sqlite").path
            let result = CLITests.invoke(["sweep", file, "--db", db, "--jobs", jobs])
            #expect(result.status == 0, "\(result.err)")
            #expect(result.out.contains("ttft p99 (ms)") && result.out.contains("stored 16 run(s) in \(db)"))
            stored.append(try ResultsStore(path: db).runs())
            contents.append(try Self.contents(db))
        }
        #expect(stored[0].map(\.id) == Array(1...16))
        #expect(stored[0].map(\.id) == stored[1].map(\.id))
        #expect(stored[0].map(\.digest) == stored[1].map(\.digest))
        #expect(stored[0].map(\.scenarioSHA256) == stored[1].map(\.scenarioSHA256))
        #expect(contents[0] == contents[1])
        #expect(contents[0].count == 16)
        // Run i is point i: the policy alternates every two points, the seed every point.
        #expect(
            stored[0].prefix(4).map(\.policy) == [
                "round-robin", "round-robin", "least-connections", "least-connections",
            ])
        #expect(stored[0].prefix(4).map(\.seed) == [1, 2, 1, 2])
        let point = try ScenarioLoader.parse(stored[0][4].scenarioText, file: "stored.yaml")
        #expect(point.fleet.pools[0].replicas == 3)
    }

    @Test func shardsMergedEqualTheWholeSweep() throws {
        let folder = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("grid.yaml").path
        let whole = folder.appendingPathComponent("whole.sqlite").path
        #expect(CLITests.invoke(["sweep", file, "--db", whole, "--jobs", "2"]).status == 0)
        var shards: [String] = []
        for index in 0..<2 {
            let db = folder.appendingPathComponent("shard-\(index).sqlite").path
            let result = CLITests.invoke(["sweep", file, "--db", db, "--shard", "\(index)/2"])
            #expect(result.status == 0, "\(result.err)")
            #expect(result.out.contains("8 of 16 point(s) · shard \(index)/2"))
            shards.append(db)
        }
        let merged = folder.appendingPathComponent("out/merged.sqlite").path
        let result = CLITests.invoke(["merge", merged] + shards)
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("merged 8 run(s) from \(shards[1]) as run ids 9–16"))
        #expect(try Self.contents(merged) == Self.contents(whole))
        let store = try ResultsStore(path: merged)
        let runs = try store.runs()
        #expect(runs.map(\.id) == Array(1...16))
        // Every row of a run came along: shard 1's first run (point 1) is merged run 9.
        let original = try ResultsStore(path: shards[1])
        #expect(try store.requests(runID: 9) == original.requests(runID: 1))
        #expect(try store.samples(runID: 9) == original.samples(runID: 1))
        #expect(try store.replicas(runID: 9) == original.replicas(runID: 1))
        // Undefined metrics are NaN (NULL in SQLite), which `==` never matches; compare their descriptions.
        #expect(
            try String(describing: store.summaries(runID: 9)) == String(describing: original.summaries(runID: 1)))
    }

    @Test func mergeRefusesWhatIsNotAnInferMeshDatabase() throws {
        let folder = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out.sqlite").path
        let text = CLITests.invoke(["merge", out, folder.appendingPathComponent("small.yaml").path])
        #expect(text.status == 65)
        #expect(text.err.contains("not an SQLite database"), "\(text.err)")
        let missing = CLITests.invoke(["merge", out, folder.appendingPathComponent("none.sqlite").path])
        #expect(missing.status == 66)
        #expect(CLITests.invoke(["merge", out, out]).err.contains("the input is the output database"))
    }

    @Test func shardsAreParsedFromTheOptionOrTheIndexedJobsIndex() throws {
        #expect(try SweepCommand.parseShard("1/3", environment: [:]) == .init(index: 1, count: 3))
        #expect(
            try SweepCommand.parseShard("4", environment: ["JOB_COMPLETION_INDEX": "2"]) == .init(index: 2, count: 4))
        #expect(throws: (any Error).self) { try SweepCommand.parseShard("3/3", environment: [:]) }
        #expect(throws: (any Error).self) { try SweepCommand.parseShard("4", environment: [:]) }
        #expect(throws: (any Error).self) { try SweepCommand.parseShard("a/b", environment: [:]) }
    }

    @Test func casesSetSeveralPathsTogetherAndMetricsChooseTheColumns() throws {
        let folder = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("cases.yaml")
        try """
        scenario: small.yaml
        cases:
          - name: small-fast
            set:
              pools[0].replicas: 2
              workloads[chat].rate: 1/s
          - name: large-slow
            set:
              pools[0].replicas: 5
              workloads[chat].rate: 6/s
        grid:
          policy: [round-robin]
        metrics: [throughput_rps, e2e_ms_p50]
        """.write(to: file, atomically: true, encoding: .utf8)
        let db = folder.appendingPathComponent("r.sqlite").path
        let result = CLITests.invoke(["sweep", file.path, "--db", db])
        #expect(result.status == 0, "\(result.err)")
        let lines = result.out.split(separator: "\n").map(String.init)
        try #require(lines.count >= 4)
        #expect(lines[1].hasPrefix("point  case        policy       seed  req/s  e2e p50 (ms)  run id  digest"))
        #expect(lines[2].hasPrefix("    0  small-fast  round-robin     3") && lines[3].contains("large-slow"))
        let texts = try ResultsStore(path: db).runs(status: .complete).map(\.scenarioText)
        #expect(texts.count == 2)
        #expect(texts[0].contains("replicas: 2") && texts[0].contains("rate: 1/s"))
        #expect(texts[1].contains("replicas: 5") && texts[1].contains("rate: 6/s"))

        try """
        scenario: small.yaml
        cases:
          - name: a
            set:
              pools[0].replicas: 2
        grid: {}
        metrics: [ttft_ms_p42]
        """.write(to: file, atomically: true, encoding: .utf8)
        let unknown = CLITests.invoke(["sweep", file.path, "--db", db])
        #expect(unknown.status == 66 || unknown.status == 65)
        #expect(unknown.err.contains("at metrics: unknown summary metric `ttft_ms_p42`"), "\(unknown.err)")
    }

    @Test func badGridValuesAreLocatedInTheSweepFile() throws {
        let folder = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("bad.yaml")
        try """
        scenario: small.yaml
        grid:
          pools[0].replicas: [2, -1]
          pools[4].replicas: [1]
        """.write(to: file, atomically: true, encoding: .utf8)
        let result = CLITests.invoke(["sweep", file.path, "--db", folder.appendingPathComponent("r.sqlite").path])
        #expect(result.status == 65)
        #expect(
            result.err.contains("bad.yaml:4:3: error: at grid.pools[4].replicas: item [4] does not exist"),
            "\(result.err)")
        try """
        scenario: small.yaml
        grid:
          pools[0].replicas: [2, -1]
        """.write(to: file, atomically: true, encoding: .utf8)
        let sweep = try Sweep.load(path: file.path)
        #expect(throws: ScenarioError.self) { try sweep.point(2) }
        do {
            _ = try sweep.point(2)
        } catch {
            #expect(error.description.contains("bad.yaml:3:26: error: at grid.pools[0].replicas"), "\(error)")
            #expect(error.description.contains("grid point pools[0].replicas=-1"))
        }
        // A list item by name: the loader says pools[0], the grid pools[pool]; the error is still at the value.
        try """
        scenario: small.yaml
        grid:
          pools[pool].replicas: [2, -1]
        """.write(to: file, atomically: true, encoding: .utf8)
        do {
            _ = try Sweep.load(path: file.path).point(2)
            Issue.record("a negative replica count was accepted")
        } catch {
            #expect(error.description.contains("bad.yaml:3:29: error: at grid.pools[pool].replicas"), "\(error)")
        }
    }

    /// D/D/1 stations under round-robin: 10 requests/s of exactly 1 s each. With n replicas each gets a request
    /// every n/10 s, so e2e stays exactly 1 s for n >= 10 and grows without bound for n < 10: the answer is 10.
    @Test func planSLOFindsTheFewestReplicasByBisection() throws {
        let folder = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        try """
        name: dd1
        seed: 1
        horizon: 60s
        warmup: 10s
        sample-interval: none
        slo: {e2e: 2s}
        policies: [round-robin]
        pools:
          - name: pool
            replicas: 1
            station: {servers: 1, service: 1s}
        workloads:
          - name: w
            rate: 10/s
            arrival: deterministic
        """.write(to: folder.appendingPathComponent("dd1.yaml"), atomically: true, encoding: .utf8)
        let file = folder.appendingPathComponent("plan.yaml")
        try """
        scenario: dd1.yaml
        grid: {}
        plan:
          replicas-path: pools[0].replicas
          min: 1
          max: 64
          targets:
            e2e_ms_p99: {max: 1000.5}
            slo_attainment: {min: 0.99}
        """.write(to: file, atomically: true, encoding: .utf8)
        let db = folder.appendingPathComponent("plan.sqlite").path
        let result = CLITests.invoke(["sweep", file.path, "--plan-slo", "--db", db])
        #expect(result.status == 0, "\(result.err)")
        let lines = result.out.split(separator: "\n").map(String.init)
        let row = try #require(lines.first { $0.hasPrefix("round-robin") })
        #expect(row.split(separator: " ").map(String.init)[1] == "10", "\(result.out)")
        // max first, then bisection over 64 values: 1 + log2(64) runs.
        let runs = try ResultsStore(path: db).runs()
        #expect(runs.count == 7)
        #expect(result.out.contains("stored 7 run(s)"))
        let replicas = try runs.map {
            try ScenarioLoader.parse($0.scenarioText, file: "r.yaml").fleet.pools[0].replicas
        }
        #expect(replicas == [64, 32, 16, 8, 12, 10, 9])
    }
}
