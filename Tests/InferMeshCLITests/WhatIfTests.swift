import Foundation
import ResultsStore
import Testing

@testable import InferMeshCLI

/// `infermesh run --set/--horizon/--warmup`: a what-if without editing the file, stored so it reproduces.
@Suite struct WhatIfTests {
    @Test func aWhatIfRunStoresTheSubstitutedScenarioAndReproduces() throws {
        let folder = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("w.sqlite").path
        let file = folder.appendingPathComponent("small.yaml").path
        let result = CLITests.invoke([
            "run", file, "--db", db, "--quiet", "--policy", "round-robin", "--set", "workloads[chat].rate=3/s",
            "--set", "pools[0].replicas=4", "--horizon", "2m", "--warmup", "20s",
        ])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("horizon 2m, warm-up 20s"))
        let run = try #require(try ResultsStore(path: db).runs().first)
        #expect(run.horizonNs == 120_000_000_000 && run.warmupNs == 20_000_000_000)
        #expect(run.scenarioText.contains("rate: 3/s") && run.scenarioText.contains("replicas: 4"))
        #expect(!run.scenarioText.contains("4.8/s"))
        let reproduced = CLITests.invoke(["reproduce", String(run.id), "--db", db])
        #expect(reproduced.status == 0, "\(reproduced.err)")

        // The plain file's run is another scenario version, never pooled with the what-if.
        #expect(CLITests.invoke(["run", file, "--db", db, "--quiet", "--policy", "round-robin"]).status == 0)
        let runs = try ResultsStore(path: db).runs()
        #expect(runs.count == 2 && Set(runs.map(\.scenarioSHA256)).count == 2)
    }

    @Test func aBadWhatIfIsALocatedErrorAndStoresNothing() throws {
        let folder = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("w.sqlite").path
        let file = folder.appendingPathComponent("small.yaml").path
        let bad = CLITests.invoke(["run", file, "--db", db, "--set", "pools[pool].replicas=many"])
        #expect(bad.status == 65)
        #expect(bad.err.hasPrefix("--set pools[pool].replicas=many:1:28: error: at pools[pool].replicas: in \(file):"))
        #expect(bad.err.contains("expected an integer in 1...100000, found \"many\""))
        #expect(!FileManager.default.fileExists(atPath: db))
    }
}

/// A closed-loop benchmark through the CLI: `run` prints what serving benchmarks print, and runs a sweep file.
@Suite struct BenchmarkRunTests {
    static let scenario = """
        # Four stations, a closed-loop benchmark of 6 clients and 120 requests, no horizon.
        name: bench-small
        seed: 2
        policies: [round-robin]
        pools:
          - name: pool
            replicas: 4
            station: {servers: 1, service: {dist: exponential, mean: 200ms}}
        workloads:
          - name: bench
            concurrency: 6
            requests: 120
        """

    @Test func runPrintsTheBenchmarkAndTakesASweepFile() throws {
        let folder = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("bench.yaml")
        try Self.scenario.write(to: file, atomically: true, encoding: .utf8)
        let db = folder.appendingPathComponent("b.sqlite").path
        let result = CLITests.invoke(["run", file.path, "--db", db])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("until its requests are done"))
        for label in ["duration (s)", "e2e mean (ms)", "offered (req/s)", "throughput (req/s)", "completed"] {
            #expect(result.out.contains(label), "\(label)")
        }
        #expect(result.out.contains("goodput (req/s)                    -"))
        let run = try #require(try ResultsStore(path: db).runs().first)
        // The stored horizon is the benchmark's end, not the cap.
        #expect(run.horizonNs > 0 && run.horizonNs < 3_600_000_000_000)

        let sweep = folder.appendingPathComponent("grid.yaml")
        try "scenario: bench.yaml\ngrid:\n  workloads[bench].concurrency: [1, 4]\n".write(
            to: sweep, atomically: true, encoding: .utf8)
        let swept = CLITests.invoke(["run", sweep.path, "--db", db, "--quiet"])
        #expect(swept.status == 0, "\(swept.err)")
        #expect(swept.out.contains("2 of 2 point(s)") && swept.out.contains("req/s"))
        let refused = CLITests.invoke(["run", sweep.path, "--db", db, "--seed", "4"])
        #expect(refused.status == 64 && refused.err.contains("is a sweep file"))
    }
}
