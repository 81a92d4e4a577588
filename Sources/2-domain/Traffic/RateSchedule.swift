import Foundation

/// A workload's arrival rate as a function of time, in requests per second: piecewise constant, linear or
/// sinusoidal, defined on [0, ∞).
///
/// Arrivals follow a schedule by a time change: the process runs in *operational time* u = Λ(t), where
/// Λ(t) = ∫₀ᵗ rate(s) ds, at unit mean rate, and each operational arrival u is mapped back to t = Λ⁻¹(u). For
/// Poisson arrivals this is exactly the non-homogeneous Poisson process with intensity `rate(t)`. Λ⁻¹ is
/// analytic on constant and linear pieces and a safeguarded Newton iteration (to well under a nanosecond) on a
/// sinusoid.
public struct RateSchedule: Sendable, Equatable, CustomStringConvertible {
    /// The law of the rate on one piece of the schedule.
    public enum Shape: Sendable, Equatable {
        /// A constant rate.
        case constant(ratePerSecond: Double)
        /// A rate moving linearly from `from` at the piece's start to `to` at its end (the next piece's start).
        case linear(from: Double, to: Double)
        /// `mean × (1 + amplitude × cos(2π (t − peakAt) / period))`, t in seconds from time 0.
        case sinusoid(mean: Double, amplitude: Double, periodSeconds: Double, peakAtSeconds: Double)
    }

    /// One piece: its law from `startSeconds` until the next piece's start (the last piece goes on forever).
    public struct Piece: Sendable, Equatable {
        public var startSeconds: Double
        public var shape: Shape

        public init(startSeconds: Double, shape: Shape) {
            self.startSeconds = startSeconds
            self.shape = shape
        }
    }

    /// The pieces, by increasing start; the first starts at 0.
    public let pieces: [Piece]
    /// Λ at each piece's start.
    private let cumulativeAtStart: [Double]
    /// Λ(∞): finite when the rate is zero from some time on.
    public let totalCumulative: Double

    /// A schedule of `pieces`. Preconditions: non-empty, starting at 0, strictly increasing starts, rates ≥ 0,
    /// linear pieces not last (they need an end), a sinusoid only as the single piece.
    public init(pieces: [Piece]) {
        precondition(!pieces.isEmpty && pieces[0].startSeconds == 0, "a schedule starts at time 0")
        for index in pieces.indices.dropFirst() {
            precondition(pieces[index].startSeconds > pieces[index - 1].startSeconds, "piece starts must increase")
        }
        if case .linear = pieces.last!.shape { preconditionFailure("a linear piece needs an end") }
        self.pieces = pieces
        var cumulative: [Double] = [0]
        for index in pieces.indices.dropFirst() {
            let length = pieces[index].startSeconds - pieces[index - 1].startSeconds
            cumulative.append(cumulative[index - 1] + Self.integral(pieces, index - 1, over: length))
        }
        self.cumulativeAtStart = cumulative
        switch pieces.last!.shape {
        case .constant(let rate) where rate == 0: self.totalCumulative = cumulative.last!
        default: self.totalCumulative = .infinity
        }
    }

    // MARK: - The forms of the scenario format

    /// A constant rate.
    public static func constant(_ ratePerSecond: Double) -> RateSchedule {
        RateSchedule(pieces: [Piece(startSeconds: 0, shape: .constant(ratePerSecond: ratePerSecond))])
    }

    /// `base` until the first step, then each step's rate from its time on. Steps at strictly increasing times.
    public static func steps(base: Double, _ steps: [(at: SimTime, ratePerSecond: Double)]) -> RateSchedule {
        var pieces: [Piece] = []
        if steps.first.map({ $0.at > .zero }) ?? true {
            pieces.append(Piece(startSeconds: 0, shape: .constant(ratePerSecond: base)))
        }
        for step in steps {
            pieces.append(Piece(startSeconds: step.at.seconds, shape: .constant(ratePerSecond: step.ratePerSecond)))
        }
        return RateSchedule(pieces: pieces)
    }

