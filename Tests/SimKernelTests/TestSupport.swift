import SimKernel

/// A minimal event for toy models: its payload is its digest code.
struct Tick: DigestibleEvent, Equatable, Sendable {
    var code: UInt64
    /// When the model meant it to fire (lets handlers check `now` against the schedule).
    var due: SimTime = .zero
    var digestCode: UInt64 { code }
}

/// Sample mean and central moments, accumulated in one pass (Welford) to avoid cancellation.
struct Moments {
    private(set) var count = 0
    private(set) var mean = 0.0
    private var m2 = 0.0
    private var samples: [Double] = []

    init(reserving n: Int) { samples.reserveCapacity(n) }

    mutating func add(_ x: Double) {
        count += 1
        let delta = x - mean
        mean += delta / Double(count)
        m2 += delta * (x - mean)
        samples.append(x)
    }

    /// Unbiased sample variance.
    var variance: Double { count > 1 ? m2 / Double(count - 1) : 0 }

    /// Fourth central moment about the sample mean (second pass over the stored samples).
    var fourthCentralMoment: Double {
        var sum = 0.0
        for x in samples { let d = x - mean; sum += d * d * d * d }
        return sum / Double(count)
    }
}
