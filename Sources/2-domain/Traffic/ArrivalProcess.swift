@_exported public import InferenceModel

/// How a workload's requests arrive in time: a renewal process with the stated gap law, or a Markov-modulated
/// Poisson process.
public enum ArrivalProcess: Sendable, Equatable {
    /// Exponential gaps: a Poisson process.
    case poisson
    /// Gamma-distributed gaps with the given coefficient of variation (CV > 1 is burstier than Poisson).
    case gamma(cv: Double)
    /// Weibull-distributed gaps with the given coefficient of variation.
    case weibull(cv: Double)
    /// Equal gaps of exactly 1/rate.
    case deterministic
    /// A Markov-modulated Poisson process: see ``Modulation``. Arrivals are Poisson at the current state's rate.
    case mmpp(Modulation)

    /// An on/off process: on and off periods with exponential lengths of the given means (seconds); Poisson
    /// arrivals while on, at rate × (on + off) / on, none while off. The two-state MMPP `[(1, on), (0, off)]`.
    public static func onOff(onSeconds: Double, offSeconds: Double) -> ArrivalProcess {
        .mmpp(
            Modulation(
                states: [.init(multiplier: 1, meanSeconds: onSeconds), .init(multiplier: 0, meanSeconds: offSeconds)],
                isOnOff: true))
    }

    /// The hidden states of an MMPP, visited in order 0, 1, …, n−1, 0, …; state i lasts an exponential time of
    /// mean `meanSeconds` and has Poisson arrivals at `rate × multiplier × normalization`.
    ///
    /// The normalization is the one factor that makes the time-weighted mean multiplier 1,
    /// `Σ dᵢ / Σ mᵢ dᵢ`, so the workload's `rate` is the long-run mean rate (multipliers that already average 1
    /// are used as written). The process starts in its stationary law (state i with probability dᵢ / Σ d, for
    /// an exponential time of mean dᵢ), so the expected count in any window of length w is rate × w.
    public struct Modulation: Sendable, Equatable {
        /// One state: its relative rate and the mean of its exponential sojourn.
        public struct State: Sendable, Equatable {
            public var multiplier: Double
            public var meanSeconds: Double

            public init(multiplier: Double, meanSeconds: Double) {
                self.multiplier = multiplier
                self.meanSeconds = meanSeconds
            }
        }

        public var states: [State]
        /// Written as `on-off` (for its name only; the law is that of the states).
        public var isOnOff: Bool

        /// States with multipliers ≥ 0, at least one > 0, and mean sojourns > 0.
        public init(states: [State], isOnOff: Bool = false) {
            self.states = states
            self.isOnOff = isOnOff
        }

        /// Each state's rate as a multiple of the workload's long-run mean rate (the normalized multipliers).
        public var normalizedMultipliers: [Double] {
            let time = states.reduce(0) { $0 + $1.meanSeconds }
            let weighted = states.reduce(0) { $0 + $1.multiplier * $1.meanSeconds }
            return states.map { $0.multiplier * time / weighted }
        }

        /// The long-run share of time in each state, dᵢ / Σ d.
        public var timeShares: [Double] {
            let time = states.reduce(0) { $0 + $1.meanSeconds }
            return states.map { $0.meanSeconds / time }
        }
    }

    /// Every arrival process, by the name scenarios write it under: the one list that `infermesh list
    /// arrival-processes`, the scenario reader and its key lists take their names from.
    public enum Kind: String, Sendable, CaseIterable {
        case poisson
        case gamma
        case weibull
        case deterministic
        case onOff = "on-off"
        case mmpp
    }

    /// The process's kind in the registry.
    public var kind: Kind {
        switch self {
        case .poisson: return .poisson
        case .gamma: return .gamma
        case .weibull: return .weibull
        case .deterministic: return .deterministic
        case .mmpp(let modulation): return modulation.isOnOff ? .onOff : .mmpp
        }
    }

    /// The process's registry name, as written in scenarios.
    public var name: String { kind.rawValue }

    /// Every process's name, in registry order, for errors and documentation.
    public static let names = Kind.allCases.map(\.rawValue)

    /// The gap distribution, in seconds, for a mean rate of `ratePerSecond`; nil for the modulated processes,
    /// whose gaps are not independent.
    public func gapSeconds(ratePerSecond: Double) -> Distribution? {
        let mean = 1 / ratePerSecond
        switch self {
        case .poisson: return .exponential(mean: mean)
        case .gamma(let cv): return .gamma(mean: mean, cv: cv)
        case .weibull(let cv): return .weibull(mean: mean, cv: cv)
        case .deterministic: return .constant(mean)
        case .mmpp: return nil
        }
    }
}
