import Foundation
import ResultsStore
import TestSupport
import Testing

@testable import InferMeshCLI

/// `infermesh report`: what the page holds, that it names no URL, that it is the same for the same database,
/// and that bad input is an error rather than a crash. ReportBrowserTests loads it in Chromium.
@Suite struct ReportTests {
    /// Stations with a spike, two policies; the comment has the characters HTML must escape.
    static let scenario = """
        # Report tests: <b>stations</b> & a "spike" that 'doubles' the rate.
        name: tiny-report
        seed: 9
        horizon: 60s
        warmup: 5s
        sample-interval: 1s
        slo: {e2e: 2s}
        policies: [round-robin, least-connections]
        pools:
          - name: pool
            replicas: 3
            station: {servers: 1, service: {dist: exponential, mean: 300ms}}
        workloads:
          - name: chat
            rate: 6/s
            schedule: {spike: {start: 20s, ramp-up: 5s, peak: 2, hold: 15s, decay: 5s}}
        """

    /// A temporary folder holding `db.sqlite` with `text` run once per policy.
    static func storedRuns(_ text: String = scenario) throws -> (folder: URL, db: String) {
        let folder = try TemporaryDirectory.make("infermesh-report")
        let file = folder.appendingPathComponent("scenario.yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let db = folder.appendingPathComponent("db.sqlite").path
        let run = CLITests.invoke(["run", file.path, "--db", db, "--quiet"])
        #expect(run.status == 0, "\(run.err)")
        return (folder, db)
    }

    /// The comparison `compare` makes of the runs it selects by default.
    static func comparison(_ db: String) throws -> ComparisonReport {
        let store = try ResultsStore(path: db)
        let selection = try ComparisonSelection.parse([])
        return try selection.comparison(of: try selection.select(store, db: db), store: store)
    }

    @Test func theReportHoldsTheComparisonTheChartsEveryRunAndTheScenario() throws {
        let (folder, db) = try Self.storedRuns()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("shared/report.html").path
        let result = CLITests.invoke(["report", "--db", db, "--out", out])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out == "wrote \(out)\n" && result.err == "")
        let html = try String(contentsOfFile: out, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">\n"))

        // Self-contained: no script, nothing to fetch, no URL at all.
        for forbidden in ["http:", "https:", "<script", "<link", " src=", "url(", "@import", "@font-face", "<iframe"] {
            #expect(!html.lowercased().contains(forbidden), "the page has \(forbidden)")
        }
        for href in html.matches(of: try Regex(#"href="([^"]*)""#, as: (Substring, Substring).self)) {
            #expect(href.output.1.hasPrefix("#"), "a link out of the page: \(href.output.1)")
        }

        // Every cell of compare's table, in its row and column.
        let comparison = try Self.comparison(db)
        #expect(comparison.policies == ["round-robin", "least-connections"])
        for row in comparison.gridRows() {
            let cells = zip(comparison.policies, row.cells).map { policy, cell in
                "<td data-policy=\"\(policy)\"[^>]*>\(NSRegularExpression.escapedPattern(for: Markup.escape(cell)))</td>"
            }
            let pattern =
                "<tr data-row=\"\(row.metric ?? row.label)\">\\n<th scope=\"row\">[^<]*</th>\\n"
                + cells.joined(separator: "\\n")
            #expect(html.contains(try Regex(pattern)), "row \(row.label)")
        }
        #expect(comparison.gridRows().contains { $0.label == "e2e p50 (ms)" })

        // Each run's digest and the command that reproduces it from this database.
        let runs = try ResultsStore(path: db).runs()
        #expect(runs.count == 2)
        for run in runs {
            #expect(html.contains("<code class=\"digest\">\(run.digest!)</code>"))
            #expect(html.contains("<code class=\"reproduce\">infermesh reproduce \(run.id) --db \(db)</code>"))
        }
        // The scenario as stored, escaped.
        #expect(html.contains("<pre class=\"scenario\"><code>\(Markup.escape(Self.scenario))</code></pre>"))
        #expect(html.contains("&lt;b&gt;stations&lt;/b&gt; &amp; a &quot;spike&quot; that &apos;doubles&apos;"))

        // The three charts, inline and as wide as the page; the time series with its spike.
        let charts = html.matches(of: try Regex(#"<svg viewBox="0 0 \d+ \d+" width="100%""#))
        #expect(charts.count == 3)
        #expect(html.components(separatedBy: "class=\"spike-window\"").count - 1 == 2)
        for id in ["ttft-cdf", "e2e-cdf", "timeseries"] { #expect(html.contains("<figure id=\"\(id)\">")) }
        #expect(html.contains("@media print") && html.contains("break-inside: avoid"))
    }

    @Test func theSameDatabaseGivesTheSameBytes() throws {
        let (folder, db) = try Self.storedRuns()
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = folder.appendingPathComponent("a.html").path, second = folder.appendingPathComponent("b.html").path
        #expect(CLITests.invoke(["report", "--db", db, "--out", first]).status == 0)
        #expect(CLITests.invoke(["report", "1", "2", "--db", db, "--out", second]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: first)) == Data(contentsOf: URL(fileURLWithPath: second)))
    }

    @Test func theReproduceCommandQuotesWhatTheShellWouldSplit() {
        #expect(HTMLReport.shellQuoted("results/x.sqlite") == "results/x.sqlite")
        #expect(HTMLReport.shellQuoted("my runs/it's.sqlite") == "'my runs/it'\\''s.sqlite'")
        #expect(HTMLReport.shellQuoted("") == "''")
    }

    @Test func badInputIsAClearErrorAndWritesNothing() throws {
        let (folder, db) = try Self.storedRuns()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("report.html").path
        let empty = folder.appendingPathComponent("empty.sqlite").path
        _ = try ResultsStore(path: empty)
        let file = folder.appendingPathComponent("scenario.yaml").path
        let cases: [(arguments: [String], status: Int32, error: String)] = [
            (["99", "--db", db, "--out", out], 64, "error: no run 99 in \(db)\n"),
            (["--db", empty, "--out", out], 64, "error: no complete runs to compare in \(empty)\n"),
            (
                ["--scenario", "other", "--db", db, "--out", out], 64,
                "error: no complete runs of scenario 'other'; stored: tiny-report\n"
            ),
            (
                ["--baseline", "random", "--db", db, "--out", out], 64,
                "error: baseline 'random' is not among the compared policies: round-robin, least-connections\n"
            ),
            (
                ["--db", db, "--out", folder.path], 1,
                "error: cannot write the report to \(folder.path): it is a folder; name a file, like "
                    + "\(folder.path)/report.html\n"
            ),
            (
                ["--db", db, "--out", file + "/report.html"], 1,
                "error: cannot write the report to \(file)/report.html: \(file) is a file, not a folder\n"
            ),
        ]
        for (arguments, status, error) in cases {
            let result = CLITests.invoke(["report"] + arguments)
            #expect(result.status == status, "\(arguments)")
            #expect(result.err == error, "\(arguments)")
            #expect(result.out == "", "\(arguments)")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
