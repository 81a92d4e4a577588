import Analysis
import CGSL
import Foundation
public import Scenarios

/// A `vllm bench serve` run replayed in the simulator: one replica of the setup, the benchmark's load, lengths and
/// request count, timed by a profile's factors.
public struct BenchmarkReplay: Sendable {
    public let result: BenchmarkResult
    /// The scenario the replay runs, as text (`infermesh calibrate` shows it, and a user can run it).
    public let scenarioText: String
    let fleet: FleetSpec
    let deployment: ModelDeployment

    /// The replay of `result` on `deployment`, an engine with `engine`'s scheduler settings.
    public init(
        _ result: BenchmarkResult, deployment: ModelDeployment, engine: EngineSettings = EngineSettings()
    ) throws(ScenarioError) {
        self.result = result
        self.deployment = deployment
        scenarioText = Self.scenario(result, deployment: deployment, engine: engine)
        fleet = try ScenarioLoader.parse(scenarioText, file: "\(result.input) (replayed)").fleet
    }

    /// The scenario: one replica, round-robin, the benchmark's arrivals and mean lengths.
    static func scenario(_ result: BenchmarkResult, deployment: ModelDeployment, engine: EngineSettings) -> String {
        var gpu = "hardware: \(deployment.gpu.name), model: \(deployment.model.name)"
        gpu += ", max-num-seqs: \(engine.maxNumSeqs), max-num-batched-tokens: \(engine.maxNumBatchedTokens)"
        gpu += ", tensor-parallel-size: \(deployment.tensorParallelSize)"
        if let quantization = deployment.quantization { gpu += ", quantization: \(quantization.rawValue)" }
        if deployment.kvCacheDType != .auto { gpu += ", kv-cache-dtype: \(deployment.kvCacheDType.rawValue)" }
        if deployment.enableExpertParallel { gpu += ", enable-expert-parallel: true" }
        var load: String
        if let rate = result.requestRate {
            load = "    rate: \(rate)/s\n"
            if result.burstiness != 1 {
                // vLLM draws gaps from a gamma of shape `burstiness`: its coefficient of variation is 1/sqrt(shape).
                load += "    arrival: {process: gamma, cv: \(1 / result.burstiness.squareRoot())}\n"
            }
        } else {
            load = "    concurrency: \(result.maxConcurrency ?? result.completed)\n"
        }
        return """
            name: replay
            seed: 1
            policies: [round-robin]
            pools:
              - name: engine
                replicas: 1
                gpu: {\(gpu), timing: roofline}
            workloads:
              - name: bench
            \(load)    requests: \(result.completed)
                input-tokens: \(Int(result.meanInputTokens.rounded()))
                output-tokens: \(Int(result.meanOutputTokens.rounded()))

            """
    }

    /// The simulated values of the benchmark's metrics under `factors`, in ``BenchmarkResult/Metric`` order.
    public func simulate(_ factors: RooflineTiming.Factors) throws -> [Double] {
        var spec = fleet
        if case .gpu(var gpu) = spec.pools[0].replica {
            gpu.timing = .profile(deployment, factors)
            spec.pools[0].replica = .gpu(gpu)
        }
        let accumulator = SummaryAccumulator(spec: spec)
        let output = try FleetRun.execute(
            spec, policy: "round-robin", seed: 1, sinks: [accumulator], keepRequests: false)
        let summary = accumulator.summary(of: output)
        return BenchmarkResult.Metric.allCases.map { summary[$0.summaryMetric] ?? .nan }
    }
}

/// Fits factors to benchmark results (and step times, when both are given) by simulating each benchmark and moving
/// the factors with GSL's Nelder–Mead simplex, minimizing the sum of squared log ratios of simulated to measured.
///
/// The simulation is deterministic, so the objective is too; it is not smooth (a step's batch changes when timing
/// does), which is why a derivative-free method is used.
enum BenchmarkFit {
    typealias Parameter = TimingProfile.Parameter

    /// The squared log ratios of everything predicted against measured.
    struct Objective {
        var replays: [BenchmarkReplay]
        var steps: [StepSample]
        var deployment: ModelDeployment

