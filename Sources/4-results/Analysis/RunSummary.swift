public import Fleet

/// A run's summary metrics, in a fixed order, under stable names (see docs/metrics.md).
public struct RunSummary: Sendable, Equatable {
    /// `(name, value)` pairs in the order they are stored and printed.
    public private(set) var metrics: [(name: String, value: Double)] = []

    public init() {}

    /// A summary read back from storage, in its stored order.
    public init(metrics: [(name: String, value: Double)]) { self.metrics = metrics }

    /// The value of `name`, if present.
    public subscript(name: String) -> Double? { metrics.first { $0.name == name }?.value }

    mutating func append(_ name: String, _ value: Double) { metrics.append((name, value)) }

    public static func == (a: Self, b: Self) -> Bool {
        a.metrics.count == b.metrics.count
            && zip(a.metrics, b.metrics).allSatisfy { $0.name == $1.name && $0.value.bitPattern == $1.value.bitPattern }
    }

    /// The percentiles reported for each latency, with their metric suffixes.
    public static let percentiles: [(suffix: String, p: Double)] = [
        ("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p999", 0.999),
    ]

    /// Computes the summary of `output` over its measurement window [warmup, horizon), from the requests and
    /// samples it kept. A run that does not keep them is summarized by a ``SummaryAccumulator`` sink instead.
    public static func of(_ output: RunOutput) -> RunSummary {
        let accumulator = SummaryAccumulator(spec: output.spec)
        accumulator.replay(output)
        return accumulator.summary(of: output)
    }

    /// Whether a completed request met every objective that is set.
    static func meets(_ slo: SLO, _ record: RequestRecord) -> Bool {
        if let target = slo.e2e, let e2e = record.e2e, e2e > target { return false }
        if let target = slo.ttft, let ttft = record.ttft, ttft > target { return false }
        if let target = slo.tpot, let tpot = record.tpot, tpot > target { return false }
        return true
    }

    /// Appends `name_mean`, the percentiles and `name_max` of `sketch`, in milliseconds.
    mutating func appendLatency(_ name: String, _ sketch: LatencySketch) {
        append("\(name)_mean", sketch.meanMilliseconds)
        for (suffix, p) in Self.percentiles { append("\(name)_\(suffix)", sketch.quantileMilliseconds(p)) }
        append("\(name)_max", sketch.maxMilliseconds)
    }
}
