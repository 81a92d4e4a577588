public import Fleet

/// The token-weighted inter-token latency distribution of a run, from the replicas' statistics.
///
/// Every output token after a request's first has one inter-token latency. The measurement window is by
/// token time: tokens produced in [warmup, horizon).
public enum InterTokenLatency {
    /// Histogram bucket upper bounds in ns, inclusive: 20 per decade from 1 µs to 1,000 s, then overflow.
    /// Fine enough (12% apart) to draw a CDF; the summary's percentiles are computed exactly, not from it.
    public static let bucketBounds: [Int64] = {
        var bounds: [Int64] = []
        var decade: Int64 = 1_000
        for _ in 0..<9 {
            for step in 0..<20 {
                bounds.append(Int64((Double(decade) * Self.stepFactors[step]).rounded()))
            }
            decade *= 10
        }
        bounds.append(decade)
        bounds.append(.max)
        return bounds
    }()

    /// 10^(k/20) for k in 0..<20, written out so bounds do not depend on a platform's `pow`.
    private static let stepFactors: [Double] = [
        1.0, 1.122018454, 1.258925412, 1.412537545, 1.584893192, 1.778279410, 1.995262315, 2.238721139,
        2.511886432, 2.818382931, 3.162277660, 3.548133892, 3.981071706, 4.466835922, 5.011872336,
        5.623413252, 6.309573445, 7.079457844, 7.943282347, 8.912509381,
    ]

    /// The index of the bucket holding `latency` ns.
    public static func bucket(of latency: Int64) -> Int {
        var low = 0, high = bucketBounds.count - 1
        while low < high {
            let mid = (low + high) / 2
            if bucketBounds[mid] < latency { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Non-empty buckets per replica over the window: `(replica, upper bound ns, tokens)`, ordered by
    /// replica, then bound. Each HdrHistogram value (its bucket's highest equivalent) goes to the coarse bucket
    /// that holds it.
    public static func histogram(_ output: RunOutput) -> [(replica: Int, leNs: Int64, tokens: Int64)] {
        var rows: [(replica: Int, leNs: Int64, tokens: Int64)] = []
        for (replica, stats) in output.interTokenLatencies.enumerated() {
            guard let stats else { continue }
            var counts = Array(repeating: Int64(0), count: bucketBounds.count)
            for (value, tokens) in stats.recordedValues {
                counts[bucket(of: Int64(clamping: value))] += Int64(tokens)
            }
            for (index, count) in counts.enumerated() where count > 0 {
                rows.append((replica, bucketBounds[index], count))
            }
        }
        return rows
    }

    /// The whole fleet's inter-token latencies over the window; nil when no replica times tokens.
    public static func fleet(_ output: RunOutput) -> InterTokenLatencyStats? {
        var merged: InterTokenLatencyStats?
        for case let stats? in output.interTokenLatencies {
            if merged == nil { merged = stats } else { merged!.merge(stats) }
        }
        return merged
    }
}
