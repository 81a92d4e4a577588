import Foundation

/// The three charts `plot` writes and `report` shows.
enum Plots {
    /// Points an empirical CDF keeps at most: evenly spaced order statistics, the last always included.
    static let maxCDFPoints = 500

    /// Each chart with the name of its `plot` file, in the order both commands show them.
    static func all(_ data: PlotData) -> [(file: String, chart: SVGDocument)] {
        [
            ("ttft-cdf.svg", cdf(data, title: "TTFT", latencies: data.ttftMs)),
            ("e2e-cdf.svg", cdf(data, title: "End-to-end latency", latencies: data.e2eMs)),
            ("timeseries.svg", timeseries(data)),
        ]
    }

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
    static func cdf(_ data: PlotData, title: String, latencies: [[Double]]) -> SVGDocument {
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
                    policy, .line
                )
            }, left: 580, top: 50)
        return svg
    }

    /// The gray of the legend's entries for a group's mean, band and worst replica, which every policy draws in
    /// its own color.
    static let styleColor = "#555555"
    /// Fault windows the legend names one by one; the rest are counted.
    static let maxFaultsNamed = 4

    /// Waiting requests and KV-cache use over simulated time: a panel per gauge and group of replicas (pool or
    /// cluster, where the runs have several), the spike and the faults shaded. A group of at most
    /// ``ReplicaSeries/individualLineLimit`` replicas draws a line per replica; a larger one its mean, p10–p90
    /// band and worst replica. A line breaks where its replica was not provisioned.
    static func timeseries(_ data: PlotData) -> SVGDocument {
        var labels: [String] = []
        for gauges in data.gauges {
            for group in gauges.groups where !labels.contains(group.label) { labels.append(group.label) }
        }
        if labels.isEmpty { labels = [""] }
        // A KV-cache panel for each group with a KV cache; one panel saying so when no replica has one.
        let withKVCache = labels.filter { label in
            data.gauges.contains { gauges in
                gauges.groups.contains { group in
                    group.label == label && group.members.contains { gauges.gauges[$0].contains { $0?.kvCache != nil } }
                }
            }
        }
        let panels: [(metric: GaugeMetric, group: String?)] =
            labels.map { (.waiting, $0) }
            + (withKVCache.isEmpty ? [(.kvCache, nil)] : withKVCache.map { (.kvCache, $0) })
        let panelHeight: Double = labels.count == 1 ? 240 : 170, step = panelHeight + 90
        var svg = SVGDocument(
            width: 960, height: Int(Double(panels.count) * step), title: "Replica gauges over simulated time")
        let horizon = data.horizonSeconds > 0 ? data.horizonSeconds : 1
        let xTicks = ChartScale.linearTicks(upTo: horizon).filter { $0 <= horizon * 1.0001 }.map {
            ($0, SVGDocument.number($0))
        }
        let maxWaiting = data.gauges.flatMap { $0.gauges.joined().compactMap { $0?.waiting } }.max() ?? 0
        let waitingTicks = ChartScale.linearTicks(upTo: max(maxWaiting, 1))
        var summarized = false
        for (index, (metric, label)) in panels.enumerated() {
            let panel = ChartPanel(
                left: 80, top: 40 + Double(index) * step, width: 640,
                height: panelHeight, x: (.linear, 0, horizon),
                y: (0, metric == .waiting ? waitingTicks.last! : 1))
            let drawings = data.gauges.enumerated().compactMap { policy, gauges in
                gauges.groups.first { $0.label == label }.map {
                    (policy: policy, drawing: ReplicaSeries.drawing(gauges, members: $0.members, metric: metric))
                }
            }
            let replicas =
                drawings.map { entry in
                    switch entry.drawing {
                    case .lines(let lines): lines.count
                    case .summary(let summary): summary.replicas
                    }
                }.max() ?? 0
            let summary = drawings.contains { if case .summary = $0.drawing { true } else { false } }
            summarized = summarized || summary
            drawPanelTitle(
                &svg, panel: panel, metric: metric, group: label ?? "", summaryOf: summary ? replicas : nil)
            if let spike = data.spike { panel.shade(&svg, from: spike.start, to: spike.end, as: .spike) }
            for fault in data.faults { panel.shade(&svg, from: fault.start, to: fault.end, as: .fault) }
            panel.drawAxes(
                &svg, xTicks: xTicks,
                yTicks: metric == .waiting
                    ? waitingTicks.map { ($0, SVGDocument.number($0)) }
                    : stride(from: 0.0, through: 1.0, by: 0.25).map { ($0, SVGDocument.number($0)) },
                xTitle: "simulated time (s)",
                yTitle: metric == .waiting ? "waiting requests" : "KV-cache use (fraction)")
            svg.open([("class", "series")])
            var drawn = false
            for (policy, drawing) in drawings {
                drawn =
                    draw(
                        &svg, drawing, panel: panel, metric: metric, policy: data.policies[policy],
                        color: ChartLegend.color(policy), group: label ?? "") || drawn
            }
            svg.close()
            if !drawn {
                svg.add(
                    "text",
                    [
                        ("class", "note"), ("x", SVGDocument.number(panel.left + panel.width / 2)),
                        ("y", SVGDocument.number(panel.top + panel.height / 2)), ("text-anchor", "middle"),
                    ],
                    text: label == nil && !data.gauges.allSatisfy({ $0.times.isEmpty })
                        ? "no KV cache: these replicas do not model one" : "no samples")
            }
        }
        var entries: [ChartLegend.Entry] = data.policies.enumerated().map { index, policy in
            (policy, ChartLegend.color(index), policy, .line)
        }
        if summarized {
            entries += [
                ("mean of the replicas", styleColor, nil, .thick),
                ("p10–p90 of the replicas", styleColor, nil, .box(opacity: ReplicaSeries.bandOpacity)),
                ("worst replica: highest\npeak of waiting requests", styleColor, nil, .dashed),
            ]
        }
        if data.spike != nil {
            entries.append(("spike window", ChartWindow.spike.color, nil, .box(opacity: ChartWindow.spike.opacity)))
        }
        var faultLabels: [String] = []
        for fault in data.faults where !faultLabels.contains(fault.label) { faultLabels.append(fault.label) }
        for label in faultLabels.prefix(maxFaultsNamed) {
            entries.append(("fault: \(label)", ChartWindow.fault.color, nil, .box(opacity: 0.4)))
        }
        if faultLabels.count > maxFaultsNamed {
            entries.append(
                ("\(faultLabels.count - maxFaultsNamed) more faults", ChartWindow.fault.color, nil, .box(opacity: 0.4)))
        }
        ChartLegend.draw(&svg, entries: entries, left: 740, top: 50)
        return svg
    }

    /// The title above a time-series panel: the gauge, the group, and for a summarized group what is drawn.
    private static func drawPanelTitle(
        _ svg: inout SVGDocument, panel: ChartPanel, metric: GaugeMetric, group: String, summaryOf replicas: Int?
    ) {
        var title: String
        if let replicas {
            title = metric == .waiting ? "waiting requests (num_requests_waiting)" : "KV-cache use (fraction, 0–1)"
            title += group.isEmpty ? "" : " · \(group)"
            title += ": mean, p10–p90 and worst of \(replicas) replicas"
        } else {
            title =
                metric == .waiting
                ? "waiting requests per replica (num_requests_waiting)" : "KV-cache use per replica (fraction, 0–1)"
            title += group.isEmpty ? "" : " · \(group)"
        }
        svg.add(
            "text",
            [
                ("class", "chart-title"), ("x", SVGDocument.number(panel.left + panel.width / 2)),
                ("y", SVGDocument.number(panel.top - 12)), ("text-anchor", "middle"), ("font-size", "14"),
            ], text: title)
    }

    /// Draws one policy's drawing of a group; returns whether it drew any point.
    private static func draw(
        _ svg: inout SVGDocument, _ drawing: ReplicaSeries.Drawing, panel: ChartPanel, metric: GaugeMetric,
        policy: String, color: String, group: String
    ) -> Bool {
        let tags = [("data-policy", policy), ("data-group", group)]
        func polyline(_ kind: String, _ points: [ReplicaSeries.Point], replica: Int? = nil, style: [(String, String)]) {
            svg.add(
                "polyline",
                [("class", kind)] + tags + (replica.map { [("data-replica", String($0))] } ?? [])
                    + [
                        ("points", SVGDocument.points(points.map { panel.point($0.t, $0.value) })), ("fill", "none"),
                        ("stroke", color),
                    ] + style)
        }
        switch drawing {
        case .lines(let lines):
            for line in lines {
                for segment in line.segments {
                    polyline(
                        "replica-line", segment, replica: line.replica.index,
                        style: [("stroke-width", "0.8"), ("stroke-opacity", "0.7")])
                }
            }
            return lines.contains { !$0.segments.isEmpty }
        case .summary(let summary):
            for segment in summary.band {
                let upper = segment.map { panel.point($0.t, $0.high) },
                    lower = segment.reversed().map { panel.point($0.t, $0.low) }
                svg.add(
                    "polygon",
                    [("class", "replica-band")] + tags
                        + [
                            ("points", SVGDocument.points(upper + lower)), ("fill", color),
                            ("fill-opacity", SVGDocument.number(ReplicaSeries.bandOpacity)),
                            ("stroke", "none"),
                        ])
            }
            for segment in summary.mean { polyline("replica-mean", segment, style: [("stroke-width", "2")]) }
            if let worst = summary.worst {
                for segment in worst.line.segments {
                    polyline(
                        "replica-worst", segment, replica: worst.line.replica.index,
                        style: [("stroke-width", "1.2"), ("stroke-dasharray", "5 3")])
                }
                // Named at its highest drawn point (a thinned line may skip the peak itself).
                if metric == .waiting, let peak = worst.line.segments.joined().max(by: { $0.value < $1.value }) {
                    let at = panel.point(peak.t, peak.value)
                    svg.add(
                        "text",
                        [
                            ("class", "worst-label"), ("data-policy", policy), ("x", SVGDocument.number(at.x)),
                            ("y", SVGDocument.number(max(at.y - 5, panel.top + 12))),
                            ("text-anchor", at.x > panel.left + panel.width / 2 ? "end" : "start"), ("font-size", "11"),
                            ("fill", color),
                        ],
                        text: "worst: \(worst.line.replica.name) (peak \(SVGDocument.number(worst.peak)))")
                }
            }
            return !summary.mean.isEmpty
        }
    }
}
