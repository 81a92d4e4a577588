import Analysis

/// A replica gauge the time-series charts draw.
enum GaugeMetric: CaseIterable {
    case waiting, kvCache

    func value(_ gauge: ReplicaGauges.Gauge) -> Double? { self == .waiting ? gauge.waiting : gauge.kvCache }
}

/// How a chart draws one group of one run's replicas: a line each, or above ``individualLineLimit`` the
/// group's mean, its p10–p90 band and its worst replica. Every line breaks where a replica was not provisioned.
enum ReplicaSeries {
    /// The most replicas a group draws as a line each: beyond it, lines of one color merge into a smear.
    static let individualLineLimit = 8
    /// The band's quantiles. p10–p90 rather than min–max, so that a single replica does not make an edge: the
    /// worst replica is drawn on its own.
    static let bandQuantiles = (low: 0.1, high: 0.9)
    /// The band's opacity: light enough that the mean and the other policies' lines show through.
    static let bandOpacity = 0.2
    /// Points a line keeps at most; a longer one keeps every k-th sample (and each stretch's last).
    static let maxPointsPerLine = 1500

    typealias Point = (t: Double, value: Double)

    /// One replica's line: its stretches of samples, apart where it was not provisioned.
    struct Line {
        var replica: ReplicaGauges.Replica
        var segments: [[Point]]
    }

    /// A group too large for a line each.
    struct Summary {
        var replicas: Int
        /// The mean over the replicas provisioned at each time; a gap where none was.
        var mean: [[Point]]
        /// The p10 and p90 over the same replicas.
        var band: [[(t: Double, low: Double, high: Double)]]
        /// The replica whose waiting requests peak highest (the lowest index among equals), with that peak;
        /// nil when no replica of the group has a sample.
        var worst: (line: Line, peak: Double)?
    }

    enum Drawing {
        case lines([Line])
        case summary(Summary)
    }

    /// How to draw `metric` of the replicas `members` (rows of `gauges.replicas`).
    static func drawing(_ gauges: ReplicaGauges, members: [Int], metric: GaugeMetric) -> Drawing {
        let line = { (row: Int) in
            Line(
                replica: gauges.replicas[row],
                segments: segments(gauges.times, gauges.gauges[row].map { $0.flatMap(metric.value) }))
        }
        guard members.count > individualLineLimit else { return .lines(members.map(line)) }
        var mean: [Double?] = [], band: [(low: Double, high: Double)?] = []
        for index in gauges.times.indices {
            let values = members.compactMap { gauges.gauges[$0][index].flatMap(metric.value) }.sorted()
            mean.append(values.isEmpty ? nil : Statistics.mean(values))
            band.append(
                values.isEmpty
                    ? nil
                    : (
                        Statistics.quantile(sorted: values, bandQuantiles.low),
                        Statistics.quantile(sorted: values, bandQuantiles.high)
                    ))
        }
        return .summary(
            Summary(
                replicas: members.count, mean: segments(gauges.times, mean),
                band: stretches(band).map { $0.map { (gauges.times[$0.index], $0.value.low, $0.value.high) } },
                worst: worst(gauges, members: members).map { (line($0.row), $0.peak) }))
    }

    /// The row among `members` whose waiting requests peak highest, and the peak; the first among equals.
    static func worst(_ gauges: ReplicaGauges, members: [Int]) -> (row: Int, peak: Double)? {
        var best: (row: Int, peak: Double)?
        for row in members {
            guard let peak = gauges.gauges[row].compactMap({ $0?.waiting }).max() else { continue }
            if best.map({ peak > $0.peak }) ?? true { best = (row, peak) }
        }
        return best
    }

    /// The stretches of defined `values` as points at `times`, thinned to ``maxPointsPerLine`` over the whole.
    static func segments(_ times: [Double], _ values: [Double?]) -> [[Point]] {
        stretches(values).map { $0.map { (times[$0.index], $0.value) } }
    }

    /// The runs of consecutive non-nil `values` with their indices. When there are more than
    /// ``maxPointsPerLine`` values, each run keeps every k-th of its values and its last, so a thinned line
    /// still ends where the replica stopped.
    static func stretches<Value>(_ values: [Value?]) -> [[(index: Int, value: Value)]] {
        let stride = max(1, (values.count + maxPointsPerLine - 1) / maxPointsPerLine)
        var result: [[(index: Int, value: Value)]] = [], current: [(index: Int, value: Value)] = []
        func finish() {
            guard !current.isEmpty else { return }
            result.append(
                current.enumerated().filter { $0.offset % stride == 0 || $0.offset == current.count - 1 }.map(\.element)
            )
            current = []
        }
        for (index, value) in values.enumerated() {
            if let value {
                current.append((index, value))
            } else {
                finish()
            }
        }
        finish()
        return result
    }
}
