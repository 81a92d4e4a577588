import CGSL
public import Scenarios

/// Fits the roofline's factors to measured step times.
///
/// A roofline step is `max(linear compute, weights) + max(attention compute, KV traffic) + all-reduce + overhead`.
/// Each term is a fixed amount of work over a rate times an efficiency, so once each max has chosen its side the step
/// time is linear in the inverse efficiencies and the overheads. The fit alternates: choose each point's sides with
/// the current factors, solve the weighted linear least squares (GSL, weights 1/measured², so the error minimized
/// is relative), and repeat until no side changes.
///
/// A parameter the inputs cannot determine is held, with the reason recorded: one no point spends 1% of its time on,
/// one the solution drives to an impossible value, or one the others can stand in for (a rank-deficient system).
/// The all-reduce latency is always held: it adds the same time to every step of a setup, as the step overhead does.
public enum StepTimeFit {
    /// The parameters and why the others were held.
    public struct Result: Sendable {
        public var factors: RooflineTiming.Factors
        public var fitted: [TimingProfile.Parameter]
        public var held: [(parameter: TimingProfile.Parameter, reason: String)]
    }

    typealias Parameter = TimingProfile.Parameter

    /// The fit of `samples` for `deployment`, starting from (and holding parameters at) `start`.
    public static func fit(
        _ samples: [StepSample], deployment: ModelDeployment, start: RooflineTiming.Factors = .defaults
    ) -> Result {
        let terms = StepTerms.of(samples.map(\.shape), deployment: deployment)
        return fit(
            terms: terms, seconds: samples.map { $0.milliseconds / 1_000 }, start: start,
            prefill: samples.contains { $0.kind == .prefill })
    }

    static func fit(terms: [StepTerms], seconds: [Double], start: RooflineTiming.Factors, prefill: Bool) -> Result {
        var held = collectiveHolds(collectives: terms.contains { $0.collectiveCalls > 0 })
        if !prefill {
            held.append((.attentionComputeEfficiency, "no prefill step in the inputs; tied to compute-efficiency"))
        }
        var factors = start
        // Each round fits the free parameters; a round that finds one it cannot determine holds it and starts again.
        for _ in 0..<Parameter.allCases.count {
            let free = Parameter.allCases.filter { parameter in !held.contains { $0.parameter == parameter } }
            let tied = held.contains { $0.parameter == .attentionComputeEfficiency }
            var candidate = start
            if tied { candidate.attentionComputeEfficiency = nil }
            let solution = solve(terms: terms, seconds: seconds, free: free, tied: tied, from: candidate)
            if let (parameter, reason) = problem(solution, terms: terms, seconds: seconds, free: free, tied: tied) {
                held.append((parameter, reason))
                continue
            }
            factors = solution.factors
            return Result(factors: factors, fitted: free, held: ordered(held))
        }
        return Result(factors: start, fitted: [], held: held)
    }

    /// The all-reduce parameters no fit can determine: the latency always (it adds the same time to every step as
    /// the step overhead), the bandwidth too when the setup has no all-reduce.
    static func collectiveHolds(collectives: Bool) -> [(parameter: Parameter, reason: String)] {
        let none = "no all-reduce at this tensor-parallel-size"
        guard collectives else { return [(.allReduceBandwidthEfficiency, none), (.allReduceLatency, none)] }
        return [
            (
                .allReduceLatency,
                "adds the same time to every step as step-overhead-us does, so the two cannot be told apart"
            )
        ]
    }

    /// Sorts holds into ``TimingProfile/Parameter`` order, as the profile lists them.
    static func ordered(_ held: [(parameter: Parameter, reason: String)]) -> [(parameter: Parameter, reason: String)] {
        held.sorted {
            Parameter.allCases.firstIndex(of: $0.parameter)! < Parameter.allCases.firstIndex(of: $1.parameter)!
        }
    }

    // MARK: - The linear system

    /// The inverse efficiencies and the overheads, in seconds: the unknowns of the linear system, by parameter.
    static func unknowns(_ factors: RooflineTiming.Factors) -> [Parameter: Double] {
        [
            .computeEfficiency: 1 / factors.computeEfficiency,
            .attentionComputeEfficiency: 1 / (factors.attentionComputeEfficiency ?? factors.computeEfficiency),
            .memoryEfficiency: 1 / factors.memoryEfficiency,
            .allReduceBandwidthEfficiency: 1 / factors.allReduceBandwidthEfficiency,
            .allReduceLatency: factors.allReduceLatencySeconds, .stepOverhead: factors.stepOverheadSeconds,
            .perSequenceOverhead: factors.perSequenceOverheadSeconds,
        ]
    }

