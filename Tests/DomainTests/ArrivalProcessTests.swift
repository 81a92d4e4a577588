import CGSL
import Fleet
import Foundation
import TestSupport
import Testing

/// Arrival times (seconds) of `spec` in [0, horizon), with the MMPP state of each arrival when modulated.
func arrivalTimes(_ spec: WorkloadSpec, seed: UInt64, horizon: SimTime) -> (times: [Double], states: [Int]) {
    let generator = WorkloadGenerator(spec: spec, streams: RandomStreams(runSeed: seed), horizon: horizon)
    var now = SimTime.zero, times: [Double] = [], states: [Int] = []
    while true {
        let gap = generator.nextGap(at: now)
        guard gap != .max, now + gap < horizon else { break }
        now = now + gap
        times.append(now.seconds)
        if let state = generator.modulationState { states.append(state) }
    }
    return (times, states)
}

/// Pearson's chi-square statistic of `observed` counts against `expected` counts, cells pooled from the right
/// until each expected count is at least 5 (the usual validity rule), and its upper-tail p-value.
func chiSquare(observed: [Double], expected: [Double]) -> (statistic: Double, degrees: Int, p: Double) {
    var cells: [(Double, Double)] = []
    var pending = (0.0, 0.0)
    for (o, e) in zip(observed, expected) {
        pending = (pending.0 + o, pending.1 + e)
        if pending.1 >= 5 {
            cells.append(pending)
            pending = (0, 0)
        }
    }
    if pending.1 > 0, !cells.isEmpty { cells[cells.count - 1] = (cells.last!.0 + pending.0, cells.last!.1 + pending.1) }
    let statistic = cells.reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) / $1.1 }
    let degrees = cells.count - 1
    return (statistic, degrees, gsl_cdf_chisq_Q(statistic, Double(degrees)))
}

