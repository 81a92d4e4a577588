import Foundation
import ResultsStore
import TestSupport
import Testing

@testable import InferMeshCLI

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// `infermesh export` and `infermesh plot` on a tiny stored scenario with a spike.
@Suite struct ExportPlotTests {
    static let scenario = """
        # Export and plot tests: 2 stations, a Poisson workload with a 2x spike, two policies.
        name: tiny-spiky
        seed: 4
        horizon: 90s
        warmup: 10s
        sample-interval: 1s
        slo: {e2e: 2s}
        policies: [round-robin, least-connections]
        pools:
          - name: pool
            replicas: 2
            station: {servers: 1, service: {dist: exponential, mean: 300ms}}
        workloads:
          - name: chat
            rate: 4/s
            schedule: {spike: {start: 30s, ramp-up: 5s, peak: 2, hold: 20s, decay: 5s}}
        """

    /// A temporary folder holding `db.sqlite` with the scenario run once per policy.
    static func storedRuns() throws -> (folder: URL, db: String) {
        let folder = try TemporaryDirectory.make("infermesh-export")
        let file = folder.appendingPathComponent("tiny.yaml")
        try scenario.write(to: file, atomically: true, encoding: .utf8)
        let db = folder.appendingPathComponent("db.sqlite").path
        let run = CLITests.invoke(["run", file.path, "--db", db, "--quiet"])
        #expect(run.status == 0, "\(run.err)")
        return (folder, db)
    }

