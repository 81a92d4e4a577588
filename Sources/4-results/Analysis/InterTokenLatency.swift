public import Fleet

/// The token-weighted inter-token latency distribution of a run, from the replicas' iteration samples.
///
/// Every output token after a request's first has one inter-token latency; a GPU replica reports them
/// grouped per engine iteration (`InterTokenLatencySample`). The measurement window is by token time:
/// samples whose iteration ended in [warmup, horizon).
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
    /// replica, then bound.
    public static func histogram(_ output: RunOutput) -> [(replica: Int, leNs: Int64, tokens: Int64)] {
        var rows: [(replica: Int, leNs: Int64, tokens: Int64)] = []
        for (replica, samples) in output.interTokenLatencies.enumerated() {
            var counts = Array(repeating: Int64(0), count: bucketBounds.count)
            for sample in samples where inWindow(sample, output) {
                counts[bucket(of: sample.latency.nanoseconds)] += Int64(sample.tokens)
            }
            for (index, count) in counts.enumerated() where count > 0 {
                rows.append((replica, bucketBounds[index], count))
            }
        }
        return rows
    }

    /// Latencies in ms with their token counts, over the window and all replicas, ascending.
    public static func measured(_ output: RunOutput) -> (milliseconds: [Double], tokens: [Int]) {
        var pairs: [(latency: Int64, tokens: Int)] = []
        for samples in output.interTokenLatencies {
            for sample in samples where inWindow(sample, output) {
                pairs.append((sample.latency.nanoseconds, sample.tokens))
            }
        }
        // Ties in latency are merged, so the order of equal keys cannot matter.
        pairs.sort { $0.latency < $1.latency }
        var milliseconds: [Double] = []
        var tokens: [Int] = []
        for pair in pairs {
            if let last = milliseconds.last, last == SimTime(nanoseconds: pair.latency).milliseconds {
                tokens[tokens.count - 1] += pair.tokens
            } else {
                milliseconds.append(SimTime(nanoseconds: pair.latency).milliseconds)
                tokens.append(pair.tokens)
            }
        }
        return (milliseconds, tokens)
    }

    private static func inWindow(_ sample: InterTokenLatencySample, _ output: RunOutput) -> Bool {
        sample.time >= output.spec.warmup && sample.time < output.spec.horizon
    }
}
