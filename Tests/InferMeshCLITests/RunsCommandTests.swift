import Foundation
import ResultsStore
import Testing

@testable import InferMeshCLI

/// `infermesh runs` lists what is stored, so a newcomer can find the id to reproduce or compare.
@Suite struct RunsCommandTests {
    @Test func runsListsEveryRunWithItsStatusAndFilters() throws {
        let folder = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("r.sqlite").path
        #expect(CLITests.invoke(["runs", "--db", db]).status == 66)
        #expect(CLITests.invoke(["run", folder.appendingPathComponent("small.yaml").path, "--db", db]).status == 0)
        // A run that failed, with its reason.
        let store = try ResultsStore(path: db)
        let failed = try store.beginRun(
            NewRun(
                scenarioName: "other", scenarioSHA256: String(repeating: "0", count: 64), scenarioText: "",
                policy: "random", seed: 1, replication: 0, toolVersion: ToolVersion.current, createdAt: "now",
                horizonNs: 1, warmupNs: 0))
        try store.failRun(id: failed, error: "out of KV cache")

        let all = CLITests.invoke(["runs", "--db", db])
        #expect(all.status == 0)
        let lines = all.out.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("id  scenario"))
        let runs = try store.runs()
        #expect(runs.count == 3)
        for run in runs where run.status == .complete {
            let line = try #require(lines.first { $0.hasPrefix("\(run.id)  ") })
            #expect(line.contains(run.policy) && line.contains("complete") && line.contains(run.digest!))
        }
        #expect(all.out.contains("failed") && all.out.contains("    error: out of KV cache"))

        let onlyFailed = CLITests.invoke(["runs", "--db", db, "--status", "failed"])
        #expect(onlyFailed.out.split(separator: "\n").count == 3)  // header, the run, its error
        let onePolicy = CLITests.invoke(["runs", "--db", db, "--policy", "least-connections"]).out
        #expect(onePolicy.contains("least-connections") && !onePolicy.contains("round-robin"))
        #expect(CLITests.invoke(["runs", "--db", db, "--status", "lost"]).status == 64)
    }
}
