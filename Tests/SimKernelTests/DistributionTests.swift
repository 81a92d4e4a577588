import Foundation
import SimKernel
import TestSupport
import Testing

/// One distribution to sample, with its support.
struct DistributionCase: Sendable, CustomTestStringConvertible {
    let name: String
    let distribution: Distribution
    /// Whether to test the sample variance (needs a finite fourth moment for the tolerance to mean anything).
    var checkVariance = true
    let inSupport: @Sendable (Double) -> Bool
    var testDescription: String { name }
}

private let positive: @Sendable (Double) -> Bool = { $0 > 0 && $0.isFinite }

let distributionCases: [DistributionCase] = [
    .init(name: "exponential(mean: 2.5)", distribution: .exponential(mean: 2.5), inSupport: { $0 >= 0 && $0.isFinite }),
    .init(name: "gamma(shape: 2.5, scale: 0.4)", distribution: .gamma(shape: 2.5, scale: 0.4), inSupport: positive),
    .init(
        name: "gamma(mean: 3, cv: 1.4)", distribution: .gamma(mean: 3, cv: 1.4), inSupport: { $0 >= 0 && $0.isFinite }),
    .init(name: "lognormal(mu: 0.3, sigma: 0.5)", distribution: .lognormal(mu: 0.3, sigma: 0.5), inSupport: positive),
    .init(name: "lognormal(mean: 2, cv: 0.8)", distribution: .lognormal(mean: 2, cv: 0.8), inSupport: positive),
    .init(
        name: "weibull(scale: 1.5, shape: 2)", distribution: .weibull(scale: 1.5, shape: 2),
        inSupport: { $0 >= 0 && $0.isFinite }),
    .init(
        name: "weibull(mean: 2, cv: 1.5)", distribution: .weibull(mean: 2, cv: 1.5),
        inSupport: { $0 >= 0 && $0.isFinite }),
    .init(
        name: "weibull(mean: 1, cv: 0.3)", distribution: .weibull(mean: 1, cv: 0.3),
        inSupport: { $0 >= 0 && $0.isFinite }),
    .init(
        name: "pareto(shape: 5.5, scale: 1.2)", distribution: .pareto(shape: 5.5, scale: 1.2),
        inSupport: { $0 >= 1.2 && $0.isFinite }),
    // Shape 3: finite variance (so the mean's standard error exists) but infinite fourth moment: mean only.
    .init(
        name: "pareto(shape: 3, scale: 1)", distribution: .pareto(shape: 3, scale: 1), checkVariance: false,
        inSupport: { $0 >= 1 && $0.isFinite }),
    .init(
        name: "truncatedNormal(1, 2, [0, 3])", distribution: .truncatedNormal(mean: 1, sd: 2, lower: 0, upper: 3),
        inSupport: { $0 >= 0 && $0 <= 3 }),
    .init(
        name: "truncatedNormal(0, 1, [0, inf))",
        distribution: .truncatedNormal(mean: 0, sd: 1, lower: 0, upper: .infinity),
        inSupport: { $0 >= 0 && $0.isFinite }),
    .init(
        name: "truncatedNormal(10, 3, (-inf, 8])",
        distribution: .truncatedNormal(mean: 10, sd: 3, lower: -.infinity, upper: 8),
        inSupport: { $0 <= 8 && $0.isFinite }),
    .init(
        name: "truncatedNormal(0, 1, [-10, -9])", distribution: .truncatedNormal(mean: 0, sd: 1, lower: -10, upper: -9),
        inSupport: { $0 >= -10 && $0 <= -9 }),
    .init(name: "uniform(-2, 5)", distribution: .uniform(lower: -2, upper: 5), inSupport: { $0 >= -2 && $0 < 5 }),
    .init(name: "poisson(mean: 3.7)", distribution: .poisson(mean: 3.7), inSupport: { $0 >= 0 && $0 == $0.rounded() }),
    .init(name: "poisson(mean: 250)", distribution: .poisson(mean: 250), inSupport: { $0 >= 0 && $0 == $0.rounded() }),
    .init(name: "constant(4.2)", distribution: .constant(4.2), inSupport: { $0 == 4.2 }),
    .init(
        name: "empirical([1, 2, 5, 10] weighted 1:2:3:4)",
        distribution: .empirical(EmpiricalTable(values: [1, 2, 5, 10], weights: [1, 2, 3, 4])!),
        inSupport: { [1, 2, 5, 10].contains($0) }),
]