    /// RFC 4180 records of `url`: CRLF-terminated, quoted fields may hold commas, quotes and line breaks.
    static func records(_ url: URL) throws -> [[String]] {
        let text = try String(contentsOf: url, encoding: .utf8)
        var records: [[String]] = [], record: [String] = [], field = ""
        var quoted = false, wasQuoted = false
        var characters = Array(text.unicodeScalars)[...]
        while let c = characters.popFirst() {
            if quoted {
                if c == "\"" {
                    if characters.first == "\"" {
                        field.unicodeScalars.append(characters.removeFirst())
                    } else {
                        quoted = false
                    }
                } else {
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" {
                quoted = true
                wasQuoted = true
            } else if c == "," {
                record.append(field)
                field = ""
                wasQuoted = false
            } else if c == "\r" {
                #expect(characters.popFirst() == "\n", "a bare CR in \(url.lastPathComponent)")
                record.append(field)
                records.append(record)
                record = []
                field = ""
                wasQuoted = false
            } else {
                #expect(c != "\n", "a bare LF in \(url.lastPathComponent)")
                field.unicodeScalars.append(c)
            }
        }
        #expect(record.isEmpty && field.isEmpty && !wasQuoted, "\(url.lastPathComponent) ends mid-record")
        return records
    }

    @Test func fieldsAreQuotedOnlyWhenNeededAndNumbersIgnoreTheLocale() {
        #expect(CSV.field("plain") == "plain")
        #expect(CSV.field("a,b") == "\"a,b\"")
        #expect(CSV.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSV.field("two\nlines") == "\"two\nlines\"")
        #expect(CSV.field("") == "\"\"")
        #expect(CSV.field(StoredValue.null) == "")
        #expect(CSV.field(StoredValue.integer(-9_223_372_036_854_775_807)) == "-9223372036854775807")
        #expect(CSV.number(1_234_567.5) == "1234567.5")
        #expect(CSV.number(2) == "2.0")
        #expect(CSV.number(0.1) == "0.1")
        #expect(CSV.number(.nan) == "")
        #expect(CSV.number(-.infinity) == "-inf")
        for value in [1_234_567.5, 0.1 + 0.2, 1e-7, 123_456_789_012_345_680, -3.25] {
            #expect(Double(CSV.number(value)) == value, "\(value) does not round-trip")
        }
    }

    @Test func exportWritesEveryFileWithItsHeaderAndTheDatabasesRows() throws {
        let (folder, db) = try Self.storedRuns()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("export")
        let result = CLITests.invoke(["export", "--format", "csv", "--db", db, "--out", out.path])
        #expect(result.status == 0, "\(result.err)")
        let store = try ResultsStore(path: db)
        let runs = try store.runs()
        #expect(runs.count == 2)

        let runRecords = try Self.records(out.appendingPathComponent("runs.csv"))
        #expect(runRecords[0] == CSVExport.runColumns)
        #expect(runRecords.count == 3)
        #expect(runRecords[1][1] == "tiny-spiky" && runRecords[1][3] == "round-robin")
        #expect(runRecords.dropFirst().map { $0[7] } == runs.map { $0.digest! })

        // Each table's columns are the database's, in schema order, and every row of the runs is there.
        for table in CSVExport.tables {
            let records = try Self.records(out.appendingPathComponent(table.file))
            #expect(records[0] == table.columns)
            #expect(try store.columns(ofTable: table.table) == table.columns)
            var expected = 0
            for run in runs {
                try store.forEachRow(table: table.table, columns: ["run_id"], runID: run.id, orderBy: []) { _ in
                    expected += 1
                }
            }
            #expect(records.count - 1 == expected, "\(table.file)")
            #expect(records.allSatisfy { $0.count == table.columns.count })
        }
        let requests = try Self.records(out.appendingPathComponent("requests.csv"))
        #expect(requests.count > 200)
        let first = try store.requests(runID: runs[0].id)[0]
        #expect(requests[1][0] == String(runs[0].id) && requests[1][1] == String(first.requestID))
        #expect(requests[1][4] == String(first.arrivalNs))

        let summaries = try Self.records(out.appendingPathComponent("summaries.csv"))
        #expect(summaries[0] == ["run_id", "policy", "metric", "value"])
        let stored = try store.summaries(runID: runs[0].id)
        #expect(summaries.count - 1 == 2 * stored.count)
        let e2e = try #require(summaries.first { $0[0] == String(runs[0].id) && $0[2] == "e2e_ms_p99" })
        #expect(Double(e2e[3]) == stored.first { $0.metric == "e2e_ms_p99" }!.value)

        let comparison = try Self.records(out.appendingPathComponent("comparison.csv"))
        #expect(comparison[0] == ["scenario", "policy", "metric", "mean", "ci95_half_width", "n"])
        let row = try #require(comparison.first { $0[1] == "least-connections" && $0[2] == "slo_attainment" })
        #expect(row[0] == "tiny-spiky" && row[4] == "" && row[5] == "1")
        let leastConnections = try store.summaries(runID: runs[1].id).first { $0.metric == "slo_attainment" }
        #expect(Double(row[3]) == leastConnections?.value)
    }

    /// Text with commas and quotes, and a value that locale formatting would group, through the whole export.
    @Test func exportQuotesTextAndWritesPlainNumbers() throws {
        let folder = try TemporaryDirectory.make("infermesh-export")
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("db.sqlite").path
        let store = try ResultsStore(path: db)
        let name = "odd, \"quoted\" name"
        let id = try store.beginRun(
            NewRun(
                scenarioName: name, scenarioSHA256: String(repeating: "0", count: 64), scenarioText: "", policy: "p",
                seed: UInt64.max, replication: 0, toolVersion: "t", createdAt: "2025-01-01T00:00:00Z",
                horizonNs: 10, warmupNs: 0))
        let requests = [
            RequestRow(
                requestID: 0, workload: "chat, \"vip\"", replica: 0, arrivalNs: 1, startNs: 2, firstTokenNs: 3,
                endNs: 4, inputTokens: 5, outputTokens: 6, status: .completed)
        ]
        try store.completeRun(
            id: id,
            results: RunResults(
                replicas: [ReplicaRow(replica: 0, pool: "pool", kind: "station")], requests: requests,
                summaries: [SummaryRow(metric: "big", value: 1_234_567.5), SummaryRow(metric: "none", value: .nan)],
                samples: [], itlHistogram: [], digest: "0123456789abcdef", events: 1, wallSeconds: 0.5))
        let out = folder.appendingPathComponent("export")
        #expect(CLITests.invoke(["export", "--db", db, "--out", out.path]).status == 0)
        let raw = { (file: String) in try String(contentsOf: out.appendingPathComponent(file), encoding: .utf8) }
        #expect(try raw("runs.csv").contains("\r\n\(id),\"odd, \"\"quoted\"\" name\",000"))
        // The seed is the unsigned value, not SQLite's bit pattern.
        #expect(try Self.records(out.appendingPathComponent("runs.csv"))[1][4] == "18446744073709551615")
        #expect(try raw("requests.csv").contains("\r\n\(id),0,\"chat, \"\"vip\"\"\",0,1,2,3,4,5,6,completed,0,0,"))
        #expect(try Self.records(out.appendingPathComponent("requests.csv"))[1][2] == "chat, \"vip\"")
        #expect(try raw("summaries.csv") == "run_id,policy,metric,value\r\n\(id),p,big,1234567.5\r\n\(id),p,none,\r\n")
        #expect(try raw("comparison.csv").contains(",p,big,1234567.5,,1\r\n"))
        #expect(try raw("comparison.csv").contains(",p,none,,,0\r\n"))
    }

    @Test func selectionErrorsHaveTheirExitCodes() throws {
        let (folder, db) = try Self.storedRuns()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("x").path
        let missing = CLITests.invoke(["export", "--db", folder.appendingPathComponent("none.sqlite").path])
        #expect(missing.status == 66 && missing.err.contains("no results database"))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("none.sqlite").path))
        let unknown = CLITests.invoke(["plot", "--db", db, "--run", "999", "--out", out])
        #expect(unknown.status == 64 && unknown.err.contains("no run 999"))
        let scenario = CLITests.invoke(["export", "--db", db, "--scenario", "other", "--out", out])
        #expect(scenario.status == 64 && scenario.err.contains("no complete runs of scenario 'other'"))
        let one = CLITests.invoke(["export", "--db", db, "--run", "2", "--out", out])
        #expect(one.status == 0)
        #expect(try Self.records(URL(fileURLWithPath: out).appendingPathComponent("runs.csv")).count == 2)
    }

    @Test func plotDrawsWellFormedChartsWithAxesLegendsAndMonotoneCDFs() throws {
        let (folder, db) = try Self.storedRuns()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("plots")
        let result = CLITests.invoke(["plot", "--db", db, "--out", out.path])
        #expect(result.status == 0, "\(result.err)")
        let policies = ["round-robin", "least-connections"]
        for (file, title) in [
            ("ttft-cdf.svg", "TTFT (ms, log scale)"), ("e2e-cdf.svg", "End-to-end latency (ms, log scale)"),
        ] {
            let svg = try SVGSummary(url: out.appendingPathComponent(file))
            #expect(svg.axisTitles == [title, "fraction of completed requests"])
            #expect(svg.legendPolicies == policies)
            #expect(svg.polylines.filter { $0.class == "cdf" }.map(\.policy) == policies)
            for line in svg.polylines {
                #expect(line.points.count > 10)
                // Down the page is smaller y: a CDF moves right and up, never back.
                for (a, b) in zip(line.points, line.points.dropFirst()) { #expect(b.x >= a.x && b.y <= a.y) }
            }
            #expect(svg.tickLabels.contains("100") && svg.tickLabels.contains("1000"))
        }
        let series = try SVGSummary(url: out.appendingPathComponent("timeseries.svg"))
        #expect(series.axisTitles.filter { $0 == "simulated time (s)" }.count == 2)
        #expect(series.axisTitles.contains("waiting requests") && series.axisTitles.contains("KV-cache use (fraction)"))
        #expect(series.legendPolicies == policies)
        // The spike runs from 30 s to 60 s: one shaded rectangle per panel.
        #expect(series.spikeRects == 2)
        #expect(Set(series.polylines.map(\.policy)) == Set(policies))

        // The same data draws the same bytes.
        let again = CLITests.invoke(["plot", "--db", db, "--out", folder.appendingPathComponent("again").path])
        #expect(again.status == 0)
        for file in ["ttft-cdf.svg", "e2e-cdf.svg", "timeseries.svg"] {
            #expect(
                try Data(contentsOf: out.appendingPathComponent(file))
                    == Data(contentsOf: folder.appendingPathComponent("again").appendingPathComponent(file)))
        }
    }
}

/// What the tests look for in an SVG file, read with XMLParser (which fails on malformed XML).
final class SVGSummary: NSObject, XMLParserDelegate {
    var axisTitles: [String] = []
    var tickLabels: [String] = []
    var legendPolicies: [String] = []
    var polylines: [(class: String, policy: String, points: [(x: Double, y: Double)])] = []
    var spikeRects = 0
    private var textClass: String?
    private var text = ""

    init(url: URL) throws {
        super.init()
        let parser = XMLParser(data: try Data(contentsOf: url))
        parser.delegate = self
        let parsed = parser.parse()
        #expect(parsed, "\(url.lastPathComponent) is not well-formed: \(String(describing: parser.parserError))")
    }

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        switch name {
        case "polyline":
            let points = (attributes["points"] ?? "").split(separator: " ").map { pair in
                let xy = pair.split(separator: ",").map { Double($0)! }
                return (x: xy[0], y: xy[1])
            }
            polylines.append((attributes["class"] ?? "", attributes["data-policy"] ?? "", points))
        case "g" where attributes["class"] == "legend-entry":
            if let policy = attributes["data-policy"] { legendPolicies.append(policy) }
        case "rect" where attributes["class"] == "spike-window": spikeRects += 1
        case "text":
            textClass = attributes["class"]
            text = ""
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        guard name == "text" else { return }
        if textClass == "axis-title" { axisTitles.append(text) }
        if textClass == "tick-label" { tickLabels.append(text) }
        textClass = nil
    }
}
