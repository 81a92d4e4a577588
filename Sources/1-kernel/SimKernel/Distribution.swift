public import CGSL
import Foundation

/// A probability distribution over real numbers, sampled with GSL.
///
/// Parameters are in the caller's unit (seconds, tokens, ...). Each case states its distribution exactly;
/// nothing is clipped unless the case says so (``truncatedNormal``).
public enum Distribution: Sendable, Equatable, CustomStringConvertible {
    /// Always `value`.
    case constant(Double)
    /// Exponential with the given mean.
    case exponential(mean: Double)
    /// Gamma with shape k and scale θ (mean kθ).
    case gamma(shape: Double, scale: Double)
    /// Lognormal: `exp(N(mu, sigma²))`.
    case lognormal(mu: Double, sigma: Double)
    /// Weibull with scale λ and shape k (mean λΓ(1+1/k)).
    case weibull(scale: Double, shape: Double)
    /// Pareto (type I) with shape α and minimum `scale`.
    case pareto(shape: Double, scale: Double)
    /// Normal `N(mean, sd²)` conditioned on [lower, upper], sampled by inverse CDF (exact, no rejection loop).
    case truncatedNormal(mean: Double, sd: Double, lower: Double, upper: Double)
    /// Uniform on [lower, upper).
    case uniform(lower: Double, upper: Double)
    /// Poisson with the given mean (integer values).
    case poisson(mean: Double)
    /// A finite set of values with weights (normalized on creation).
    case empirical(EmpiricalTable)

    /// Gamma with the given mean and coefficient of variation (shape 1/cv²).
    public static func gamma(mean: Double, cv: Double) -> Distribution {
        let shape = 1 / (cv * cv)
        return .gamma(shape: shape, scale: mean / shape)
    }

    /// Lognormal with the given mean and coefficient of variation.
    public static func lognormal(mean: Double, cv: Double) -> Distribution {
        let sigma2 = log1p(cv * cv)
        return .lognormal(mu: log(mean) - sigma2 / 2, sigma: sigma2.squareRoot())
    }

    /// Weibull with the given mean and coefficient of variation (shape found by bisection on the CV).
    public static func weibull(mean: Double, cv: Double) -> Distribution {
        GSL.configure()
        func cvOf(_ k: Double) -> Double {
            let g1 = gsl_sf_lngamma(1 + 1 / k), g2 = gsl_sf_lngamma(1 + 2 / k)
            return (exp(g2 - 2 * g1) - 1).squareRoot()
        }
        // CV decreases monotonically in k: ~ 1e13 at k=0.02, ~0.012 at k=100.
        var low = 0.02, high = 100.0
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if cvOf(mid) > cv { low = mid } else { high = mid }
        }
        let shape = (low + high) / 2
        return .weibull(scale: mean / exp(gsl_sf_lngamma(1 + 1 / shape)), shape: shape)
    }

    /// The mean, when finite.
    public var mean: Double {
        GSL.configure()
        switch self {
        case .constant(let v): return v
        case .exponential(let m): return m
        case .gamma(let k, let theta): return k * theta
        case .lognormal(let mu, let sigma): return exp(mu + sigma * sigma / 2)
        case .weibull(let lambda, let k): return lambda * exp(gsl_sf_lngamma(1 + 1 / k))
        case .pareto(let alpha, let xm): return alpha > 1 ? alpha * xm / (alpha - 1) : .infinity
        case .truncatedNormal(let mu, let sd, let a, let b):
            let alpha = (a - mu) / sd, beta = (b - mu) / sd
            let z = Distribution.normalMass(alpha, beta)
            return mu + sd * (gsl_ran_ugaussian_pdf(alpha) - gsl_ran_ugaussian_pdf(beta)) / z
        case .uniform(let a, let b): return (a + b) / 2
        case .poisson(let m): return m
        case .empirical(let table): return table.mean
        }
    }

    /// Standard normal mass on [alpha, beta], from the tail that keeps precision.
    @usableFromInline static func normalMass(_ alpha: Double, _ beta: Double) -> Double {
        alpha > 0
            ? gsl_cdf_ugaussian_Q(alpha) - gsl_cdf_ugaussian_Q(beta)
            : gsl_cdf_ugaussian_P(beta) - gsl_cdf_ugaussian_P(alpha)
    }

    /// The variance, when finite.
    public var variance: Double {
        GSL.configure()
        switch self {
        case .constant: return 0
        case .exponential(let m): return m * m
        case .gamma(let k, let theta): return k * theta * theta
        case .lognormal(let mu, let sigma): return (exp(sigma * sigma) - 1) * exp(2 * mu + sigma * sigma)
        case .weibull(let lambda, let k):
            let g1 = exp(gsl_sf_lngamma(1 + 1 / k)), g2 = exp(gsl_sf_lngamma(1 + 2 / k))
            return lambda * lambda * (g2 - g1 * g1)
        case .pareto(let alpha, let xm):
            return alpha > 2 ? xm * xm * alpha / ((alpha - 1) * (alpha - 1) * (alpha - 2)) : .infinity
        case .truncatedNormal(let mu, let sd, let a, let b):
            let alpha = (a - mu) / sd, beta = (b - mu) / sd
            let z = Distribution.normalMass(alpha, beta)
            let pa = gsl_ran_ugaussian_pdf(alpha), pb = gsl_ran_ugaussian_pdf(beta)
            let ta = alpha.isFinite ? alpha * pa : 0, tb = beta.isFinite ? beta * pb : 0
            let shift = (pa - pb) / z
            return sd * sd * (1 + (ta - tb) / z - shift * shift)
        case .uniform(let a, let b): return (b - a) * (b - a) / 12
        case .poisson(let m): return m
        case .empirical(let table): return table.variance
        }
    }

    /// Draws one value using `generator`.
    @inlinable func sample(_ generator: UnsafeMutablePointer<gsl_rng>) -> Double {
        switch self {
        case .constant(let v): return v
        case .exponential(let m): return gsl_ran_exponential(generator, m)
        case .gamma(let k, let theta): return gsl_ran_gamma(generator, k, theta)
        case .lognormal(let mu, let sigma): return gsl_ran_lognormal(generator, mu, sigma)
        case .weibull(let lambda, let k): return gsl_ran_weibull(generator, lambda, k)
        case .pareto(let alpha, let xm): return gsl_ran_pareto(generator, alpha, xm)
        case .truncatedNormal(let mu, let sd, let a, let b) where a > mu:
            // Right of the mean Φ rounds to 1 (Φ(9) = 1 − 1e-19); invert the upper tail Q = 1 − Φ instead.
            let alpha = (a - mu) / sd, beta = (b - mu) / sd
            let qa = gsl_cdf_ugaussian_Q(alpha), qb = gsl_cdf_ugaussian_Q(beta)
            let u = qb + (qa - qb) * gsl_rng_uniform_pos(generator)
            return Swift.min(Swift.max(mu + sd * gsl_cdf_ugaussian_Qinv(u), a), b)
        case .truncatedNormal(let mu, let sd, let a, let b):
            let pa = gsl_cdf_ugaussian_P((a - mu) / sd), pb = gsl_cdf_ugaussian_P((b - mu) / sd)
            let u = pa + (pb - pa) * gsl_rng_uniform_pos(generator)
            return Swift.min(Swift.max(mu + sd * gsl_cdf_ugaussian_Pinv(u), a), b)
        case .uniform(let a, let b): return gsl_ran_flat(generator, a, b)
        case .poisson(let m): return Double(gsl_ran_poisson(generator, m))
        case .empirical(let table): return table.sample(generator)
        }
    }

    public var description: String {
        switch self {
        case .constant(let v): return "constant(\(v))"
        case .exponential(let m): return "exponential(mean: \(m))"
        case .gamma(let k, let theta): return "gamma(shape: \(k), scale: \(theta))"
        case .lognormal(let mu, let sigma): return "lognormal(mu: \(mu), sigma: \(sigma))"
        case .weibull(let lambda, let k): return "weibull(scale: \(lambda), shape: \(k))"
        case .pareto(let alpha, let xm): return "pareto(shape: \(alpha), scale: \(xm))"
        case .truncatedNormal(let mu, let sd, let a, let b):
            return "normal(mean: \(mu), sd: \(sd), in [\(a), \(b)])"
        case .uniform(let a, let b): return "uniform(\(a), \(b))"
        case .poisson(let m): return "poisson(mean: \(m))"
        case .empirical(let table): return "empirical(\(table.values.count) values)"
        }
    }
}

