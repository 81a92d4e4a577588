public import Fleet
import Histogram

/// The distribution of one latency over a run, in bounded memory however many requests it sees.
///
/// Percentiles come from an HdrHistogram with three significant digits: exact below 2 µs, within 0.1%
/// above (the histogram's value for a percentile is the top of its bucket, clamped to the largest value
/// seen). The count, the mean and the maximum are exact. It holds no memory until its first value.
public struct LatencySketch: Sendable {
    private var histogram: Histogram<UInt32>?
    public private(set) var count = 0
    private var sumMilliseconds = 0.0
    private var maxNanoseconds: Int64 = 0

    public init() {}

    /// A sketch of `times`.
    public init(_ times: some Sequence<SimTime>) { for time in times { record(time) } }

    public mutating func record(_ latency: SimTime) {
        let ns = Swift.max(0, latency.nanoseconds)
        if histogram == nil {
            var fresh = Histogram<UInt32>(
                lowestDiscernibleValue: 1, highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three
            )
            fresh.autoResize = true
            histogram = fresh
        }
        _ = histogram!.record(UInt64(ns))
        count += 1
        sumMilliseconds += SimTime(nanoseconds: ns).milliseconds
        maxNanoseconds = Swift.max(maxNanoseconds, ns)
    }

    /// The mean in milliseconds; NaN without values.
    public var meanMilliseconds: Double { count == 0 ? .nan : sumMilliseconds / Double(count) }
    /// The largest value in milliseconds; NaN without values.
    public var maxMilliseconds: Double { count == 0 ? .nan : SimTime(nanoseconds: maxNanoseconds).milliseconds }

    /// The `p`-quantile (0...1) in milliseconds; NaN without values.
    public func quantileMilliseconds(_ p: Double) -> Double {
        guard let histogram, count > 0 else { return .nan }
        let value = Swift.min(Int64(clamping: histogram.valueAtPercentile(p * 100)), maxNanoseconds)
        return SimTime(nanoseconds: value).milliseconds
    }
}