@Suite("Distribution")
struct DistributionTests {
    /// Samples 200,000 values with a fixed seed and compares them with the analytic `mean` and `variance`.
    ///
    /// Mean: tolerance 5 standard errors, 5·sqrt(variance/n) with the analytic variance. A correct sampler
    /// fails this with probability ~6e-7 for a given seed; the seed is fixed, so the outcome is reproducible.
    /// Variance: tolerance 6 standard errors of the sample variance, sqrt((m4 − s⁴)/n), with m4 the sample
    /// fourth central moment. Looser than the mean's, because that standard error is itself estimated and
    /// the sample variance of skewed distributions converges slowly.
    @Test(
        "sample mean and variance match the analytic values; samples stay in the support",
        arguments: distributionCases)
    func momentsAndSupport(_ c: DistributionCase) {
        let n = 200_000
        let stream = RandomStream(name: "test/distribution/\(c.name)", runSeed: 2024)
        var moments = Moments(reserving: n)
        var outside = 0
        for _ in 0..<n {
            let x = stream.sample(c.distribution)
            if !c.inSupport(x) { outside += 1 }
            moments.add(x)
        }
        #expect(outside == 0, "\(outside) samples outside the support")

        let mean = c.distribution.mean, variance = c.distribution.variance
        #expect(mean.isFinite && variance.isFinite && variance >= 0)
        let meanTolerance = 5 * (variance / Double(n)).squareRoot()
        #expect(
            abs(moments.mean - mean) <= meanTolerance + 1e-12 * abs(mean),
            "sample mean \(moments.mean), analytic \(mean), tolerance \(meanTolerance)")

