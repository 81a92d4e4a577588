import Foundation
import GRDB
import InferMeshCLI
import ResultsStore
import Scenarios
import SimKernel
import TestSupport
import Testing

/// `reproduce` of a scenario that names a file: the file's SHA-256 is stored with the run (`run_file`), and a
/// file changed or missing since is named.
@Suite struct ReproduceFilesTests {
    /// 40 requests over 10 s; `note` is a column the replay does not read.
    static func trace(note: String = "a", firstTime: String = "0") -> String {
        "t,i,o,note\n"
            + (0..<40).map { row in
                "\(row == 0 ? firstTime : String(Double(row) * 0.25)),\(100 + row),\(10 + row % 7),\(note)\n"
            }.joined()
    }

    static func scenario(name: String, trace: String) -> String {
        """
        name: \(name)
        seed: 3
        horizon: 30s
        policies: [round-robin]
        pools:
          - name: pool
            replicas: 2
            station: {servers: 1, service: {dist: exponential, mean: 200ms}}
        workloads:
          - name: replay
            trace: {format: csv, path: \(trace), columns: {timestamp: t, input-tokens: i, output-tokens: o}}

        """
    }

    @Test func reproduceNamesAFileThatChangedSinceTheRun() throws {
        let folder = try TemporaryDirectory.make("reproduce-files")
        defer { try? FileManager.default.removeItem(at: folder) }
        let trace = folder.appendingPathComponent("trace.csv")
        try Self.trace().write(to: trace, atomically: true, encoding: .utf8)
        let scenario = folder.appendingPathComponent("s.yaml")
        try Self.scenario(name: "cli-trace", trace: trace.path).write(to: scenario, atomically: true, encoding: .utf8)
        let db = folder.appendingPathComponent("r.sqlite").path
        let run = CLITests.invoke(["run", scenario.path, "--db", db, "--quiet"])
        #expect(run.status == 0, "\(run.err)")

        // The file is stored with the run, and the run's identity covers it.
        let store = try ResultsStore(path: db)
        let stored = try #require(try store.run(id: 1))
        let digest = try #require(stored.digest)
        let original = SHA256.hex(of: Array(Self.trace().utf8))
        #expect(
            try store.runFiles(runID: 1) == [RunFileRow(path: trace.path, resolvedPath: trace.path, sha256: original)])
        #expect(stored.scenarioSHA256 == (try ScenarioLoader.load(path: scenario.path)).sha256)
        #expect(stored.scenarioSHA256 != SHA256.hex(of: stored.scenarioText))
        let header = "run 1: cli-trace, policy round-robin, seed 3\n"

        let same = CLITests.invoke(["reproduce", "1", "--db", db])
        #expect(same.status == 0 && same.out == header + "reproduced: digest \(digest) matches\n", "\(same.err)")

        // A column the replay does not read: the file changed, the run did not.
        try Self.trace(note: "b").write(to: trace, atomically: true, encoding: .utf8)
        let noted = SHA256.hex(of: Array(Self.trace(note: "b").utf8))
        let unread = CLITests.invoke(["reproduce", "1", "--db", db])
        #expect(unread.status == 0, "\(unread.err)")
        #expect(
            unread.out
                == header + "reproduced: digest \(digest) matches\n"
                + "file \(trace.path) changed since run 1: stored sha256 \(original.prefix(12))…, now \(noted.prefix(12))…\n"
                + "the digest matches all the same: the change does not alter this run\n")

        // An arrival moved: the file is named and the run no longer reproduces.
        try Self.trace(firstTime: "0.1").write(to: trace, atomically: true, encoding: .utf8)
        let moved = SHA256.hex(of: Array(Self.trace(firstTime: "0.1").utf8))
        let edited = CLITests.invoke(["reproduce", "1", "--db", db])
        #expect(edited.status == 1, "\(edited.err)")
        let lines = edited.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 4 && lines[0] + "\n" == header && lines[3] == "")
        #expect(
            lines[1].hasPrefix("NOT reproduced: digest ") && lines[1].hasSuffix(" differs from the stored \(digest)"))
        #expect(
            lines[2]
                == "file \(trace.path) changed since run 1: stored sha256 \(original.prefix(12))…, now \(moved.prefix(12))…"
        )
        // compare shows the identity the runs were stored with, whatever the file holds now.
        let json = CLITests.invoke(["compare", "--db", db, "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        #expect((object["scenario"] as? [String: Any])?["sha256"] as? String == stored.scenarioSHA256)

        // The file as it was, a digest that differs: the text and the files are not the cause.
        try Self.trace().write(to: trace, atomically: true, encoding: .utf8)
        let queue = try DatabaseQueue(path: db)
        try queue.write { try $0.execute(sql: "UPDATE run SET digest = '0000000000000000' WHERE id = 1") }
        let simulator = CLITests.invoke(["reproduce", "1", "--db", db])
        #expect(simulator.status == 1)
        #expect(
            simulator.out
                == header + "NOT reproduced: digest \(digest) differs from the stored 0000000000000000\n"
                + "the scenario text and its files are unchanged, so the difference comes from the simulator\n")
        // A run stored before v6 has no files to compare: reproduce says what it always said.
        try queue.write { try $0.execute(sql: "DELETE FROM run_file WHERE run_id = 1") }
        try queue.close()
        let old = CLITests.invoke(["reproduce", "1", "--db", db])
        #expect(old.status == 1)
        #expect(old.out == header + "NOT reproduced: digest \(digest) differs from the stored 0000000000000000\n")
    }

    @Test func reproduceOfARunWhoseFileIsMissingSaysWhereTheRunReadIt() throws {
        let folder = try TemporaryDirectory.make("reproduce-files")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.trace().write(to: folder.appendingPathComponent("trace.csv"), atomically: true, encoding: .utf8)
        let scenario = folder.appendingPathComponent("s.yaml")
        try Self.scenario(name: "cli-relative", trace: "trace.csv").write(
            to: scenario, atomically: true, encoding: .utf8)
        let db = folder.appendingPathComponent("r.sqlite").path
        #expect(CLITests.invoke(["run", scenario.path, "--db", db, "--quiet"]).status == 0)

        // Reproduce resolves the stored text's relative paths from the current directory, which has no trace.csv.
        let missing = CLITests.invoke(["reproduce", "1", "--db", db])
        let sha256 = SHA256.hex(of: Array(Self.trace().utf8))
        #expect(missing.status == 66 && missing.out == "")
        #expect(
            missing.err
                == "error: run 1 (cli-relative):11:32: error: at workloads[0].trace.path: no trace file `trace.csv` "
                + "(looked for trace.csv)\n"
                + "note: run 1 read `trace.csv` at `\(folder.appendingPathComponent("trace.csv").path)` "
                + "(sha256 \(sha256.prefix(12))…); relative paths in a stored scenario resolve from the current "
                + "directory\n")
    }
}