    static func factors(_ x: [Parameter: Double], tied: Bool) -> RooflineTiming.Factors {
        RooflineTiming.Factors(
            computeEfficiency: 1 / x[.computeEfficiency]!, memoryEfficiency: 1 / x[.memoryEfficiency]!,
            allReduceLatencySeconds: x[.allReduceLatency]!,
            allReduceBandwidthEfficiency: 1 / x[.allReduceBandwidthEfficiency]!,
            stepOverheadSeconds: x[.stepOverhead]!,
            attentionComputeEfficiency: tied ? nil : 1 / x[.attentionComputeEfficiency]!,
            perSequenceOverheadSeconds: x[.perSequenceOverhead]!)
    }

    /// Each unknown's coefficient in a step's time, with each max's side chosen by `x`.
    static func coefficients(_ t: StepTerms, _ x: [Parameter: Double], tied: Bool) -> [Parameter: Double] {
        let attention = tied ? x[.computeEfficiency]! : x[.attentionComputeEfficiency]!
        let linearOnCompute = t.linearCompute * x[.computeEfficiency]! >= t.linearMemory * x[.memoryEfficiency]!
        let attentionOnCompute = t.attentionCompute * attention >= t.attentionMemory * x[.memoryEfficiency]!
        var c: [Parameter: Double] = [
            .computeEfficiency: linearOnCompute ? t.linearCompute : 0, .attentionComputeEfficiency: 0,
            .memoryEfficiency: (linearOnCompute ? 0 : t.linearMemory) + (attentionOnCompute ? 0 : t.attentionMemory),
            .allReduceBandwidthEfficiency: t.collective, .allReduceLatency: t.collectiveCalls, .stepOverhead: 1,
            .perSequenceOverhead: t.sequences,
        ]
        if attentionOnCompute {
            c[tied ? .computeEfficiency : .attentionComputeEfficiency]! += t.attentionCompute
        }
        return c
    }

    struct Solution {
        var factors: RooflineTiming.Factors
        var x: [Parameter: Double]
        var rank: Int
    }

    /// Alternates between choosing sides and solving until the sides stop changing (at most 50 rounds).
    static func solve(
        terms: [StepTerms], seconds: [Double], free: [Parameter], tied: Bool, from start: RooflineTiming.Factors
    ) -> Solution {
        var x = unknowns(start)
        var rank = free.count
        var previousSides: [[Bool]] = []
        for _ in 0..<50 {
            let sides = terms.map { t -> [Bool] in
                let c = coefficients(t, x, tied: tied)
                return [c[.computeEfficiency]! > 0, c[.memoryEfficiency]! > 0, c[.attentionComputeEfficiency]! > 0]
            }
            if sides == previousSides { break }
            previousSides = sides
            guard let (values, solvedRank) = leastSquares(terms: terms, seconds: seconds, free: free, tied: tied, x: x)
            else { break }
            rank = solvedRank
            for (parameter, value) in zip(free, values) { x[parameter] = value }
        }
        return Solution(factors: factors(x, tied: tied), x: x, rank: rank)
    }

    /// GSL's weighted linear least squares (truncated SVD, which reports the rank) for the free unknowns.
    static func leastSquares(
        terms: [StepTerms], seconds: [Double], free: [Parameter], tied: Bool, x: [Parameter: Double]
    ) -> ([Double], Int)? {
        let n = terms.count
        let p = free.count
        guard p > 0, n >= p else { return nil }
        let matrix = gsl_matrix_alloc(n, p)!
        let weights = gsl_vector_alloc(n)!
        let targets = gsl_vector_alloc(n)!
        let solution = gsl_vector_alloc(p)!
        let covariance = gsl_matrix_alloc(p, p)!
        let work = gsl_multifit_linear_alloc(n, p)!
        defer {
            gsl_matrix_free(matrix)
            gsl_vector_free(weights)
            gsl_vector_free(targets)
            gsl_vector_free(solution)
            gsl_matrix_free(covariance)
            gsl_multifit_linear_free(work)
        }
        for (i, t) in terms.enumerated() {
            let c = coefficients(t, x, tied: tied)
            var target = seconds[i]
            for parameter in Parameter.allCases where !free.contains(parameter) {
                target -= c[parameter]! * x[parameter]!
            }
            for (j, parameter) in free.enumerated() { gsl_matrix_set(matrix, i, j, c[parameter]!) }
            gsl_vector_set(targets, i, target)
            gsl_vector_set(weights, i, 1 / (seconds[i] * seconds[i]))
        }
        var chiSquared = 0.0
        var rank = 0
        guard
            gsl_multifit_wlinear_tsvd(matrix, weights, targets, 1e-10, solution, covariance, &chiSquared, &rank, work)
                == GSL_SUCCESS
        else { return nil }
        return ((0..<p).map { gsl_vector_get(solution, $0) }, rank)
    }

