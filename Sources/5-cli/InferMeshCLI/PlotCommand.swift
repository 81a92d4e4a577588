import ArgumentParser
import Foundation
import ResultsStore

/// `infermesh plot --out DIR`: latency CDFs and replica time series of stored runs as SVG, without Python.
struct PlotCommand: ResultsReadingCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw TTFT and E2E CDFs per policy and replica time series as SVG files.")

    @OptionGroup var selection: RunSelectionOptions
    @Option(help: "The folder to write the SVG files to (created if needed).") var out: String = "results/plots"

    var database: DatabaseOption { selection.database }

    /// Draws the selected runs; returns the exit status.
    func perform(store: ResultsStore, io: CommandIO) -> Int32 {
        let runs: [StoredRun]
        do throws(ReadFailure) {
            runs = try selection.select(from: store)
        } catch {
            io.err(error.message + "\n")
            return error.status
        }
        do {
            let data = try PlotData(store: store, runs: runs)
            let folder = URL(fileURLWithPath: out, isDirectory: true)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let files = [
                ("ttft-cdf.svg", Plots.cdf(data, title: "TTFT", latencies: data.ttftMs)),
                ("e2e-cdf.svg", Plots.cdf(data, title: "End-to-end latency", latencies: data.e2eMs)),
                ("timeseries.svg", Plots.timeseries(data)),
            ]
            for (name, text) in files {
                let url = folder.appendingPathComponent(name)
                try Data(text.utf8).write(to: url)
                io.out("wrote \(url.path)\n")
            }
            return ExitStatus.ok
        } catch {
            io.err("error: plot to \(out) failed: \(error)\n")
            return ExitStatus.internalError
        }
    }
}

/// What the plots show, read from the database.
struct PlotData {
    /// Policies in first-appearance order; index i has color i.
    var policies: [String] = []
    /// Per policy, ascending: TTFT and E2E (ms) of completed requests that arrived in the measurement window,
    /// over every selected run of the policy.
    var ttftMs: [[Double]] = []
    var e2eMs: [[Double]] = []
    /// One gauge sample: time (s), waiting requests, KV-cache use (nil without a KV cache).
    typealias Point = (t: Double, waiting: Double, kv: Double?)
    /// One replica's samples.
    typealias Line = (replica: Int, points: [Point])
    /// Per policy, the gauges of its first selected run, one line per replica.
    var series: [[Line]] = []
    /// The longest horizon of the runs drawn in the time series, seconds.
    var horizonSeconds: Double = 0
    /// The spike window (s) from the first run that has `spike_start_s` and `spike_end_s`.
    var spike: (start: Double, end: Double)?

    /// Points a replica's line keeps at most; longer series keep every k-th sample.
    static let maxPointsPerLine = 1500