/// The arrival processes against their laws. Each statistical check uses fixed seeds, so results are exact and
/// repeatable; the tolerances are what a correct generator passes with high probability (stated per test).
@Suite struct ArrivalProcessTests {
    /// Poisson counts in 1 s windows at 10/s follow Poisson(10): Pearson's chi-square over 4,000 windows, cells
    /// pooled to expected >= 5. A correct generator fails a seed with probability 0.001 (p < 0.001). Both the
    /// constant-rate path and the time-change path (a one-step schedule) are checked.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func poissonWindowCountsFitThePoissonLaw(seed: UInt64) {
        for scheduled in [false, true] {
            var spec = WorkloadSpec(name: "p", ratePerSecond: 10, pool: "p")
            if scheduled { spec.schedule = .steps(base: 10, [(at: .zero, ratePerSecond: 10)]) }
            let windows = 4_000
            let times = arrivalTimes(spec, seed: seed, horizon: .seconds(Int64(windows))).times
            var perWindow = Array(repeating: 0, count: windows)
            for t in times { perWindow[Int(t)] += 1 }
            let top = 40
            var observed = Array(repeating: 0.0, count: top + 1)
            for count in perWindow { observed[Swift.min(count, top)] += 1 }
            let expected = (0...top).map { k in
                Double(windows)
                    * (k == top ? gsl_cdf_poisson_Q(UInt32(top - 1), 10) : gsl_ran_poisson_pdf(UInt32(k), 10))
            }
            let test = chiSquare(observed: observed, expected: expected)
            #expect(test.p > 0.001, "scheduled \(scheduled): chi-square \(test.statistic) on \(test.degrees) dof")
        }
    }

    /// Renewal processes: mean rate and gap CV over 100,000 gaps. The mean gap's standard error is cv/(rate √n), and
    /// we allow 4 of them. The sample CV's relative standard error is about ½ √((κ + 2) / n) for excess kurtosis κ
    /// of the gap law (gamma: 6/k; Weibull cv 0.5: 0.3); we allow 4 of them plus 0.2% for the estimator's bias.
    @Test(arguments: [
        (ArrivalProcess.poisson, 1.0, 6.0), (.gamma(cv: 2), 2.0, 6.0 * 4), (.weibull(cv: 0.5), 0.5, 0.3),
        (.deterministic, 0.0, 0.0),
    ])
    func renewalGapsHaveTheirMeanAndCV(process: ArrivalProcess, cv: Double, kurtosis: Double) {
        for seed: UInt64 in [11, 12, 13] {
            let spec = WorkloadSpec(name: "r", ratePerSecond: 20, arrival: process, pool: "p")
            let generator = WorkloadGenerator(spec: spec, streams: RandomStreams(runSeed: seed))
            let n = 100_000
            let gaps = (0..<n).map { _ in generator.nextGap().seconds }
            let mean = gaps.reduce(0, +) / Double(n)
            let sd = (gaps.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)).squareRoot()
            let meanTolerance = 4 * Swift.max(cv, 1e-9) / (20 * Double(n).squareRoot()) + 1e-9
            #expect(abs(mean - 1.0 / 20) <= meanTolerance, "\(process) seed \(seed): mean gap \(mean)")
            let cvTolerance = 4 * 0.5 * ((kurtosis + 2) / Double(n)).squareRoot() * cv + 0.002 * cv + 1e-6
            #expect(abs(sd / mean - cv) <= cvTolerance, "\(process) seed \(seed): cv \(sd / mean)")
        }
    }

    /// The on/off process with on = 2 s, off = 8 s, rate 10/s: Poisson at 50/s while on, nothing while off.
    static let onOff = ArrivalProcess.onOff(onSeconds: 2, offSeconds: 8)

    /// Its long-run rate over 20 seeds × 5,000 s is 10/s, every arrival is in the on state, and the gap CV is the
    /// interrupted Poisson process's (its gaps are i.i.d. hyperexponential): E[T] = (α+β)/(λβ) and E[T²] from the
    /// first-step equations below. Tolerance: 4 standard errors estimated from the spread over the 20 seeds.
    @Test func onOffHasItsLongRunRateAndGapCV() {
        let spec = WorkloadSpec(name: "bursty", ratePerSecond: 10, arrival: Self.onOff, pool: "p")
        var rates: [Double] = [], cvs: [Double] = []
        for seed: UInt64 in 1...20 {
            let (times, states) = arrivalTimes(spec, seed: seed, horizon: .seconds(5_000))
            rates.append(Double(times.count) / 5_000)
            #expect(states.allSatisfy { $0 == 0 }, "an arrival in the off state")
            let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
            let mean = gaps.reduce(0, +) / Double(gaps.count)
            let sd = (gaps.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(gaps.count - 1)).squareRoot()
            cvs.append(sd / mean)
        }
        // λ = 50 while on, α = 1/2 (on → off), β = 1/8 (off → on).
        let lambda = 50.0, alpha = 0.5, beta = 0.125
        let meanOn = (alpha + beta) / (lambda * beta), meanOff = 1 / beta + meanOn
        let p = alpha / (lambda + alpha)
        let secondOn =
            (2 / ((lambda + alpha) * (lambda + alpha)) + 2 * p * meanOff / (lambda + alpha)
                + p * (2 / (beta * beta) + 2 * meanOn / beta)) / (1 - p)
        let theoreticalCV = (secondOn / (meanOn * meanOn) - 1).squareRoot()
        let rate = meanAndStandardError(rates), cv = meanAndStandardError(cvs)
        #expect(abs(rate.mean - 10) <= 4 * rate.standardError, "rate \(rate)")
        #expect(abs(cv.mean - theoreticalCV) <= 4 * cv.standardError, "cv \(cv) vs \(theoreticalCV)")
        #expect(abs(1 / meanOn - 10) < 1e-12)
    }

    /// A three-state MMPP cycling 3x for 5 s, 0.5x for 20 s, 0x for 5 s (time-weighted mean (15 + 10) / 30, so
    /// normalized by 30/25): the long-run rate is `rate`, and the share of arrivals in state i is mᵢdᵢ / Σ mⱼdⱼ
    /// (0.6, 0.4, 0). Tolerance: 4 standard errors from the spread over 20 seeds × 3,000 s.
    @Test func mmppHasItsLongRunRateAndStateShares() {
        let modulation = ArrivalProcess.Modulation(states: [
            .init(multiplier: 3, meanSeconds: 5), .init(multiplier: 0.5, meanSeconds: 20),
            .init(multiplier: 0, meanSeconds: 5),
        ])
        let normalization: Double = 30.0 / 25.0
        let normalized: [Double] = [3 * normalization, 0.5 * normalization, 0]
        #expect(zip(modulation.normalizedMultipliers, normalized).allSatisfy { abs($0 - $1) < 1e-12 })
        let spec = WorkloadSpec(name: "m", ratePerSecond: 8, arrival: .mmpp(modulation), pool: "p")
        var rates: [Double] = [], shares: [Double] = []
        for seed: UInt64 in 1...20 {
            let (times, states) = arrivalTimes(spec, seed: seed, horizon: .seconds(3_000))
            rates.append(Double(times.count) / 3_000)
            shares.append(Double(states.filter { $0 == 0 }.count) / Double(states.count))
            #expect(!states.contains(2))
        }
        let rate = meanAndStandardError(rates), share = meanAndStandardError(shares)
        #expect(abs(rate.mean - 8) <= 4 * rate.standardError, "rate \(rate)")
        #expect(abs(share.mean - 0.6) <= 4 * share.standardError, "share in state 0 \(share)")
    }

    /// Started in its stationary law, the on/off process offers rate × w arrivals in expectation in any window,
    /// even the first: over 2,000 seeds the mean count in [0, 1 s) is 10 within 4 standard errors (a start in the
    /// on state would give about 45).
    @Test func modulationStartsStationary() {
        let spec = WorkloadSpec(name: "bursty", ratePerSecond: 10, arrival: Self.onOff, pool: "p")
        let counts = (1...2_000).map { seed in
            Double(arrivalTimes(spec, seed: UInt64(seed), horizon: .seconds(1)).times.count)
        }
        let count = meanAndStandardError(counts)
        #expect(abs(count.mean - 10) <= 4 * count.standardError, "\(count)")
    }

    /// Zipf prefix groups: 100,000 choices among 20 groups with s = 1.1 fit k^−s / Σ j^−s (chi-square, p > 0.001);
    /// without `zipf` the choice is the old uniform draw, value for value.
    @Test(arguments: [7, 8] as [UInt64])
    func zipfGroupsFollowTheirPopularity(seed: UInt64) {
        var spec = WorkloadSpec(name: "docs", ratePerSecond: 1, pool: "p")
        spec.prefixGroups = .init(count: 20, tokens: 100, zipf: 1.1)
        let generator = WorkloadGenerator(spec: spec, streams: RandomStreams(runSeed: seed))
        let base = StableHash.fnv1a("workload/docs/prefix-group")
        let keys = (0..<20).map { base ^ StableHash.mix(UInt64($0)) }
        var observed = Array(repeating: 0.0, count: 20)
        for _ in 0..<100_000 {
            guard case .keyed(let key) = generator.nextRequest().prefix?.content, let group = keys.firstIndex(of: key)
            else {
                Issue.record("a request without a group prefix")
                return
            }
            observed[group] += 1
        }
        let test = chiSquare(observed: observed, expected: spec.prefixGroups!.probabilities.map { $0 * 100_000 })
        #expect(test.p > 0.001, "chi-square \(test.statistic) on \(test.degrees) dof")
        #expect(observed[0] > observed[1] && observed[1] > observed[19])

        spec.prefixGroups = .init(count: 20, tokens: 100)
        let uniform = WorkloadGenerator(spec: spec, streams: RandomStreams(runSeed: seed))
        let reference = RandomStreams(runSeed: seed).stream("traffic/docs/prefix-groups")
        for _ in 0..<1_000 {
            let expectedKey = keys[reference.integer(below: 20)]
            #expect(uniform.nextRequest().prefix?.content == .keyed(expectedKey))
        }
    }

    /// Workloads without the new keys draw exactly as before: one draw of the gap law per arrival from
    /// `traffic/<name>/arrivals`, and no modulation stream.
    @Test func plainWorkloadsKeepTheirDraws() {
        for process in [ArrivalProcess.poisson, .gamma(cv: 3), .deterministic] {
            let streams = RandomStreams(runSeed: 99)
            let generator = WorkloadGenerator(
                spec: WorkloadSpec(name: "w", ratePerSecond: 4, arrival: process, pool: "p"), streams: streams)
            let reference = RandomStreams(runSeed: 99).stream("traffic/w/arrivals")
            let law = process.gapSeconds(ratePerSecond: 4)!
            for _ in 0..<1_000 { #expect(generator.nextGap() == SimTime.seconds(reference.sample(law))) }
            #expect(!streams.names.contains("traffic/w/modulation"))
        }
    }
}
