import Foundation

/// Maps data values to pixels along one axis, linearly or by log10.
struct ChartScale {
    enum Kind { case linear, log10 }
    let kind: Kind
    let domain: (low: Double, high: Double)
    let range: (low: Double, high: Double)

    /// The pixel coordinate of `value`, clamped to the domain.
    func map(_ value: Double) -> Double {
        let low = transform(domain.low), high = transform(domain.high)
        let clamped = min(max(transform(value), low), high)
        let fraction = high > low ? (clamped - low) / (high - low) : 0
        return range.low + fraction * (range.high - range.low)
    }

    private func transform(_ value: Double) -> Double {
        kind == .linear ? value : Foundation.log10(max(value, domain.low))
    }

    /// Decades covering `[low, high]` (low > 0), at least one: the log axis's domain and its ticks.
    static func decades(low: Double, high: Double) -> [Int] {
        let first = Int(Foundation.log10(low).rounded(.down))
        let last = max(Int(Foundation.log10(max(high, low)).rounded(.up)), first + 1)
        return Array(first...last)
    }

    /// The label of tick 10^`decade`: `0.01`, `1`, `1000`, and `1e7` beyond a million or below a thousandth.
    static func decadeLabel(_ decade: Int) -> String {
        switch decade {
        case 0...6: "1" + String(repeating: "0", count: decade)
        case -3...(-1): "0." + String(repeating: "0", count: -decade - 1) + "1"
        default: "1e\(decade)"
        }
    }

