import Foundation
import ResultsStore
import TestSupport
import Testing

@testable import InferMeshCLI

/// `infermesh report` in a real headless Chromium (Debian's `chromium`) with the network off: the DOM holds
/// compare's figures and every digest, and each chart's screenshot has the policies' colors in every plotting
/// area, a check that is shown to fail on empty charts. Screenshots are read by scripts/check-chart-pixels.py
/// with Pillow from `.venv`; scripts/install-deps.sh installs Chromium and creates `.venv`.
/// `INFERMESH_SKIP_BROWSER_TESTS=1` skips the suite on a machine without them.
@Suite(.serialized, .disabled(if: Browser.skipped, "INFERMESH_SKIP_BROWSER_TESTS=1"))
struct ReportBrowserTests {
    /// A GPU pool that queues (4 sequences at most, 200 KV blocks), 10 stations over two clusters (the 9 in
    /// `east` drawn as a summary), a spike and a replica crash: every kind of panel, each with something drawn.
    static let scenario = """
        # Report browser tests: a GPU pool, 10 stations over two clusters, a spike and a replica crash.
        name: report-browser
        seed: 11
        horizon: 40s
        warmup: 5s
        sample-interval: 1s
        slo: {ttft: 1s, e2e: 3s}
        policies: [round-robin, least-connections]
        clusters:
          - {name: east, region: r1, zone: z1, nodes: 12}
          - {name: west, region: r2, zone: z2, nodes: 12}
        mesh:
          links:
            - {from: east, to: west, latency: 5ms}
          faults:
            - {at: 15s, duration: 10s, replica-crash: {pool: stations, replica: 1}}
        pools:
          - name: gpu
            replicas: 2
            gpu: {hardware: H100-80GB, model: Llama-3.1-8B, timing: roofline, max-num-seqs: 4, num-gpu-blocks: 200}
          - name: stations
            replicas: 10
            placement:
              - {cluster: east, replicas: 9}
              - {cluster: west, replicas: 1}
            station: {servers: 1, service: {dist: exponential, mean: 1s}}
        workloads:
          - name: chat
            pool: gpu
            rate: 10/s
            input-tokens: {dist: lognormal, mean: 400, cv: 1.0}
            output-tokens: {dist: lognormal, mean: 100, cv: 1.0}
          - name: jobs
            pool: stations
            rate: 8/s
            schedule: {spike: {start: 10s, ramp-up: 2s, peak: 2, hold: 10s, decay: 2s}}
        """

    static let colors = [ChartLegend.color(0), ChartLegend.color(1)]

    /// The scenario run per policy and its report, in a new folder.
    static func report() throws -> (folder: URL, db: String, html: URL) {
        let (folder, db) = try ReportTests.storedRuns(scenario)
        let html = folder.appendingPathComponent("report.html")
        let result = CLITests.invoke(["report", "--db", db, "--out", html.path])
        #expect(result.status == 0, "\(result.err)")
        return (folder, db, html)
    }

    @Test func theDOMHoldsComparesFiguresAndEveryDigestWithTheNetworkOff() throws {
        let (folder, db, html) = try Self.report()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = try String(contentsOf: html, encoding: .utf8)
        #expect(!text.contains("http://") && !text.contains("https://"), "the page names a URL")

        let dom = try Browser.dumpDOM(html)
        #expect(!dom.contains("http://") && !dom.contains("https://"))
        let table = try Browser.tableCells(dom)
        let comparison = try ReportTests.comparison(db)
        #expect(comparison.policies == ["round-robin", "least-connections"])
        // Every row compare shows, cell for cell, TTFT p50 among them.
        #expect(table.map(\.row) == comparison.gridRows().map { $0.metric ?? $0.label })
        for (row, dom) in zip(comparison.gridRows(), table) {
            #expect(dom.cells == zip(comparison.policies, row.cells).map { [$0, $1] }, "row \(row.label)")
        }
        // The same figures as `compare` prints.
        let compare = CLITests.invoke(["compare", "--db", db])
        let printed = try #require(compare.out.split(separator: "\n").first { $0.hasPrefix("ttft p50 (ms) ") })
        let columns = printed.split(separator: try Regex("  +")).map(String.init)
        let ttft = try #require(table.first { $0.row == "ttft_ms_p50" })
        #expect(columns == ["ttft p50 (ms)"] + ttft.cells.map { $0[1] })
        #expect(ttft.cells.allSatisfy { $0[1].first!.isNumber })

        for run in try ResultsStore(path: db).runs() {
            #expect(dom.contains("<code class=\"digest\">\(run.digest!)</code>"))
            #expect(dom.contains("<code class=\"reproduce\">infermesh reproduce \(run.id) --db \(db)</code>"))
        }
        #expect(dom.contains("# Report browser tests: a GPU pool, 10 stations over two clusters"))
    }

