import Foundation
import GRDB
import InferMeshCLI
import Testing

/// `infermesh compare` and `infermesh reproduce` on runs stored by `infermesh run`.
@Suite struct CompareReproduceTests {
    /// A workspace with the small scenario run for 3 replications into `db`.
    static func stored() throws -> (folder: URL, db: String) {
        let folder = try CLITests.workspace()
        let db = folder.appendingPathComponent("r.sqlite").path
        let result = CLITests.invoke([
            "run", folder.appendingPathComponent("small.yaml").path, "--db", db, "--replications", "3", "--quiet",
        ])
        #expect(result.status == 0, "\(result.err)")
        return (folder, db)
    }

    @Test func compareShowsTheLatestRunsWithIntervalsAndTheBaseline() throws {
        let (folder, db) = try Self.stored()
        defer { try? FileManager.default.removeItem(at: folder) }
        let table = CLITests.invoke(["compare", "--db", db])
        #expect(table.status == 0, "\(table.err)")
        #expect(table.out.contains("3 replications") && table.out.contains("±"))
        for row in ["e2e p50 (ms)", "e2e p99.9 (ms)", "SLO attainment", "throughput (req/s)", "timed out"] {
            #expect(table.out.contains(row), "\(row)")
        }
        // least-connections against the default baseline, round-robin: a relative difference in each row; on
        // E2E p99 at load 0.8 it is large (about −28%) and significant over 3 replications (starred).
        let line = try #require(table.out.split(separator: "\n").first { $0.hasPrefix("e2e p99 (ms)") })
        #expect(line.contains("%*)"))

        let json = CLITests.invoke(["compare", "--db", db, "--format", "json", "--baseline", "least-connections"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        #expect(object["baseline"] as? String == "least-connections")
        let policies = try #require(object["policies"] as? [[String: Any]])
        #expect(policies.map { $0["policy"] as? String } == ["round-robin", "least-connections"])
        #expect(policies[0]["relative_to_baseline"] != nil && policies[1]["relative_to_baseline"] == nil)

        let csv = CLITests.invoke(["compare", "--db", db, "--format", "csv"])
        let rows = csv.out.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(rows.first == "metric,policy,mean,ci95_half_width,n,relative_to_baseline,significant")
        #expect(rows.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 7 })
        #expect(rows.contains { $0.hasPrefix("slo_attainment,least-connections,") && $0.contains(",3,") })

        let markdown = CLITests.invoke(["compare", "--db", db, "--format", "markdown"])
        #expect(markdown.out.contains("| metric | round-robin | least-connections |"))

        // By id, and the errors: an unknown id, an unknown baseline, a missing database.
        #expect(CLITests.invoke(["compare", "1", "4", "--db", db]).out.contains("1 replication"))
        #expect(CLITests.invoke(["compare", "99", "--db", db]).status == 64)
        #expect(CLITests.invoke(["compare", "--db", db, "--baseline", "random"]).status == 64)
        #expect(CLITests.invoke(["compare", "--db", folder.appendingPathComponent("none.sqlite").path]).status == 66)
    }

    @Test func reproduceMatchesTheStoredDigestAndFailsLoudlyWhenItDiffers() throws {
        let (folder, db) = try Self.stored()
        defer { try? FileManager.default.removeItem(at: folder) }
        let same = CLITests.invoke(["reproduce", "2", "--db", db])
        #expect(same.status == 0 && same.out.contains("reproduced: digest"), "\(same.out)\(same.err)")
        // A tampered digest: the re-run no longer matches.
        let queue = try DatabaseQueue(path: db)
        try queue.write { try $0.execute(sql: "UPDATE run SET digest = '0000000000000000' WHERE id = 2") }
        try queue.close()
        let differs = CLITests.invoke(["reproduce", "2", "--db", db])
        #expect(differs.status == 1 && differs.out.contains("NOT reproduced"))
        // The scenario names no files and its text is stored: nothing but the simulator can differ.
        #expect(
            differs.out.hasSuffix(
                "the scenario text is the stored one and names no files, so the difference comes from the simulator\n"))
        // A window: the summary of requests arriving in it only.
        let zoom = CLITests.invoke(["reproduce", "1", "--db", db, "--window", "1m..2m"])
        #expect(zoom.status == 0 && zoom.out.contains("requests arriving in [1m, 2m)"), "\(zoom.out)")
        #expect(CLITests.invoke(["reproduce", "1", "--db", db, "--window", "2m..1m"]).status == 64)
        #expect(CLITests.invoke(["reproduce", "42", "--db", db]).status == 64)
    }
}
