import Foundation
public import Scenarios
import SimKernel

/// `infermesh calibrate`: reads the inputs, fits a profile for one setup, and measures how well it predicts points it
/// was not fitted on.
///
/// Step times alone are fitted by ``StepTimeFit`` (linear least squares); any benchmark result brings in the
/// simulation (``BenchmarkFit``), started from the step-time fit when there is one. The leave-one-out error leaves
/// out one step at a time when only step times are given, else one input file at a time.
public enum Calibrator {
    typealias Parameter = TimingProfile.Parameter

    /// One input, by its path on disk and as the user wrote it.
    public struct InputPath: Sendable {
        public var path: String
        public var written: String
        public init(path: String, written: String) {
            self.path = path
            self.written = written
        }
    }

    /// The inputs as read.
    struct Inputs {
        var steps: [StepSample] = []
        var benchmarks: [BenchmarkResult] = []
        var files: [TimingProfile.Input] = []
    }

    /// Fits a profile for `deployment` to the files; benchmarks are replayed on an engine with `engine`'s scheduler
    /// settings (the server's `max-num-seqs` and `max-num-batched-tokens`); `progress` hears what is being done.
    public static func calibrate(
        _ paths: [InputPath], deployment: ModelDeployment, engine: EngineSettings = EngineSettings(),
        writtenBy: String, leaveOneOut: Bool = true, progress: (String) -> Void = { _ in }
    ) throws(ScenarioError) -> TimingProfile {
        let inputs = try read(paths, deployment: deployment)
        let replays = try inputs.benchmarks.map { (result) throws(ScenarioError) in
            try BenchmarkReplay(result, deployment: deployment, engine: engine)
        }
        progress("fitting \(inputs.steps.count) step time(s) and \(replays.count) benchmark(s)")
        let fit = Self.fit(steps: inputs.steps, replays: replays, deployment: deployment, start: .defaults)
        let factors = rounded(fit.factors)
        let timing = RooflineTiming(deployment, factors: factors)
        var points: [TimingProfile.Point] = inputs.steps.map {
            TimingProfile.Point(
                input: $0.input, what: $0.label, measured: $0.milliseconds,
                predicted: timing.stepDuration($0.shape).milliseconds)
        }
        for replay in replays {
            let simulated = (try? replay.simulate(factors)) ?? []
            for (index, metric) in BenchmarkResult.Metric.allCases.enumerated() where index < simulated.count {
                points.append(
                    TimingProfile.Point(
                        input: replay.result.input, what: "\(replay.result.load): \(metric.rawValue)",
                        measured: replay.result.measured[index], predicted: simulated[index]))
            }
        }
        let unit = replays.isEmpty ? "point" : "file"
        guard leaveOneOut else {
            return TimingProfile(
                setup: TimingProfile.Setup(deployment), factors: factors, fitted: fit.fitted, held: fit.held,
                inputs: inputs.files, points: points, leaveOneOutUnit: unit, writtenBy: writtenBy)
        }
        progress("leave-one-out: \(unit == "point" ? "\(inputs.steps.count) points" : "\(inputs.files.count) files")")
        let heldOut = Self.leaveOneOut(
            steps: inputs.steps, replays: replays, files: inputs.files.map(\.file), deployment: deployment,
            fitted: fit, byPoint: unit == "point")
        for index in points.indices { points[index].heldOut = heldOut[index] }
        return TimingProfile(
            setup: TimingProfile.Setup(deployment), factors: factors, fitted: fit.fitted, held: fit.held,
            inputs: inputs.files, points: points, leaveOneOutUnit: unit, writtenBy: writtenBy)
    }

    /// Reads each file as step times (`.csv`, or text not starting with `{`) or a benchmark result (JSON).
    static func read(_ paths: [InputPath], deployment: ModelDeployment) throws(ScenarioError) -> Inputs {
        var inputs = Inputs()
        for input in paths {
            let data = try InputFile.data(path: input.path, written: input.written)
            let text = String(decoding: data, as: UTF8.self)
            let json = input.path.lowercased().hasSuffix(".json") || text.drop(while: \.isWhitespace).first == "{"
            if json {
                let result = try BenchmarkResultFile.parse(data: data, text: text, file: input.written)
                if let other = contradiction(result.modelID, deployment.model) {
                    let (line, column) = BenchmarkResultFile.position(
                        in: ModelConfigFile.located(input.written, text: text, key: "model_id"), file: input.written)
                    throw ScenarioError(
                        kind: .invalid, file: input.written, line: line, column: column, path: "model_id",
                        message: "`\(result.modelID)` is \(other), but --model is \(deployment.model.name); "
                            + "the JSON names the model, the flags give the rest of the setup")
                }
                inputs.benchmarks.append(result)
            } else {
                inputs.steps += try StepTimeFile.parse(
                    InputFile.text(data, written: input.written), file: input.written)
            }
            inputs.files.append(
                TimingProfile.Input(
                    file: input.written, kind: json ? .benchmark : .stepTimes, sha256: SHA256.hex(of: data)))
        }
        return inputs
    }