    /// `base` until `start`, then linear from `from` to `to` until `end`, then `to`.
    public static func ramp(base: Double, from: Double, to: Double, start: SimTime, end: SimTime) -> RateSchedule {
        precondition(end > start)
        var pieces: [Piece] = []
        if start > .zero { pieces.append(Piece(startSeconds: 0, shape: .constant(ratePerSecond: base))) }
        pieces.append(Piece(startSeconds: start.seconds, shape: .linear(from: from, to: to)))
        pieces.append(Piece(startSeconds: end.seconds, shape: .constant(ratePerSecond: to)))
        return RateSchedule(pieces: pieces)
    }

    /// `base × (1 + amplitude × cos(2π (t − peakAt) / period))`: a daily cycle peaking at `peakAt` (mod period).
    public static func diurnal(base: Double, period: SimTime, amplitude: Double, peakAt: SimTime) -> RateSchedule {
        precondition(period > .zero && amplitude >= 0 && amplitude <= 1)
        return RateSchedule(pieces: [
            Piece(
                startSeconds: 0,
                shape: .sinusoid(
                    mean: base, amplitude: amplitude, periodSeconds: period.seconds, peakAtSeconds: peakAt.seconds))
        ])
    }

    /// `base` until `start`; linear up to `peak × base` over `rampUp`; held for `hold`; linear back to `base`
    /// over `decay`; then `base`. Zero-length phases are skipped.
    public static func spike(
        base: Double, start: SimTime, rampUp: SimTime, peak: Double, hold: SimTime, decay: SimTime
    ) -> RateSchedule {
        let top = peak * base
        var pieces: [Piece] = []
        var at = start
        if start > .zero { pieces.append(Piece(startSeconds: 0, shape: .constant(ratePerSecond: base))) }
        if rampUp > .zero {
            pieces.append(Piece(startSeconds: at.seconds, shape: .linear(from: base, to: top)))
            at += rampUp
        }
        if hold > .zero {
            pieces.append(Piece(startSeconds: at.seconds, shape: .constant(ratePerSecond: top)))
            at += hold
        }
        if decay > .zero {
            pieces.append(Piece(startSeconds: at.seconds, shape: .linear(from: top, to: base)))
            at += decay
        }
        if pieces.last?.startSeconds == at.seconds { pieces.removeLast() }
        pieces.append(Piece(startSeconds: at.seconds, shape: .constant(ratePerSecond: base)))
        return RateSchedule(pieces: pieces)
    }

    // MARK: - Rate and cumulative rate

    /// The rate at `time`, requests per second (for reports).
    public func rate(at time: SimTime) -> Double { rate(atSeconds: time.seconds) }

    /// The rate at `t` seconds.
    public func rate(atSeconds t: Double) -> Double {
        let index = pieceIndex(atSeconds: t)
        let piece = pieces[index]
        switch piece.shape {
        case .constant(let rate): return rate
        case .linear(let a, let b):
            let length = pieces[index + 1].startSeconds - piece.startSeconds
            return a + (b - a) * (t - piece.startSeconds) / length
        case .sinusoid(let mean, let amplitude, let period, let peakAt):
            return mean * (1 + amplitude * cos(2 * Double.pi * (t - peakAt) / period))
        }
    }

    /// Λ(t) = ∫₀ᵗ rate: the expected number of Poisson arrivals in [0, t).
    public func cumulative(atSeconds t: Double) -> Double {
        guard t > 0 else { return 0 }
        let index = pieceIndex(atSeconds: t)
        return cumulativeAtStart[index] + Self.integral(pieces, index, over: t - pieces[index].startSeconds)
    }

