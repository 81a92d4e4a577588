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
