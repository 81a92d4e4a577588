@_exported public import InferenceModel

/// How a workload's requests arrive in time. Each case is a renewal process with the stated gap law.
public enum ArrivalProcess: Sendable, Equatable {
    /// Exponential gaps: a Poisson process.
    case poisson
    /// Gamma-distributed gaps with the given coefficient of variation (CV > 1 is burstier than Poisson).
    case gamma(cv: Double)
    /// Weibull-distributed gaps with the given coefficient of variation.
    case weibull(cv: Double)
    /// Equal gaps of exactly 1/rate.
    case deterministic

    /// The process's registry name, as written in scenarios.
    public var name: String {
        switch self {
        case .poisson: return "poisson"
        case .gamma: return "gamma"
        case .weibull: return "weibull"
        case .deterministic: return "deterministic"
        }
    }

    /// Every process's name, for errors and documentation.
    public static let names = ["poisson", "gamma", "weibull", "deterministic"]

    /// The gap distribution, in seconds, for a mean rate of `ratePerSecond`.
    public func gapSeconds(ratePerSecond: Double) -> Distribution {
        let mean = 1 / ratePerSecond
        switch self {
        case .poisson: return .exponential(mean: mean)
        case .gamma(let cv): return .gamma(mean: mean, cv: cv)
        case .weibull(let cv): return .weibull(mean: mean, cv: cv)
        case .deterministic: return .constant(mean)
        }
    }
}