    @Test func everyPlottingAreaOfEveryChartHasEachPolicysColor() throws {
        let (folder, _, html) = try Self.report()
        defer { try? FileManager.default.removeItem(at: folder) }
        let charts = try Browser.charts(in: String(contentsOf: html, encoding: .utf8))
        #expect(charts.count == 3)
        // The CDFs, and the time series' panels: gpu, stations · east, stations · west, and gpu's KV cache.
        #expect(charts.map(\.boxes.count) == [1, 1, 4])
        for (index, chart) in charts.enumerated() {
            let check = try Browser.checkPixels(chart, in: folder, name: "chart-\(index)")
            #expect(check.status == 0, "chart \(index): \(check.out)")
        }
    }

    @Test func theCheckFailsWhenAChartIsEmpty() throws {
        let (folder, _, html) = try Self.report()
        defer { try? FileManager.default.removeItem(at: folder) }
        // The real charts with their series taken out.
        let series = try Regex(#"(?s)<g class="series">.*?\n  </g>"#)
        for (index, chart) in try Browser.charts(in: String(contentsOf: html, encoding: .utf8)).enumerated() {
            var emptied = chart
            emptied.markup = chart.markup.replacing(series, with: "<g class=\"series\"></g>")
            #expect(emptied.markup != chart.markup)
            let check = try Browser.checkPixels(emptied, in: folder, name: "emptied-\(index)")
            #expect(check.status == 1, "chart \(index): \(check.out)")
            #expect(check.out.contains("EMPTY"))
        }

        // A report of runs that stored no requests and no samples.
        let db = folder.appendingPathComponent("empty-runs.sqlite").path
        let store = try ResultsStore(path: db)
        let sha = String(repeating: "0", count: 64)
        for (index, policy) in ["round-robin", "least-connections"].enumerated() {
            let id = try store.beginRun(
                NewRun(
                    scenarioName: "report-browser", scenarioSHA256: sha, scenarioText: Self.scenario, policy: policy,
                    seed: 11, replication: 0, toolVersion: ToolVersion.current, createdAt: "2025-01-01T00:00:00Z",
                    horizonNs: 40_000_000_000, warmupNs: 5_000_000_000))
            try store.completeRun(
                id: id,
                results: RunResults(
                    replicas: [ReplicaRow(replica: 0, pool: "gpu", kind: "gpu")], requests: [], summaries: [],
                    samples: [], itlHistogram: [], digest: String(repeating: "\(index)", count: 16), events: 0,
                    wallSeconds: 0))
        }
        let out = folder.appendingPathComponent("empty.html")
        let result = CLITests.invoke(["report", "--db", db, "--out", out.path])
        #expect(result.status == 0, "\(result.err)")
        for (index, chart) in try Browser.charts(in: String(contentsOf: out, encoding: .utf8)).enumerated() {
            let check = try Browser.checkPixels(chart, in: folder, name: "empty-\(index)")
            #expect(check.status == 1, "chart \(index): \(check.out)")
        }
    }

    @Test func onAPhoneThePageShowsEveryChartsSeries() throws {
        let (folder, _, html) = try Self.report()
        defer { try? FileManager.default.removeItem(at: folder) }
        // The policies' swatches in the tables are about a hundred pixels of each color; the charts, thousands.
        let png = folder.appendingPathComponent("phone.png")
        try Browser.screenshot(html, to: png, width: 390, height: 7000)
        let check = try Browser.run(
            Browser.python,
            [Browser.pixelCheck.path, png.path, "--min-pixels", "1000"] + Self.colors.flatMap { ["--color", $0] })
        #expect(check.status == 0, "\(check.out)\(check.err)")
    }
}

/// Headless Chromium with the network off, and the pixel check, for the browser tests.
enum Browser {
    static let skipped = ProcessInfo.processInfo.environment["INFERMESH_SKIP_BROWSER_TESTS"] == "1"
    static let python = Repository.root.appendingPathComponent(".venv/bin/python")
    static let pixelCheck = Repository.root.appendingPathComponent("scripts/check-chart-pixels.py")

    /// No network (every request goes to a proxy on the discard port, loopback included), no GPU, no sandbox
    /// (containers run as root), no background services, one CSS pixel per device pixel.
    static let flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
        "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--no-first-run",
        "--no-default-browser-check", "--disable-extensions", "--disable-background-networking", "--disable-sync",
        "--disable-component-update", "--disable-default-apps", "--mute-audio",
    ]

    struct Missing: Error, CustomStringConvertible { let description: String }