        func residuals(_ factors: RooflineTiming.Factors) -> [Double] {
            // The replays are independent and each fills its own slot, so running them on every core gives the
            // same numbers in the same order.
            let metrics = BenchmarkResult.Metric.allCases.count
            var simulated = [Double](repeating: .nan, count: replays.count * metrics)
            simulated.withUnsafeMutableBufferPointer { slots in
                nonisolated(unsafe) let slots = slots
                DispatchQueue.concurrentPerform(iterations: replays.count) { index in
                    guard let values = try? replays[index].simulate(factors) else { return }
                    for (m, value) in values.enumerated() { slots[index * metrics + m] = value }
                }
            }
            var logs: [Double] = []
            for (index, replay) in replays.enumerated() {
                for (m, measured) in replay.result.measured.enumerated() {
                    logs.append(log(simulated[index * metrics + m] / measured))
                }
            }
            let timing = RooflineTiming(deployment, factors: factors)
            for step in steps {
                logs.append(log(timing.stepDuration(step.shape).milliseconds / step.milliseconds))
            }
            return logs
        }

        func cost(_ factors: RooflineTiming.Factors) -> Double {
            residuals(factors).reduce(0) { $0 + ($1.isFinite ? $1 * $1 : 1e6) }
        }
    }

    /// Which of `candidates` move some prediction by at least 0.5% when changed by a quarter; the others are returned
    /// as held, with the reason.
    static func sensitive(
        _ candidates: [Parameter], objective: Objective, start: RooflineTiming.Factors
    ) -> (free: [Parameter], held: [(parameter: Parameter, reason: String)]) {
        let base = objective.residuals(start)
        var free: [Parameter] = []
        var held: [(parameter: Parameter, reason: String)] = []
        for parameter in candidates {
            var moved = start
            let value = parameter.value(in: start)
            parameter.set(value > 0 ? value * 1.25 : 25, in: &moved)
            let shifted = objective.residuals(moved)
            let largest = zip(base, shifted).map { abs($1 - $0) }.filter(\.isFinite).max() ?? 0
            if largest >= 0.005 {
                free.append(parameter)
            } else {
                held.append((parameter, "changing it by a quarter moves no measured value by 0.5%"))
            }
        }
        return (free, held)
    }

    /// The free parameter the predictions can least tell apart from the others, with the one it is confused with,
    /// or nil when every direction is determined: the smallest singular value of the residuals' Jacobian (each
    /// column the change of every log ratio when its parameter moves by 5%, scaled to unit length) below 3% of the
    /// largest, that is two columns within about 2.5 degrees of each other.
    static func weakest(
        _ objective: Objective, free: [Parameter], at factors: RooflineTiming.Factors
    ) -> (Parameter, Parameter)? {
        guard free.count > 1 else { return nil }
        let base = objective.residuals(factors)
        let n = base.count
        let p = free.count
        guard n >= p else { return nil }
        let jacobian = gsl_matrix_alloc(n, p)!
        let v = gsl_matrix_alloc(p, p)!
        let singular = gsl_vector_alloc(p)!
        let work = gsl_vector_alloc(p)!
        defer {
            gsl_matrix_free(jacobian)
            gsl_matrix_free(v)
            gsl_vector_free(singular)
            gsl_vector_free(work)
        }
        for (j, parameter) in free.enumerated() {
            var moved = factors
            let value = parameter.value(in: factors)
            parameter.set(value > 0 ? value * 1.05 : 5, in: &moved)
            let changes = zip(objective.residuals(moved), base).map { $0.isFinite && $1.isFinite ? $0 - $1 : 0 }
            // Unit columns: a parameter with a small effect is not confused with one the others can stand in for.
            let norm = changes.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for (i, change) in changes.enumerated() { gsl_matrix_set(jacobian, i, j, norm > 0 ? change / norm : 0) }
        }
        guard gsl_linalg_SV_decomp(jacobian, v, singular, work) == GSL_SUCCESS else { return nil }
        let largest = gsl_vector_get(singular, 0)
        let smallest = gsl_vector_get(singular, p - 1)
        guard largest > 0, smallest < 0.03 * largest else { return nil }
        // The direction the data barely see: its two largest components are the parameters that trade off.
        let direction = (0..<p).map { abs(gsl_matrix_get(v, $0, p - 1)) }
        let order = direction.indices.sorted {
            direction[$0] > direction[$1] || (direction[$0] == direction[$1] && $0 < $1)
        }
        return (free[order[0]], free[order[1]])
    }

