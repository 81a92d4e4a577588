public import Histogram

/// A replica's inter-token latencies over the measurement window: every output token after a request's first,
/// each counted once.
///
/// Percentiles come from an HdrHistogram with three significant digits (values within 0.1% above 1 ms, and
/// within 512 ns below it), so memory stays bounded (about 64 KB) however long the run; the count, the mean
/// and the maximum are exact.
public struct InterTokenLatencyStats: Sendable, Equatable {
    public private(set) var histogram: Histogram<UInt32>
    /// Tokens recorded.
    public private(set) var tokens: Int64 = 0
    /// Σ latency over tokens, ns: the mean is exact.
    public private(set) var totalNanoseconds: Int64 = 0
    /// The longest latency, ns (0 when empty).
    public private(set) var maxNanoseconds: Int64 = 0

    public init() {
        // Nanoseconds, resolved to 1 µs at the bottom; grows past 10 s if a run needs it.
        histogram = Histogram(
            lowestDiscernibleValue: 1_000, highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three
        )
        histogram.autoResize = true
    }

    /// Records `tokens` tokens that each waited `latency` ns.
    public mutating func record(latency: Int64, tokens count: Int) {
        precondition(latency >= 0 && count > 0)
        histogram.record(UInt64(latency), count: UInt32(count))
        tokens += Int64(count)
        totalNanoseconds += latency * Int64(count)
        maxNanoseconds = max(maxNanoseconds, latency)
    }

    /// Adds another replica's latencies (for the fleet-wide distribution).
    public mutating func merge(_ other: Self) {
        histogram.add(other.histogram)
        tokens += other.tokens
        totalNanoseconds += other.totalNanoseconds
        maxNanoseconds = max(maxNanoseconds, other.maxNanoseconds)
    }

    /// The mean latency in ns; NaN when empty.
    public var meanNanoseconds: Double { tokens == 0 ? .nan : Double(totalNanoseconds) / Double(tokens) }

    /// The latency at or below which a fraction `p` (0...1) of tokens fall, ns, to the histogram's precision;
    /// NaN when empty. The maximum is exact.
    public func quantileNanoseconds(_ p: Double) -> Double {
        guard tokens > 0 else { return .nan }
        if p >= 1 { return Double(maxNanoseconds) }
        return Double(min(histogram.valueAtPercentile(p * 100), UInt64(maxNanoseconds)))
    }

    /// `(value, tokens)` for every distinct recorded value (its bucket's highest equivalent value), ascending.
    public var recordedValues: [(nanoseconds: UInt64, tokens: UInt64)] {
        histogram.recordedValues().map { ($0.value, UInt64($0.count)) }
    }
}