    init(store: ResultsStore, runs: [StoredRun]) throws {
        policies = RunSelectionOptions.policies(of: runs)
        ttftMs = Array(repeating: [], count: policies.count)
        e2eMs = ttftMs
        series = Array(repeating: [], count: policies.count)
        let completed = RequestStatus.completed.rawValue
        let columns = RunSelectionOptions.columns(of: runs)
        for (run, column) in zip(runs, columns) {
            let policy = policies.firstIndex(of: column)!
            try store.forEachRow(
                table: "request", columns: ["arrival_ns", "first_token_ns", "end_ns", "status"], runID: run.id,
                orderBy: ["request_id"]
            ) { row in
                guard case .integer(let arrival) = row[0], arrival >= run.warmupNs, arrival < run.horizonNs,
                    case .text(completed) = row[3]
                else { return }
                if case .integer(let first) = row[1] { ttftMs[policy].append(Double(first - arrival) / 1e6) }
                if case .integer(let end) = row[2] { e2eMs[policy].append(Double(end - arrival) / 1e6) }
            }
            if spike == nil {
                let summary = try store.summaries(runID: run.id)
                if let start = summary.first(where: { $0.metric == "spike_start_s" })?.value,
                    let end = summary.first(where: { $0.metric == "spike_end_s" })?.value, start.isFinite, end.isFinite
                {
                    spike = (start, end)
                }
            }
        }
        for index in policies.indices {
            ttftMs[index].sort()
            e2eMs[index].sort()
        }
        for (policy, name) in policies.enumerated() {
            let run = runs[columns.firstIndex(of: name)!]
            horizonSeconds = max(horizonSeconds, Double(run.horizonNs) / 1e9)
            var byReplica: [Line] = []
            try store.forEachRow(
                table: "sample", columns: ["replica", "time_ns", "num_requests_waiting", "kv_cache_usage_perc"],
                runID: run.id, orderBy: ["replica", "time_ns"]
            ) { row in
                guard case .integer(let replica) = row[0], case .integer(let time) = row[1],
                    case .integer(let waiting) = row[2]
                else { return }
                var kv: Double?
                if case .real(let value) = row[3] {
                    kv = value
                } else if case .integer(let value) = row[3] {
                    kv = Double(value)
                }
                if byReplica.last?.replica != Int(replica) { byReplica.append((Int(replica), [])) }
                byReplica[byReplica.count - 1].points.append((Double(time) / 1e9, Double(waiting), kv))
            }
            series[policy] = byReplica.map { line -> Line in
                let stride = (line.points.count + Self.maxPointsPerLine - 1) / Self.maxPointsPerLine
                guard stride > 1 else { return line }
                return (line.replica, Swift.stride(from: 0, to: line.points.count, by: stride).map { line.points[$0] })
            }
        }
    }
}

/// The three charts.
enum Plots {
    /// Points an empirical CDF keeps at most: evenly spaced order statistics, the last always included.
    static let maxCDFPoints = 500

    /// The CDF's polyline points (value, fraction ≤ value) of ascending `sorted` values; both coordinates
    /// are non-decreasing.
    static func cdfPoints(_ sorted: [Double]) -> [(value: Double, fraction: Double)] {
        guard !sorted.isEmpty else { return [] }
        let n = sorted.count, m = min(n, maxCDFPoints)
        return (0..<m).map { k in
            let index = m == 1 ? n - 1 : k * (n - 1) / (m - 1)
            return (sorted[index], Double(index + 1) / Double(n))
        }
    }

    /// A CDF chart: one line per policy, log x axis in ms with decade ticks, y from 0 to 1, and a legend.
    static func cdf(_ data: PlotData, title: String, latencies: [[Double]]) -> String {
        var svg = SVGDocument(width: 760, height: 460, title: "\(title) CDF per policy")
        let positive = latencies.joined().filter { $0 > 0 }
        let decades = ChartScale.decades(low: positive.min() ?? 1, high: positive.max() ?? 10)
        let low = pow(10, Double(decades.first!)), high = pow(10, Double(decades.last!))
        let panel = ChartPanel(left: 80, top: 40, width: 480, height: 340, x: (.log10, low, high), y: (0, 1))
        svg.add(
            "text",
            [("class", "chart-title"), ("x", "320"), ("y", "24"), ("text-anchor", "middle"), ("font-size", "14")],
            text: "\(title): cumulative distribution per policy")
        panel.drawAxes(
            &svg, xTicks: decades.map { (pow(10, Double($0)), ChartScale.decadeLabel($0)) },
            yTicks: stride(from: 0.0, through: 1.0, by: 0.25).map { ($0, SVGDocument.number($0)) },
            xTitle: "\(title) (ms, log scale)", yTitle: "fraction of completed requests")
        svg.open([("class", "series")])
        for (index, policy) in data.policies.enumerated() where !latencies[index].isEmpty {
            let points = cdfPoints(latencies[index]).map { panel.point(max($0.value, low), $0.fraction) }
            svg.add(
                "polyline",
                [
                    ("class", "cdf"), ("data-policy", policy), ("points", SVGDocument.points(points)), ("fill", "none"),
                    ("stroke", ChartLegend.color(index)), ("stroke-width", "1.5"),
                ])
        }
        svg.close()
        ChartLegend.draw(
            &svg,
            entries: data.policies.enumerated().map { index, policy in
                (
                    policy + (latencies[index].isEmpty ? " (no completed requests)" : ""), ChartLegend.color(index),
                    policy,
                    false
                )
            }, left: 580, top: 50)
        return svg.render()
    }

