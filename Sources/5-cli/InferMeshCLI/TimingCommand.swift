import ArgumentParser
import Fleet
import Foundation

/// `infermesh timing`: what the timing models predict for one engine step, to check a setup before running it
/// and to reproduce the published cross-check in docs/calibration.md.
struct TimingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timing",
        abstract: "Print the step times the roofline and fitted models predict for a GPU and model.",
        discussion: """
            infermesh timing H100-80GB Llama-3-8B              prefill and decode steps, both models
            infermesh timing A100-80GB Llama-2-70B --tensor-parallel-size 4
            infermesh timing --cross-check                     the setups of the published cross-check
            """)

    @Argument(help: "GPU, e.g. H100-80GB (see docs/calibration.md for the catalog).") var hardware: String?
    @Argument(help: "Model, e.g. Llama-3-8B.") var model: String?
    @Option(help: "GPUs per replica.") var tensorParallelSize = 1
    @Flag(help: "Print the setups of docs/calibration.md's cross-check against published numbers.")
    var crossCheck = false

    func validate() throws {
        if crossCheck { return }
        guard let hardware, let model else { throw ValidationError("give HARDWARE and MODEL, or --cross-check") }
        guard GPUSpec.named(hardware) != nil else {
            throw ValidationError(
                "unknown hardware '\(hardware)'; known: \(GPUSpec.builtIns.map(\.name).joined(separator: ", "))")
        }
        guard LLMSpec.named(model) != nil else {
            throw ValidationError(
                "unknown model '\(model)'; known: \(LLMSpec.builtIns.map(\.name).joined(separator: ", "))")
        }
        guard tensorParallelSize >= 1 else { throw ValidationError("--tensor-parallel-size must be at least 1") }
    }

    func run() throws {
        if crossCheck {
            CommandIO.standard.out(Self.crossCheckTable())
        } else if let hardware, let model {
            CommandIO.standard.out(Self.table(hardware: hardware, model: model, tensorParallelSize: tensorParallelSize))
        }
    }

    /// One row: a step shape, described.
    struct Probe {
        var label: String
        var shape: StepShape

        static func prefill(_ tokens: Int) -> Probe {
            Probe(
                label: "prefill \(tokens) tokens",
                shape: StepShape(prefillTokens: tokens, prefillAttentionPairs: Double(tokens) * Double(tokens + 1) / 2))
        }

        static func decode(batch: Int, context: Int) -> Probe {
            Probe(
                label: "decode batch \(batch), context \(context)",
                shape: StepShape(decodeSequences: batch, decodeContextTokens: batch * context))
        }
    }

    static let standardProbes: [Probe] =
        [256, 512, 1_024, 2_048, 4_096, 8_192].map(Probe.prefill)
        + [1, 8, 32, 64, 128, 256].flatMap { batch in [512, 2_048].map { Probe.decode(batch: batch, context: $0) } }

    static func table(hardware: String, model: String, tensorParallelSize: Int) -> String {
        rows(hardware: hardware, model: model, tensorParallelSize: tensorParallelSize, probes: standardProbes)
    }

    /// The shapes behind each row of the cross-check table, per setup.
    static func crossCheckTable() -> String {
        let setups: [(String, String, Int, [Probe])] = [
            ("A100-80GB", "Llama-3-8B", 1, [.decode(batch: 8, context: 512), .decode(batch: 16, context: 512)]),
            ("H100-80GB", "Llama-3-70B", 4, [.decode(batch: 8, context: 512), .decode(batch: 16, context: 512)]),
            ("H200-141GB", "Llama-3-8B", 1, [.decode(batch: 8, context: 96)]),
            ("H100-80GB", "Llama-3-8B", 1, [.decode(batch: 8, context: 96)]),
            ("H200-141GB", "Llama-3-70B", 4, [.decode(batch: 8, context: 96)]),
            ("H100-80GB", "Llama-3-70B", 4, [.decode(batch: 8, context: 96)]),
            (
                "H100-80GB", "Llama-3-8B", 1,
                [.prefill(256), .prefill(2_048), .decode(batch: 16, context: 512), .decode(batch: 64, context: 1_000)]
            ),
            ("A100-80GB", "Llama-3-8B", 1, [.decode(batch: 256, context: 600)]),
        ]
        return setups.map { rows(hardware: $0.0, model: $0.1, tensorParallelSize: $0.2, probes: $0.3) }
            .joined(separator: "\n")
    }

    private static func rows(hardware: String, model: String, tensorParallelSize: Int, probes: [Probe]) -> String {
        guard let gpu = GPUSpec.named(hardware), let llm = LLMSpec.named(model) else { return "" }
        let roofline = RooflineTiming(gpu: gpu, model: llm, tensorParallelSize: tensorParallelSize)
        let fitted = FittedProfileTiming.profile(gpu: hardware, model: model, tensorParallelSize: tensorParallelSize)
        var text = "\(gpu.name) · \(llm.name) · TP \(tensorParallelSize)"
        text += fitted == nil ? " (no fitted profile)\n" : "\n"
        let width = max(probes.map(\.label.count).max() ?? 0, 4) + 2
        text += "step".padding(toLength: width, withPad: " ", startingAt: 0) + "roofline ms    fitted ms\n"
        for probe in probes {
            let r = roofline.stepDuration(probe.shape).milliseconds
            let f = fitted.map { String(format: "%9.3f", $0.stepDuration(probe.shape).milliseconds) } ?? "        -"
            text += probe.label.padding(toLength: width, withPad: " ", startingAt: 0)
            text += String(format: "%11.3f", r) + "    " + f + "\n"
        }
        return text
    }
}