    /// The factors that minimize the objective over `free`, starting from `start`.
    /// `near` says the start is already close (a leave-one-out refit from the full fit): the simplex starts small.
    static func minimize(
        _ objective: Objective, free: [Parameter], start: RooflineTiming.Factors, tied: Bool, near: Bool = false
    ) -> RooflineTiming.Factors {
        guard !free.isEmpty else { return start }
        // Each coordinate is the parameter over its starting value (or over 10 µs for an overhead starting at 0),
        // so one step size suits all.
        let scales = free.map { parameter -> Double in
            let value = parameter.value(in: start)
            return value > 0 ? value : 10
        }
        func factors(_ v: [Double]) -> RooflineTiming.Factors? {
            var result = start
            if tied { result.attentionComputeEfficiency = nil }
            for (j, parameter) in free.enumerated() {
                let value = v[j] * scales[j]
                if parameter.isEfficiency ? !(value > 0.02 && value <= 2) : !(value >= 0) { return nil }
                parameter.set(value, in: &result)
            }
            return result
        }
        final class Box {
            let evaluate: ([Double]) -> Double
            init(_ evaluate: @escaping ([Double]) -> Double) { self.evaluate = evaluate }
        }
        let box = Box { v in factors(v).map { objective.cost($0) } ?? 1e9 }
        let p = free.count
        var function = gsl_multimin_function(
            f: { vector, parameters in
                let box = Unmanaged<Box>.fromOpaque(parameters!).takeUnretainedValue()
                return box.evaluate((0..<vector!.pointee.size).map { gsl_vector_get(vector, $0) })
            }, n: p, params: Unmanaged.passUnretained(box).toOpaque())
        let x = gsl_vector_alloc(p)!
        let steps = gsl_vector_alloc(p)!
        let minimizer = gsl_multimin_fminimizer_alloc(infermesh_nmsimplex2(), p)!
        defer {
            gsl_vector_free(x)
            gsl_vector_free(steps)
            gsl_multimin_fminimizer_free(minimizer)
        }
        var best = free.enumerated().map { parameter(at: $0.offset, $0.element) }
        func parameter(at j: Int, _ parameter: Parameter) -> Double { parameter.value(in: start) / scales[j] }
        var bestCost = box.evaluate(best)
        // A simplex can stall on a kink of this objective; restarting it from its best point, with a fresh simplex,
        // until a restart no longer improves, is the usual remedy.
        for restart in 0..<6 {
            for j in 0..<p {
                gsl_vector_set(x, j, best[j])
                gsl_vector_set(steps, j, restart == 0 && !near ? 0.2 : 0.05)
            }
            gsl_multimin_fminimizer_set(minimizer, &function, x, steps)
            for _ in 0..<400 {
                guard gsl_multimin_fminimizer_iterate(minimizer) == GSL_SUCCESS else { break }
                if gsl_multimin_test_size(gsl_multimin_fminimizer_size(minimizer), 1e-5) == GSL_SUCCESS { break }
            }
            let cost = gsl_multimin_fminimizer_minimum(minimizer)
            // A restart that gains less than 1% of the cost is the simplex crawling along a flat valley.
            let improved = cost < bestCost * (1 - 1e-2)
            if cost < bestCost {
                best = (0..<p).map { gsl_vector_get(minimizer.pointee.x, $0) }
                bestCost = cost
            }
            if !improved && restart > 0 { break }
        }
        return withExtendedLifetime(box) { factors(best) ?? start }
    }
}
