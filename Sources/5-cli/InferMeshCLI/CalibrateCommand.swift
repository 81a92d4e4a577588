import ArgumentParser
import Calibration
import Foundation
import Scenarios

/// `infermesh calibrate INPUT... --hardware H --model M --out PROFILE.yaml`: fit a timing profile for one setup to
/// the user's own measurements (docs/calibration.md, "Calibrate to your fleet").
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Fit a step-timing profile to your own step times or vllm bench serve results.",
        discussion: """
            Inputs, in any mix:
              step times: a CSV with the header kind,batch,tokens,context,ms (one engine step a row);
              benchmark results: the JSON files `vllm bench serve --save-result` writes, one per rate or concurrency.
            The JSON names the model but not the GPU or the parallelism: give them with the flags. A scenario uses the
            profile with `timing: {profile: PROFILE.yaml}` in a pool of the same setup.

              infermesh calibrate steps.csv --hardware H100 --model Llama-3.1-8B --out profiles/h100.yaml
              infermesh calibrate bench/c*.json --hardware H100 --model Llama-3.3-70B \\
                  --tensor-parallel-size 2 --quantization fp8 --out profiles/h100x2-70b-fp8.yaml
            """)

    @Argument(help: "Step-time CSV files and vllm bench serve JSON files.") var inputs: [String]
    @Option(help: "GPU, e.g. H100-80GB.") var hardware: String
    @Option(help: "Model, e.g. Llama-3.1-8B.") var model: String
    @OptionGroup var setup: DeploymentOptions
    @Option(help: "The server's --max-num-seqs, for replaying benchmarks (default: vLLM's, 256).") var maxNumSeqs: Int?
    @Option(help: "The server's --max-num-batched-tokens, for replaying benchmarks (default: vLLM's, 8192).")
    var maxNumBatchedTokens: Int?
    @Option(help: "Where to write the profile (YAML).") var out: String
    @Flag(help: "No progress lines on stderr.") var quiet = false

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("give at least one input file") }
        _ = try DeploymentOptions.gpu(hardware)
        _ = try DeploymentOptions.model(model)
        if let maxNumSeqs, maxNumSeqs < 1 { throw ValidationError("--max-num-seqs must be at least 1") }
        if let maxNumBatchedTokens, maxNumBatchedTokens < 1 {
            throw ValidationError("--max-num-batched-tokens must be at least 1")
        }
    }

    func run() throws {
        let status = perform(io: .standard)
        if status != ExitStatus.ok { throw ExitCode(status) }
    }

    /// Calibrates, writes the profile and prints the fit to `io`; returns the exit status.
    func perform(io: CommandIO) -> Int32 {
        guard let gpu = GPUSpec.named(hardware), let llm = LLMSpec.named(model) else {
            return ExitCode.validationFailure.rawValue
        }
        let deployment = setup.deployment(gpu: gpu, model: llm)
        if let problem = deployment.problem {
            io.err("Error: --\(problem.key): \(problem)\n")
            return ExitCode.validationFailure.rawValue
        }
        var engine = EngineSettings()
        engine.maxNumSeqs = maxNumSeqs ?? engine.maxNumSeqs
        engine.maxNumBatchedTokens = maxNumBatchedTokens ?? engine.maxNumBatchedTokens
        let profile: TimingProfile
        do {
            profile = try Calibrator.calibrate(
                inputs.map { Calibrator.InputPath(path: $0, written: $0) }, deployment: deployment, engine: engine,
                writtenBy: "infermesh \(ToolVersion.current)",
                progress: { message in if !quiet { io.err("calibrate: \(message)\n") } })
        } catch {
            io.err("\(error)\n")
            return error.exitStatus
        }
        do {
            let directory = (out as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            try TimingProfileFile.text(profile).write(toFile: out, atomically: true, encoding: .utf8)
        } catch {
            io.err("error: could not write \(out): \(error.localizedDescription)\n")
            return ExitStatus.internalError
        }
        io.out(Self.report(profile, written: out))
        return ExitStatus.ok
    }

    /// The fitted parameters and the errors, as printed after calibrating.
    static func report(_ profile: TimingProfile, written: String) -> String {
        var text = "profile for \(profile.setup) written to \(written)\n"
        for parameter in TimingProfile.Parameter.allCases {
            let value = TimingProfileFile.rounded(parameter.value(in: profile.factors))
            let held = profile.held.first { $0.parameter == parameter }.map { " (held: \($0.reason))" } ?? " (fitted)"
            text += "  \(parameter.rawValue): \(value)\(held)\n"
        }
        let fit = profile.fitError
        text += String(
            format: "fit over %d point(s): mean error %.1f%%, worst %.1f%%\n", profile.points.count, fit.mean * 100,
            fit.worst * 100)
        if let heldOut = profile.heldOutError {
            text += String(
                format: "leave-one-out (one %@ at a time): mean error %.1f%%, worst %.1f%%\n",
                profile.leaveOneOutUnit, heldOut.mean * 100, heldOut.worst * 100)
        } else {
            text += "leave-one-out: not computed (it needs at least three step times or two files)\n"
        }
        return text
    }
}