    /// About five round ticks (steps of 1, 2 or 5 × 10^k) from 0 to at least `high`, which they end on or past.
    static func linearTicks(upTo high: Double) -> [Double] {
        guard high > 0 else { return [0, 1] }
        let rough = high / 5
        let magnitude = pow(10, (Foundation.log10(rough)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        let count = Int((high / step).rounded(.up))
        return (0...max(count, 1)).map { Double($0) * step }
    }
}

/// One plotting area of a chart: its pixel rectangle and scales.
struct ChartPanel {
    let left: Double, top: Double, width: Double, height: Double
    let x: ChartScale, y: ChartScale

    init(
        left: Double, top: Double, width: Double, height: Double, x: (ChartScale.Kind, Double, Double),
        y: (Double, Double)
    ) {
        self.left = left
        self.top = top
        self.width = width
        self.height = height
        self.x = ChartScale(kind: x.0, domain: (x.1, x.2), range: (left, left + width))
        self.y = ChartScale(kind: .linear, domain: y, range: (top + height, top))
    }

    /// The pixel position of a data point.
    func point(_ x: Double, _ y: Double) -> (x: Double, y: Double) { (self.x.map(x), self.y.map(y)) }

    /// Draws the frame, the ticks with their labels and grid lines, and both axis titles.
    func drawAxes(
        _ svg: inout SVGDocument, xTicks: [(Double, String)], yTicks: [(Double, String)], xTitle: String,
        yTitle: String
    ) {
        let n = SVGDocument.number
        svg.open([("class", "axes")])
        for (value, label) in xTicks {
            let px = x.map(value)
            svg.add(
                "line", [("x1", n(px)), ("y1", n(top)), ("x2", n(px)), ("y2", n(top + height)), ("stroke", "#e0e0e0")])
            svg.add(
                "text",
                [("class", "tick-label"), ("x", n(px)), ("y", n(top + height + 16)), ("text-anchor", "middle")],
                text: label)
        }
        for (value, label) in yTicks {
            let py = y.map(value)
            svg.add(
                "line", [("x1", n(left)), ("y1", n(py)), ("x2", n(left + width)), ("y2", n(py)), ("stroke", "#e0e0e0")])
            svg.add(
                "text", [("class", "tick-label"), ("x", n(left - 6)), ("y", n(py + 4)), ("text-anchor", "end")],
                text: label)
        }
        svg.add(
            "rect",
            [
                ("class", "plot-area"), ("x", n(left)), ("y", n(top)), ("width", n(width)), ("height", n(height)),
                ("fill", "none"), ("stroke", "#333"),
            ])
        svg.add(
            "text",
            [
                ("class", "axis-title"), ("x", n(left + width / 2)), ("y", n(top + height + 36)),
                ("text-anchor", "middle"),
            ],
            text: xTitle)
        let yTitleX = n(left - 48), yTitleY = n(top + height / 2)
        svg.add(
            "text",
            [
                ("class", "axis-title"), ("x", yTitleX), ("y", yTitleY), ("text-anchor", "middle"),
                ("transform", "rotate(-90 \(yTitleX) \(yTitleY))"),
            ], text: yTitle)
        svg.close()
    }

    /// Shades `[start, end]` on the x axis: a spike window or a fault.
    func shade(_ svg: inout SVGDocument, from start: Double, to end: Double, as window: ChartWindow) {
        let n = SVGDocument.number
        let x0 = x.map(start), x1 = x.map(end)
        svg.add(
            "rect",
            [
                ("class", window.cssClass), ("x", n(x0)), ("y", n(top)), ("width", n(max(x1 - x0, 0))),
                ("height", n(height)), ("fill", window.color), ("fill-opacity", n(window.opacity)),
            ])
    }
}

/// The kinds of time window a chart shades, each in its own color.
enum ChartWindow {
    /// The workload's spike, from the run's summary.
    case spike
    /// A fault of the mesh (`mesh_event`), from its start to its end.
    case fault

    var cssClass: String { self == .spike ? "spike-window" : "fault-window" }
    var color: String { self == .spike ? "#f4a261" : "#6c757d" }
    var opacity: Double { self == .spike ? 0.25 : 0.2 }
}

/// Legends and the fixed palette.
enum ChartLegend {
    /// Colors by policy position (matplotlib's tab10), so a policy keeps its color across charts.
    static let palette = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ]

    static func color(_ index: Int) -> String { palette[index % palette.count] }

    /// How a legend entry shows its series.
    enum Mark {
        /// A thin line, as a policy's or a replica's.
        case line
        /// A thick line, as a group's mean.
        case thick
        /// A dashed line, as a group's worst replica.
        case dashed
        /// A translucent box, as a band or a shaded window.
        case box(opacity: Double)
    }

    /// One entry: its label (a line break starts a second line), color and mark, and the policy it stands for.
    typealias Entry = (label: String, color: String, policy: String?, mark: Mark)

    /// Draws the entries top to bottom from (`left`, `top`): a swatch and the label.
    static func draw(_ svg: inout SVGDocument, entries: [Entry], left: Double, top: Double) {
        let n = SVGDocument.number
        svg.open([("class", "legend")])
        var y = top
        for entry in entries {
            var attributes = [("class", "legend-entry")]
            if let policy = entry.policy { attributes.append(("data-policy", policy)) }
            svg.open(attributes)
            let line = [("x1", n(left)), ("y1", n(y)), ("x2", n(left + 20)), ("y2", n(y)), ("stroke", entry.color)]
            switch entry.mark {
            case .line: svg.add("line", line + [("stroke-width", "2")])
            case .thick: svg.add("line", line + [("stroke-width", "3")])
            case .dashed: svg.add("line", line + [("stroke-width", "1.5"), ("stroke-dasharray", "5 3")])
            case .box(let opacity):
                svg.add(
                    "rect",
                    [
                        ("x", n(left)), ("y", n(y - 6)), ("width", "20"), ("height", "12"), ("fill", entry.color),
                        ("fill-opacity", n(opacity)),
                    ])
            }
            for text in entry.label.split(separator: "\n") {
                svg.add("text", [("x", n(left + 26)), ("y", n(y + 4))], text: String(text))
                y += 15
            }
            y += 3
            svg.close()
        }
        svg.close()
    }
}