    /// The first free parameter the solution cannot support, with why; nil when every one stands.
    static func problem(
        _ solution: Solution, terms: [StepTerms], seconds: [Double], free: [Parameter], tied: Bool
    ) -> (Parameter, String)? {
        let x = solution.x
        // Influence: the largest share of a point's time the parameter's term takes.
        func influence(_ parameter: Parameter) -> Double {
            zip(terms, seconds).map { t, y in abs(coefficients(t, x, tied: tied)[parameter]! * x[parameter]!) / y }
                .max() ?? 0
        }
        for parameter in free {
            let value = x[parameter]!
            let impossible =
                parameter.isEfficiency ? !(value > 0.5) : (!(value >= 0) || !value.isFinite)
            if impossible {
                let shown = parameter.isEfficiency ? 1 / value : value * 1e6
                return (
                    parameter,
                    "the fit drove it to \(TimingProfileFile.rounded(shown)), which cannot be; kept at its starting value"
                )
            }
        }
        for parameter in free where influence(parameter) < 0.01 {
            let tail = parameter == .attentionComputeEfficiency ? "; tied to compute-efficiency" : ""
            return (parameter, "no input point spends 1% of its time on it\(tail)")
        }
        if solution.rank < free.count, let weakest = free.min(by: { influence($0) < influence($1) }) {
            let tail = weakest == .attentionComputeEfficiency ? "; tied to compute-efficiency" : ""
            return (weakest, "the inputs cannot tell it apart from the other parameters\(tail)")
        }
        return nil
    }
}

/// The roofline's terms of one step at unit efficiencies and no overhead, so that the step's time under any factors
/// is a sum of these over the factors (``StepTimeFit``).
struct StepTerms: Sendable {
    var linearCompute: Double
    var linearMemory: Double
    var attentionCompute: Double
    var attentionMemory: Double
    /// All-reduce and all-to-all transfer time at full bandwidth.
    var collective: Double
    /// All-reduce and all-to-all calls (their latency is paid per call).
    var collectiveCalls: Double
    /// Sequences the step samples, as the per-sequence overhead counts them.
    var sequences: Double

    /// Whether the deployment's steps make all-reduce or all-to-all calls (any step of one token will show it).
    static func hasCollectives(_ deployment: ModelDeployment) -> Bool {
        of([.decode(batch: 1, context: 1)], deployment: deployment)[0].collectiveCalls > 0
    }

    static func of(_ shapes: [StepShape], deployment: ModelDeployment) -> [StepTerms] {
        let unit = RooflineTiming(
            deployment,
            factors: .init(
                computeEfficiency: 1, memoryEfficiency: 1, allReduceLatencySeconds: 0, allReduceBandwidthEfficiency: 1,
                stepOverheadSeconds: 0, attentionComputeEfficiency: 1))
        let perCall = RooflineTiming(
            deployment,
            factors: .init(
                computeEfficiency: 1, memoryEfficiency: 1, allReduceLatencySeconds: 1, allReduceBandwidthEfficiency: 1,
                stepOverheadSeconds: 0, attentionComputeEfficiency: 1))
        return shapes.map { shape in
            let b = unit.breakdown(shape)
            let collective = b.allReduceSeconds + b.allToAllSeconds
            let withLatency = perCall.breakdown(shape)
            return StepTerms(
                linearCompute: b.linearComputeSeconds, linearMemory: b.linearMemorySeconds,
                attentionCompute: b.attentionComputeSeconds, attentionMemory: b.attentionMemorySeconds,
                collective: collective,
                collectiveCalls: (withLatency.allReduceSeconds + withLatency.allToAllSeconds - collective).rounded(),
                sequences: Double(shape.decodeSequences + (shape.prefillTokens > 0 ? 1 : 0)))
        }
    }
}