    /// Λ⁻¹(u) = inf{t : Λ(t) ≥ u}, in seconds; nil when u ≥ Λ(∞) (the rate is zero from some time on and u is
    /// never reached). Zero-rate stretches are stepped over.
    public func inverseCumulative(_ u: Double) -> Double? {
        guard u > 0 else { return 0 }
        guard u < totalCumulative else { return nil }
        // The piece whose cumulative range [Λ(start), Λ(next start)) holds u: the last with Λ(start) < u,
        // which is never a piece of zero rate (its range is empty).
        var low = 0, high = pieces.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if cumulativeAtStart[mid] < u { low = mid } else { high = mid - 1 }
        }
        let piece = pieces[low]
        let w = u - cumulativeAtStart[low]
        let end = low + 1 < pieces.count ? pieces[low + 1].startSeconds : Double.infinity
        let t: Double
        switch piece.shape {
        case .constant(let rate):
            t = piece.startSeconds + w / rate
        case .linear(let a, let b):
            // a x + k x² / 2 = w with k = (b − a) / L; the root in the form without cancellation.
            let k = (b - a) / (end - piece.startSeconds)
            let discriminant = Swift.max(0, a * a + 2 * k * w)
            t = piece.startSeconds + 2 * w / (a + discriminant.squareRoot())
        case .sinusoid:
            t = solveSinusoid(low, work: w)
        }
        return Swift.min(Swift.max(t, piece.startSeconds), end)
    }

    /// The piece holding `t` (the last whose start is ≤ t).
    private func pieceIndex(atSeconds t: Double) -> Int {
        var low = 0, high = pieces.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if pieces[mid].startSeconds <= t { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// ∫ of piece `index`'s rate over [start, start + length].
    private static func integral(_ pieces: [Piece], _ index: Int, over length: Double) -> Double {
        let start = pieces[index].startSeconds
        switch pieces[index].shape {
        case .constant(let rate): return rate * length
        case .linear(let a, let b):
            let k = (b - a) / (pieces[index + 1].startSeconds - start)
            return (a + k * length / 2) * length
        case .sinusoid(let mean, let amplitude, let period, let peakAt):
            let omega = 2 * Double.pi / period
            return mean
                * (length + amplitude / omega * (sin(omega * (start + length - peakAt)) - sin(omega * (start - peakAt))))
        }
    }

    /// The root of ∫_start^t rate = w on a sinusoid, by Newton's method kept inside a shrinking bracket
    /// (bisection when a Newton step would leave it), to a bracket under 0.1 ns.
    private func solveSinusoid(_ index: Int, work w: Double) -> Double {
        let start = pieces[index].startSeconds
        guard case .sinusoid(let mean, let amplitude, let period, _) = pieces[index].shape else { return start }
        let omega = 2 * Double.pi / period
        // |∫ − mean × length| ≤ 2 mean amplitude / ω, so the root lies within that slack of w / mean.
        let slack = 2 * amplitude / omega + 1e-9
        var low = Swift.max(start, start + w / mean - slack), high = start + w / mean + slack
        func f(_ t: Double) -> Double { Self.integral(pieces, index, over: t - start) - w }
        var t = start + w / mean
        for _ in 0..<200 {
            let value = f(t)
            if value == 0 { return t }
            if value < 0 { low = t } else { high = t }
            let slope = rate(atSeconds: t)
            var next = slope > 0 ? t - value / slope : .nan
            if !(next > low && next < high) { next = (low + high) / 2 }
            if abs(next - t) <= 1e-10 || high - low <= 1e-10 { return next }
            t = next
        }
        return t
    }

    public var description: String {
        pieces.map { piece in
            let at = SimTime.seconds(piece.startSeconds)
            switch piece.shape {
            case .constant(let rate): return "\(at): \(rate)/s"
            case .linear(let a, let b): return "\(at): \(a)/s → \(b)/s"
            case .sinusoid(let mean, let amplitude, let period, let peakAt):
                return "\(at): \(mean)/s × (1 + \(amplitude) cos(2π(t − \(peakAt)s)/\(period)s))"
            }
        }.joined(separator: "; ")
    }
}
