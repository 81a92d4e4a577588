/// Sample mean and central moments, accumulated in one pass (Welford) to avoid cancellation.
public struct Moments {
    /// Values added.
    public private(set) var count = 0
    /// Their mean.
    public private(set) var mean = 0.0
    private var m2 = 0.0
    private var samples: [Double] = []

    /// No values yet, with room for `n`.
    public init(reserving n: Int) { samples.reserveCapacity(n) }

    /// The moments of `values`.
    public init(_ values: [Double]) {
        self.init(reserving: values.count)
        for value in values { add(value) }
    }

    /// Adds one value.
    public mutating func add(_ x: Double) {
        count += 1
        let delta = x - mean
        mean += delta / Double(count)
        m2 += delta * (x - mean)
        samples.append(x)
    }

    /// Unbiased sample variance.
    public var variance: Double { count > 1 ? m2 / Double(count - 1) : 0 }

    /// Standard error of the mean.
    public var standardError: Double { (variance / Double(count)).squareRoot() }

    /// Fourth central moment about the sample mean (second pass over the stored samples).
    public var fourthCentralMoment: Double {
        var sum = 0.0
        for x in samples {
            let d = x - mean
            sum += d * d * d * d
        }
        return sum / Double(count)
    }
}

/// Mean and standard error of the mean over replications.
public func meanAndStandardError(_ values: [Double]) -> (mean: Double, standardError: Double) {
    let moments = Moments(values)
    return (moments.mean, moments.standardError)
}