    /// Waiting requests and KV-cache use per replica over simulated time, one panel each, the spike shaded.
    static func timeseries(_ data: PlotData) -> String {
        var svg = SVGDocument(width: 960, height: 660, title: "Replica gauges over simulated time")
        let horizon = data.horizonSeconds > 0 ? data.horizonSeconds : 1
        let xTicks = ChartScale.linearTicks(upTo: horizon).filter { $0 <= horizon * 1.0001 }.map {
            ($0, SVGDocument.number($0))
        }
        let maxWaiting = data.series.joined().flatMap { line in line.points.map { $0.waiting } }.max() ?? 0
        let waitingTicks = ChartScale.linearTicks(upTo: max(maxWaiting, 1))
        let panels = [
            ChartPanel(
                left: 80, top: 40, width: 640, height: 240, x: (.linear, 0, horizon), y: (0, waitingTicks.last!)),
            ChartPanel(left: 80, top: 370, width: 640, height: 240, x: (.linear, 0, horizon), y: (0, 1)),
        ]
        let titles = [
            "waiting requests per replica (num_requests_waiting)", "KV-cache use per replica (fraction, 0–1)",
        ]
        let yTicks = [
            waitingTicks.map { ($0, SVGDocument.number($0)) },
            stride(from: 0.0, through: 1.0, by: 0.25).map { ($0, SVGDocument.number($0)) },
        ]
        let yTitles = ["waiting requests", "KV-cache use (fraction)"]
        for (index, panel) in panels.enumerated() {
            svg.add(
                "text",
                [
                    ("class", "chart-title"), ("x", SVGDocument.number(panel.left + panel.width / 2)),
                    ("y", SVGDocument.number(panel.top - 12)), ("text-anchor", "middle"), ("font-size", "14"),
                ], text: titles[index])
            if let spike = data.spike { panel.shade(&svg, from: spike.start, to: spike.end) }
            panel.drawAxes(
                &svg, xTicks: xTicks, yTicks: yTicks[index], xTitle: "simulated time (s)", yTitle: yTitles[index])
            svg.open([("class", "series")])
            for (policy, lines) in data.series.enumerated() {
                for line in lines {
                    let values: [(Double, Double)] =
                        index == 0
                        ? line.points.map { ($0.t, $0.waiting) }
                        : line.points.compactMap { p in p.kv.map { (p.t, $0) } }
                    guard !values.isEmpty else { continue }
                    svg.add(
                        "polyline",
                        [
                            ("class", "replica-line"), ("data-policy", data.policies[policy]),
                            ("data-replica", String(line.replica)),
                            ("points", SVGDocument.points(values.map { panel.point($0.0, $0.1) })), ("fill", "none"),
                            ("stroke", ChartLegend.color(policy)), ("stroke-width", "0.8"), ("stroke-opacity", "0.7"),
                        ])
                }
            }
            svg.close()
            if index == 1, !data.series.joined().contains(where: { $0.points.contains { $0.kv != nil } }) {
                svg.add(
                    "text",
                    [
                        ("class", "note"), ("x", SVGDocument.number(panel.left + panel.width / 2)),
                        ("y", SVGDocument.number(panel.top + panel.height / 2)), ("text-anchor", "middle"),
                    ], text: "no KV cache: these replicas do not model one")
            }
        }
        var entries = data.policies.enumerated().map { index, policy in
            (label: policy, color: ChartLegend.color(index), policy: String?.some(policy), box: false)
        }
        if data.spike != nil { entries.append(("spike window", "#f4a261", nil, true)) }
        ChartLegend.draw(&svg, entries: entries, left: 740, top: 50)
        return svg.render()
    }
}
