import CGSL
import SimKernel

/// Descriptive and inferential statistics, computed with GSL.
public enum Statistics {
    /// The arithmetic mean; NaN for no values.
    public static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? .nan : values.withUnsafeBufferPointer { gsl_stats_mean($0.baseAddress, 1, $0.count) }
    }

    /// The unbiased sample variance; NaN for fewer than two values.
    public static func variance(_ values: [Double]) -> Double {
        values.count < 2 ? .nan : values.withUnsafeBufferPointer { gsl_stats_variance($0.baseAddress, 1, $0.count) }
    }

    /// The `p`-quantile (0...1) of ascending `sorted` values, interpolating linearly between order statistics
    /// (GSL's method, the same as numpy's default `linear`). NaN for no values.
    public static func quantile(sorted: [Double], _ p: Double) -> Double {
        sorted.isEmpty
            ? .nan
            : sorted.withUnsafeBufferPointer {
                gsl_stats_quantile_from_sorted_data($0.baseAddress, 1, $0.count, p)
            }
    }

    /// The Student t quantile with `degreesOfFreedom`, e.g. `studentT(0.975, 19)` ≈ 2.093.
    public static func studentT(_ p: Double, degreesOfFreedom: Int) -> Double {
        GSL.configure()
        return gsl_cdf_tdist_Pinv(p, Double(degreesOfFreedom))
    }

    /// A two-sided confidence interval for the mean of independent values (replications or batch means).
    public static func confidenceInterval(_ values: [Double], level: Double = 0.95) -> ConfidenceInterval {
        let m = mean(values)
        guard values.count >= 2 else { return ConfidenceInterval(mean: m, halfWidth: .nan, count: values.count) }
        let t = studentT(1 - (1 - level) / 2, degreesOfFreedom: values.count - 1)
        let half = t * (variance(values) / Double(values.count)).squareRoot()
        return ConfidenceInterval(mean: m, halfWidth: half, count: values.count)
    }

    /// The interval over the defined values of `values`, one per replication: a replication where the metric
    /// is undefined (NaN: say, nothing completed) is left out, and `count` says how many were used. `compare`
    /// and `export` both summarize replications this way.
    public static func confidenceInterval(ofDefined values: [Double], level: Double = 0.95) -> ConfidenceInterval {
        confidenceInterval(values.filter { !$0.isNaN }, level: level)
    }

    /// Welch's two-sample t-test at `level`: whether the means of `a` and `b` differ significantly. Nil when
    /// either has fewer than two values, or both have no spread.
    public static func welchDiffers(_ a: [Double], _ b: [Double], level: Double = 0.95) -> Bool? {
        guard a.count >= 2, b.count >= 2 else { return nil }
        let va = variance(a) / Double(a.count), vb = variance(b) / Double(b.count)
        let se = (va + vb).squareRoot()
        guard se > 0 else { return mean(a) != mean(b) ? true : nil }
        // Welch–Satterthwaite degrees of freedom.
        let df =
            (va + vb) * (va + vb)
            / (va * va / Double(a.count - 1) + vb * vb / Double(b.count - 1))
        GSL.configure()
        let t = gsl_cdf_tdist_Pinv(1 - (1 - level) / 2, df)
        return abs(mean(a) - mean(b)) / se > t
    }

    /// The means of `batches` consecutive equal batches (a trailing remainder is dropped).
    public static func batchMeans(_ values: [Double], batches: Int) -> [Double] {
        precondition(batches > 0)
        let size = values.count / batches
        guard size > 0 else { return [] }
        return (0..<batches).map { b in mean(Array(values[(b * size)..<((b + 1) * size)])) }
    }
}

/// A mean with the half-width of its confidence interval.
public struct ConfidenceInterval: Sendable, Equatable, CustomStringConvertible {
    public var mean: Double
    /// Half the interval's width; NaN with fewer than two values.
    public var halfWidth: Double
    /// Values it was computed from.
    public var count: Int

    public var lower: Double { mean - halfWidth }
    public var upper: Double { mean + halfWidth }
    /// Half-width relative to the mean.
    public var relativeHalfWidth: Double { halfWidth / abs(mean) }

    /// Whether `value` lies in the interval.
    public func contains(_ value: Double) -> Bool { value >= lower && value <= upper }

    public var description: String { "\(mean) ± \(halfWidth) (n=\(count))" }
}