        guard c.checkVariance else { return }
        let s2 = moments.variance
        let varianceSE = ((moments.fourthCentralMoment - s2 * s2) / Double(n)).squareRoot()
        #expect(
            abs(s2 - variance) <= 6 * varianceSE + 1e-12 * variance,
            "sample variance \(s2), analytic \(variance), tolerance \(6 * varianceSE)")
    }

    @Test("same stream name and seed give the same samples")
    func samplingIsReproducible() {
        let d = Distribution.lognormal(mean: 3, cv: 1.2)
        let a = RandomStream(name: "d", runSeed: 1), b = RandomStream(name: "d", runSeed: 1)
        #expect((0..<1_000).map { _ in a.sample(d) } == (0..<1_000).map { _ in b.sample(d) })
    }

    static let meanCVPairs: [(Double, Double)] = [(1, 1), (2.5, 0.5), (0.1, 2), (10, 0.2), (3, 4), (1e-3, 0.05)]

    @Test("gamma(mean:cv:) has the requested mean and CV", arguments: meanCVPairs)
    func gammaMeanCV(mean: Double, cv: Double) {
        let d = Distribution.gamma(mean: mean, cv: cv)
        #expect(abs(d.mean / mean - 1) < 1e-6)
        #expect(abs(d.variance.squareRoot() / d.mean / cv - 1) < 1e-6)
    }

    @Test("weibull(mean:cv:) has the requested mean and CV", arguments: meanCVPairs)
    func weibullMeanCV(mean: Double, cv: Double) {
        let d = Distribution.weibull(mean: mean, cv: cv)
        #expect(abs(d.mean / mean - 1) < 1e-6)
        #expect(abs(d.variance.squareRoot() / d.mean / cv - 1) < 1e-6)
    }

    @Test("lognormal(mean:cv:) has the requested mean and CV", arguments: meanCVPairs)
    func lognormalMeanCV(mean: Double, cv: Double) {
        let d = Distribution.lognormal(mean: mean, cv: cv)
        #expect(abs(d.mean / mean - 1) < 1e-6)
        #expect(abs(d.variance.squareRoot() / d.mean / cv - 1) < 1e-6)
    }

    @Test("weibull(mean:cv:) with CV 1 is the exponential (shape 1)")
    func weibullCV1IsExponential() {
        guard case .weibull(let scale, let shape) = Distribution.weibull(mean: 2, cv: 1) else {
            Issue.record("not a weibull")
            return
        }
        #expect(abs(shape - 1) < 1e-9)
        #expect(abs(scale - 2) < 1e-9)
    }

    @Test("analytic moments against closed forms")
    func closedForms() {
        let halfNormal = Distribution.truncatedNormal(mean: 0, sd: 1, lower: 0, upper: .infinity)
        #expect(abs(halfNormal.mean - (2 / Double.pi).squareRoot()) < 1e-12)
        #expect(abs(halfNormal.variance - (1 - 2 / Double.pi)) < 1e-12)
        // Symmetric truncation leaves the mean in place.
        #expect(abs(Distribution.truncatedNormal(mean: 5, sd: 2, lower: 3, upper: 7).mean - 5) < 1e-12)
        // Truncation at ±infinity is the plain normal.
        let full = Distribution.truncatedNormal(mean: -1, sd: 3, lower: -.infinity, upper: .infinity)
        #expect(abs(full.mean + 1) < 1e-12 && abs(full.variance - 9) < 1e-12)
        #expect(Distribution.uniform(lower: 2, upper: 8).mean == 5)
        #expect(Distribution.uniform(lower: 2, upper: 8).variance == 3)
        #expect(Distribution.exponential(mean: 3).variance == 9)
        #expect(Distribution.poisson(mean: 7).variance == 7)
        #expect(Distribution.constant(2).variance == 0)
        // Weibull shape 2, scale 1 (Rayleigh): mean sqrt(pi)/2, variance 1 - pi/4.
        #expect(abs(Distribution.weibull(scale: 1, shape: 2).mean - Double.pi.squareRoot() / 2) < 1e-12)
        #expect(abs(Distribution.weibull(scale: 1, shape: 2).variance - (1 - Double.pi / 4)) < 1e-12)
        // Pareto: mean infinite for shape <= 1, variance infinite for shape <= 2.
        #expect(Distribution.pareto(shape: 1, scale: 1).mean == .infinity)
        #expect(Distribution.pareto(shape: 2, scale: 1).mean == 2)
        #expect(Distribution.pareto(shape: 2, scale: 1).variance == .infinity)
        #expect(abs(Distribution.pareto(shape: 3, scale: 2).variance - 3) < 1e-12)
        // Lognormal: mean exp(mu + sigma²/2).
        #expect(abs(Distribution.lognormal(mu: 1, sigma: 0.5).mean - exp(1.125)) < 1e-12)
    }

    @Test("a constant always returns its value")
    func constantIsConstant() {
        let stream = RandomStream(name: "c", runSeed: 1)
        #expect((0..<100).allSatisfy { _ in stream.sample(.constant(-3.5)) == -3.5 })
    }

    @Test("description names the case")
    func descriptions() {
        #expect(Distribution.exponential(mean: 2).description == "exponential(mean: 2.0)")
        #expect(Distribution.uniform(lower: 0, upper: 1).description == "uniform(0.0, 1.0)")
        #expect(Distribution.empirical(EmpiricalTable(values: [1, 2, 3])!).description == "empirical(3 values)")
    }

    /// The sampler computes Φ(α) and Φ(β) and inverts between them. Far in the right tail both round to 1.0
    /// (Φ(9) = 1 − 1.1e-19), so every draw is Pinv(1) = +inf clamped to `upper`, and `mean` divides by
    /// Φ(β) − Φ(α) = 0. The mirror-image left tail, [−10, −9], is exact (tested above).
    /// Reference values from Python with erfc: mean 9.108456, variance 0.011449.
    @Test("truncated normal far in the right tail")
    func truncatedNormalRightTail() {
        let d = Distribution.truncatedNormal(mean: 0, sd: 1, lower: 9, upper: 10)
        #expect(abs(d.mean - 9.108456288) < 1e-6)
        #expect(abs(d.variance - 0.0114488058) < 1e-6)
        let stream = RandomStream(name: "tail", runSeed: 1)
        let n = 20_000
        var sum = 0.0
        for _ in 0..<n { sum += stream.sample(d) }
        // 5 standard errors: 5 · sqrt(0.011449 / 20,000) ≈ 0.0038.
        #expect(abs(sum / Double(n) - 9.108456) < 0.0038)
        // The damage starts earlier: at [8, 9] the analytic mean already falls below the lower bound.
        let eight = Distribution.truncatedNormal(mean: 0, sd: 1, lower: 8, upper: 9)
        #expect(eight.mean >= 8 && eight.mean <= 9)
    }
}
