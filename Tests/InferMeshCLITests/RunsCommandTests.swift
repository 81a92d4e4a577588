import Foundation
import ResultsStore
import TestSupport
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
        let failed = try store.beginRun(newRun(scenario: "other", policy: "random", seed: 1))
        try store.failRun(id: failed, error: "out of KV cache")

        let all = CLITests.invoke(["runs", "--db", db])
        #expect(all.status == 0)
        let lines = all.out.split(whereSeparator: \.isNewline).map(String.init)
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

/// Runs of two versions of a scenario are never pooled as replications of one policy.
@Suite struct CompareVersionsTests {
    @Test func runsOfDifferentScenarioVersionsAreSeparateColumns() throws {
        let folder = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("v.sqlite").path
        let file = folder.appendingPathComponent("small.yaml")
        #expect(CLITests.invoke(["run", file.path, "--db", db, "--quiet"]).status == 0)
        try CLITests.scenario.replacingOccurrences(of: "rate: 4.8/s", with: "rate: 3.0/s")
            .write(to: file, atomically: true, encoding: .utf8)
        #expect(CLITests.invoke(["run", file.path, "--db", db, "--quiet"]).status == 0)
        let runs = try ResultsStore(path: db).runs()
        #expect(runs.count == 4 && Set(runs.map(\.scenarioSHA256)).count == 2)

        let all = CLITests.invoke(["compare"] + runs.map { String($0.id) } + ["--db", db, "--format", "csv"])
        #expect(all.status == 0, "\(all.err)")
        #expect(all.err.contains("note: runs of 2 scenario versions"))
        let columns = Set(all.out.split(whereSeparator: \.isNewline).dropFirst().map { $0.split(separator: ",")[1] })
        #expect(columns.count == 4 && columns.allSatisfy { $0.contains("@") }, "\(columns)")
        // One run per column: n = 1 everywhere, no pooled interval.
        #expect(
            all.out.split(whereSeparator: \.isNewline).dropFirst().allSatisfy {
                $0.split(separator: ",", omittingEmptySubsequences: false)[4] == "1"
            })

        // Without ids, only the latest version is compared, under plain policy names.
        let latest = CLITests.invoke(["compare", "--db", db, "--format", "csv"])
        #expect(latest.status == 0 && latest.err.isEmpty && !latest.out.contains("@"))
    }
}

extension CompareVersionsTests {
    @Test func exportAndPlotKeepScenarioVersionsApartToo() throws {
        let folder = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("v.sqlite").path
        let file = folder.appendingPathComponent("small.yaml")
        #expect(CLITests.invoke(["run", file.path, "--db", db, "--quiet"]).status == 0)
        try CLITests.scenario.replacingOccurrences(of: "rate: 4.8/s", with: "rate: 3.0/s")
            .write(to: file, atomically: true, encoding: .utf8)
        #expect(CLITests.invoke(["run", file.path, "--db", db, "--quiet"]).status == 0)
        let out = folder.appendingPathComponent("export").path
        #expect(CLITests.invoke(["export", "--format", "csv", "--out", out, "--db", db]).status == 0)
        let comparison = try String(contentsOfFile: out + "/comparison.csv", encoding: .utf8)
        let groups = Set(
            comparison.split(whereSeparator: \.isNewline).dropFirst().map {
                $0.split(separator: ",", omittingEmptySubsequences: false)[1]
            })
        #expect(groups.count == 4 && groups.allSatisfy { $0.contains("@") })
        let plots = folder.appendingPathComponent("plots").path
        #expect(CLITests.invoke(["plot", "--out", plots, "--db", db]).status == 0)
        let cdf = try String(contentsOfFile: plots + "/ttft-cdf.svg", encoding: .utf8)
        #expect(cdf.contains("round-robin@") && cdf.contains("least-connections@"))
    }
}