/// A discrete distribution over given values with given weights, sampled in O(1) by GSL's Walker alias table.
public final class EmpiricalTable: @unchecked Sendable, Equatable {
    // @unchecked: the GSL table is written once in init and only read afterwards (gsl_ran_discrete is read-only).
    /// The values, in the order given.
    public let values: [Double]
    /// The weights, normalized to sum to 1.
    public let probabilities: [Double]
    @usableFromInline let table: UnsafeMutablePointer<gsl_ran_discrete_t>

    /// Creates the table; `weights` defaults to equal weights. Returns nil if the input is empty,
    /// lengths differ, or any weight is negative or not finite, or all are zero.
    public init?(values: [Double], weights: [Double]? = nil) {
        GSL.configure()
        var weights = weights ?? Array(repeating: 1, count: values.count)
        guard !values.isEmpty, weights.count == values.count,
            weights.allSatisfy({ $0.isFinite && $0 >= 0 }), values.allSatisfy(\.isFinite)
        else { return nil }
        var total = weights.reduce(0, +)
        guard total > 0 else { return nil }
        if !total.isFinite {  // finite weights whose sum overflows: rescale by the largest first
            let largest = weights.max()!
            weights = weights.map { $0 / largest }
            total = weights.reduce(0, +)
        }
        guard let table = weights.withUnsafeBufferPointer({ gsl_ran_discrete_preproc($0.count, $0.baseAddress) })
        else { return nil }
        self.values = values
        self.probabilities = weights.map { $0 / total }
        self.table = table
    }

    deinit { gsl_ran_discrete_free(table) }

    public var mean: Double { zip(values, probabilities).reduce(0) { $0 + $1.0 * $1.1 } }
    public var variance: Double {
        let m = mean
        return zip(values, probabilities).reduce(0) { $0 + $1.1 * ($1.0 - m) * ($1.0 - m) }
    }

    @inlinable func sample(_ generator: UnsafeMutablePointer<gsl_rng>) -> Double {
        values[gsl_ran_discrete(generator, table)]
    }

    public static func == (a: EmpiricalTable, b: EmpiricalTable) -> Bool {
        a.values == b.values && a.probabilities == b.probabilities
    }
}