    /// Chromium on the PATH.
    static func chromium() throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
        for folder in path.split(separator: ":") {
            for name in ["chromium", "chromium-browser"] {
                let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent(name)
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            }
        }
        throw Missing(
            description: "no chromium on the PATH: run scripts/install-deps.sh, or set INFERMESH_SKIP_BROWSER_TESTS=1")
    }

    /// Runs `tool` to completion (killed after `timeout` seconds); its status and output.
    static func run(
        _ tool: URL, _ arguments: [String], timeout: TimeInterval = 120
    ) throws -> (
        status: Int32, out: String, err: String
    ) {
        guard FileManager.default.isExecutableFile(atPath: tool.path) else {
            throw Missing(description: "\(tool.path) is missing: run scripts/install-deps.sh")
        }
        return try TemporaryDirectory.with("infermesh-browser-run") { folder in
            let out = folder.appendingPathComponent("out"), err = folder.appendingPathComponent("err")
            try Data().write(to: out)
            try Data().write(to: err)
            let process = Process()
            process.executableURL = tool
            process.arguments = arguments
            process.standardOutput = try FileHandle(forWritingTo: out)
            process.standardError = try FileHandle(forWritingTo: err)
            try process.run()
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
                throw Missing(description: "\(tool.lastPathComponent) did not finish in \(timeout) s")
            }
            process.waitUntilExit()
            return (
                process.terminationStatus, try String(contentsOf: out, encoding: .utf8),
                try String(contentsOf: err, encoding: .utf8)
            )
        }
    }

    /// Chromium with its own fresh profile, on `arguments` after the offline flags.
    static func chromium(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let binary = try chromium()
        return try TemporaryDirectory.with("infermesh-chromium-profile") { profile in
            try run(binary, flags + ["--user-data-dir=\(profile.path)"] + arguments)
        }
    }

    /// The DOM Chromium builds from `file`, serialized.
    static func dumpDOM(_ file: URL) throws -> String {
        let result = try chromium(["--dump-dom", file.absoluteString])
        guard result.status == 0, result.out.contains("</html>") else {
            throw Missing(description: "chromium --dump-dom failed (\(result.status)): \(result.err)")
        }
        return result.out
    }

    /// A `width` × `height` screenshot of `file` to `png`.
    static func screenshot(_ file: URL, to png: URL, width: Int, height: Int) throws {
        let result = try chromium(["--screenshot=\(png.path)", "--window-size=\(width),\(height)", file.absoluteString])
        guard FileManager.default.fileExists(atPath: png.path) else {
            throw Missing(description: "chromium --screenshot wrote nothing (\(result.status)): \(result.err)")
        }
    }

    /// The comparison table's body in a serialized DOM: per row (`data-row`), its (policy, text) cells.
    static func tableCells(_ dom: String) throws -> [(row: String, cells: [[String]])] {
        let start = try #require(dom.range(of: "<table id=\"comparison-table\">"))
        let end = try #require(dom.range(of: "</table>", range: start.upperBound..<dom.endIndex))
        let table = dom[start.upperBound..<end.lowerBound]
        let row = try Regex(#"(?s)<tr data-row="([^"]*)">(.*?)</tr>"#, as: (Substring, Substring, Substring).self)
        let cell = try Regex(
            #"<td data-policy="([^"]*)"[^>]*>([^<]*)</td>"#, as: (Substring, Substring, Substring).self)
        return table.matches(of: row).map { match in
            (
                unescape(match.output.1),
                match.output.2.matches(of: cell).map { [unescape($0.output.1), unescape($0.output.2)] }
            )
        }
    }

    /// Text as the DOM serializer escapes it, unescaped.
    static func unescape(_ text: Substring) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&nbsp;", with: "\u{a0}")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    /// An inline chart of a report page: its markup, size and plotting areas.
    struct Chart {
        var markup: String
        var width: Int
        var height: Int
        /// Each plotting area (`rect.plot-area`) as `x,y,w,h`, in the chart's own pixels.
        var boxes: [String]
    }

    /// The inline SVG charts of a report page, in page order.
    static func charts(in page: String) throws -> [Chart] {
        let svg = try Regex(#"(?s)<svg viewBox="0 0 (\d+) (\d+)".*?</svg>"#, as: (Substring, Substring, Substring).self)
        return try page.matches(of: svg).map { match in
            let elements = try SVGElements(String(match.output.0))
            let boxes = elements.all("rect", class: "plot-area").map { rect in
                ["x", "y", "width", "height"].map { rect[$0]! }.joined(separator: ",")
            }
            return Chart(
                markup: String(match.output.0), width: Int(match.output.1)!, height: Int(match.output.2)!, boxes: boxes)
        }
    }

    /// Screenshots `chart` alone at its own size and runs the pixel check on its plotting areas with both
    /// policies' colors; the check's status (0 drawn, 1 empty) and report.
    static func checkPixels(_ chart: Chart, in folder: URL, name: String) throws -> (status: Int32, out: String) {
        let page = folder.appendingPathComponent("\(name).html"), png = folder.appendingPathComponent("\(name).png")
        try """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><style>html, body { margin: 0; background: #fff; }</style></head>
        <body><div style="width: \(chart.width)px">\(chart.markup)</div></body></html>
        """.write(to: page, atomically: true, encoding: .utf8)
        try screenshot(page, to: png, width: chart.width, height: chart.height)
        let result = try run(
            python,
            [pixelCheck.path, png.path] + ReportBrowserTests.colors.flatMap { ["--color", $0] }
                + chart.boxes.flatMap { ["--box", $0] })
        #expect(result.status == 0 || result.status == 1, "the pixel check failed to run: \(result.err)")
        return (result.status, result.out)
    }
}