    /// The built-in model a benchmark's `model_id` names when it is not `model`, or nil (the same model, or one we
    /// cannot tell: a local path or an unknown name). `meta-llama/Meta-Llama-3.1-8B-Instruct` is Llama-3-8B: the
    /// organization, a `Meta-` prefix and suffixes such as `-Instruct` or `-FP8` are dropped until a name is known.
    static func contradiction(_ modelID: String, _ model: LLMSpec) -> String? {
        let base = String(modelID.split(separator: "/").last ?? "")
        for start in [base, base.hasPrefix("Meta-") ? String(base.dropFirst(5)) : base] {
            var candidate = start
            while !candidate.isEmpty {
                if let named = LLMSpec.named(candidate) { return named.name == model.name ? nil : named.name }
                guard let dash = candidate.lastIndex(of: "-") else { break }
                candidate = String(candidate[..<dash])
            }
        }
        return nil
    }

    /// Six significant digits, as the file writes them, so reported errors are those of the file's numbers.
    static func rounded(_ factors: RooflineTiming.Factors) -> RooflineTiming.Factors {
        var result = factors
        for parameter in Parameter.allCases {
            if parameter == .attentionComputeEfficiency, factors.attentionComputeEfficiency == nil { continue }
            parameter.set(TimingProfileFile.rounded(parameter.value(in: factors)), in: &result)
        }
        return result
    }

    /// The whole fit: step times by least squares, then, with benchmarks, the simulation from there.
    static func fit(
        steps: [StepSample], replays: [BenchmarkReplay], deployment: ModelDeployment, start: RooflineTiming.Factors,
        free fixedFree: [Parameter]? = nil
    ) -> StepTimeFit.Result {
        var result =
            steps.isEmpty
            ? StepTimeFit.Result(factors: start, fitted: [], held: [])
            : StepTimeFit.fit(steps, deployment: deployment, start: start)
        guard !replays.isEmpty else { return result }
        let objective = BenchmarkFit.Objective(replays: replays, steps: steps, deployment: deployment)
        let tied = !steps.contains { $0.kind == .prefill } || result.factors.attentionComputeEfficiency == nil
        var startFactors = result.factors
        if tied { startFactors.attentionComputeEfficiency = nil }
        let free: [Parameter]
        var held: [(parameter: Parameter, reason: String)] = []
        if let fixedFree {
            free = fixedFree
            held = result.held
        } else {
            held = StepTimeFit.collectiveHolds(collectives: StepTerms.hasCollectives(deployment))
            if tied {
                held.append(
                    (
                        .attentionComputeEfficiency,
                        "benchmark medians cannot separate attention from the matrix multiplies; tied to compute-efficiency"
                    ))
            }
            let candidates = Parameter.allCases.filter { parameter in !held.contains { $0.parameter == parameter } }
            let sensitivity = BenchmarkFit.sensitive(candidates, objective: objective, start: startFactors)
            free = sensitivity.free
            held = StepTimeFit.ordered(held + sensitivity.held)
        }
        var remaining = free
        var factors = BenchmarkFit.minimize(
            objective, free: remaining, start: startFactors, tied: tied, near: fixedFree != nil)
        // A parameter the predictions cannot tell apart from another is held at its starting value, and the rest
        // refitted; a fixed set (leave-one-out) keeps the full fit's choice.
        while fixedFree == nil, let (weak, partner) = BenchmarkFit.weakest(objective, free: remaining, at: factors) {
            remaining.removeAll { $0 == weak }
            held.append(
                (
                    weak,
                    "the inputs cannot tell it apart from \(partner.rawValue) (add benchmarks at other input lengths or "
                        + "concurrencies, or step times)"
                ))
            held = StepTimeFit.ordered(held)
            factors = BenchmarkFit.minimize(objective, free: remaining, start: startFactors, tied: tied)
        }
        result = StepTimeFit.Result(factors: factors, fitted: remaining, held: held)
        return result
    }

    /// Each point's prediction by a fit without it (by point), or without its file; in the order the points are
    /// reported (steps, then each benchmark's metrics). Nil where no such fit can be made (a single input).
    static func leaveOneOut(
        steps: [StepSample], replays: [BenchmarkReplay], files: [String], deployment: ModelDeployment,
        fitted: StepTimeFit.Result, byPoint: Bool
    ) -> [Double?] {
        let metrics = BenchmarkResult.Metric.allCases.count
        var predictions = [Double?](repeating: nil, count: steps.count + replays.count * metrics)
        if byPoint {
            guard steps.count > 2 else { return predictions }
            for index in steps.indices {
                var others = steps
                others.remove(at: index)
                let factors = rounded(StepTimeFit.fit(others, deployment: deployment).factors)
                predictions[index] =
                    RooflineTiming(deployment, factors: factors).stepDuration(steps[index].shape)
                    .milliseconds
            }
            return predictions
        }
        guard files.count > 1 else { return predictions }
        for file in files {
            let keptSteps = steps.filter { $0.input != file }
            let keptReplays = replays.filter { $0.result.input != file }
            let factors = rounded(
                fit(
                    steps: keptSteps, replays: keptReplays, deployment: deployment, start: fitted.factors,
                    free: fitted.fitted
                ).factors)
            let timing = RooflineTiming(deployment, factors: factors)
            for (index, step) in steps.enumerated() where step.input == file {
                predictions[index] = timing.stepDuration(step.shape).milliseconds
            }
            for (r, replay) in replays.enumerated() where replay.result.input == file {
                let simulated = (try? replay.simulate(factors)) ?? []
                for m in 0..<min(metrics, simulated.count) { predictions[steps.count + r * metrics + m] = simulated[m] }
            }
        }
        return predictions
    }
}
