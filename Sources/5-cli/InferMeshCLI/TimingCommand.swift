import ArgumentParser
import Fleet
import Foundation
import Scenarios

/// `infermesh timing`: what the timing models predict for one engine step, to check a setup before running it
/// and to reproduce the published cross-check in docs/calibration.md.
struct TimingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timing",
        abstract: "Print the step times the roofline and fitted models predict for a GPU and model.",
        discussion: """
            infermesh timing H100-80GB Llama-3-8B              prefill and decode steps, both models
            infermesh timing A100-80GB Llama-2-70B --tensor-parallel-size 4
            infermesh timing H100 Llama-3.3-70B --tensor-parallel-size 2 --quantization fp8 --kv-cache-dtype fp8
            infermesh timing H200 DeepSeek-V3 --tensor-parallel-size 8 --enable-expert-parallel
            infermesh timing H100 --model-config models/my-model.json
            infermesh timing --cross-check                     the setups of the published cross-check
            """)

    @Argument(help: "GPU, e.g. H100-80GB (see docs/calibration.md for the catalog).") var hardware: String?
    @Argument(help: "Model, e.g. Llama-3-8B (or give --model-config).") var model: String?
    @Option(help: "GPUs per replica.") var tensorParallelSize = 1
    @Flag(help: "Spread the experts of a mixture-of-experts model over the GPUs (vLLM's --enable-expert-parallel).")
    var enableExpertParallel = false
    @Option(help: "Weight format, as vLLM's --quantization: \(Quantization.names.joined(separator: ", ")).")
    var quantization: String?
    @Option(
        name: .customLong("kv-cache-dtype"),
        help: "KV cache dtype, as vLLM's --kv-cache-dtype: \(KVCacheDType.names.joined(separator: ", ")).")
    var kvCacheDType: String?
    @Option(help: "A Hugging Face config.json to time instead of a built-in model.") var modelConfig: String?
    @Flag(help: "Print the setups of docs/calibration.md's cross-check against published numbers.")
    var crossCheck = false

    func validate() throws {
        if crossCheck { return }
        guard let hardware else { throw ValidationError("give HARDWARE and MODEL, or --cross-check") }
        guard GPUSpec.named(hardware) != nil else {
            throw ValidationError(
                "unknown hardware '\(hardware)'; known: \(GPUSpec.builtIns.map(\.name).joined(separator: ", "))")
        }
        switch (model, modelConfig) {
        case (nil, nil): throw ValidationError("give HARDWARE and MODEL (or --model-config), or --cross-check")
        case (_?, _?): throw ValidationError("give MODEL or --model-config, not both")
        case (let model?, nil):
            guard LLMSpec.named(model) != nil else {
                throw ValidationError(
                    "unknown model '\(model)'; known: \(LLMSpec.builtIns.map(\.name).joined(separator: ", "))")
            }
        case (nil, _?): break
        }
        guard tensorParallelSize >= 1 else { throw ValidationError("--tensor-parallel-size must be at least 1") }
        if let quantization, Quantization(rawValue: quantization) == nil {
            throw ValidationError(
                "unknown quantization '\(quantization)'; known: \(Quantization.names.joined(separator: ", "))")
        }
        if let kvCacheDType, KVCacheDType(rawValue: kvCacheDType) == nil {
            throw ValidationError(
                "unknown kv-cache-dtype '\(kvCacheDType)'; known: \(KVCacheDType.names.joined(separator: ", "))")
        }
    }

    func run() throws {
        let status = perform(io: .standard)
        if status != ExitStatus.ok { throw ExitCode(status) }
    }

    /// Prints the table for the parsed arguments to `io`; returns the exit status.
    func perform(io: CommandIO) -> Int32 {
        if crossCheck {
            io.out(Self.crossCheckTable())
            return ExitStatus.ok
        }
        guard let hardware, let gpu = GPUSpec.named(hardware) else { return ExitCode.validationFailure.rawValue }
        let llm: LLMSpec
        if let modelConfig {
            do {
                llm = try ModelConfigFile.load(path: modelConfig, written: modelConfig)
            } catch {
                io.err("Error: \(error.message)\n")
                return error.missing ? ExitStatus.missingFile : ExitStatus.badInput
            }
        } else if let model, let named = LLMSpec.named(model) {
            llm = named
        } else {
            return ExitCode.validationFailure.rawValue
        }
        let deployment = ModelDeployment(
            gpu: gpu, model: llm, tensorParallelSize: tensorParallelSize, enableExpertParallel: enableExpertParallel,
            quantization: quantization.flatMap(Quantization.init(rawValue:)),
            kvCacheDType: kvCacheDType.flatMap(KVCacheDType.init(rawValue:)) ?? .auto)
        if let problem = deployment.problem {
            io.err("Error: --\(problem.key): \(problem)\n")
            return ExitCode.validationFailure.rawValue
        }
        io.out(Self.table(deployment))
        return ExitStatus.ok
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
        guard let gpu = GPUSpec.named(hardware), let llm = LLMSpec.named(model) else { return "" }
        return table(ModelDeployment(gpu: gpu, model: llm, tensorParallelSize: tensorParallelSize))
    }

    static func table(_ deployment: ModelDeployment) -> String {
        rows(deployment, probes: standardProbes, memory: true)
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
        return setups.map { setup in
            guard let gpu = GPUSpec.named(setup.0), let model = LLMSpec.named(setup.1) else { return "" }
            return rows(ModelDeployment(gpu: gpu, model: model, tensorParallelSize: setup.2), probes: setup.3)
        }
        .joined(separator: "\n")
    }

    /// The weights and KV cache per GPU, and the blocks vLLM would size at its default `gpu-memory-utilization`.
    static func memoryLine(_ deployment: ModelDeployment) -> String {
        let tp = Double(deployment.tensorParallelSize)
        let gib = Double(1 << 30)
        var line = String(format: "weights %.1f GiB per GPU", deployment.weightBytes / tp / gib)
        line += " · KV \(deployment.kvBytesPerToken) bytes/token"
        let settings = EngineSettings()
        if let blocks = GPUReplicaSpec.kvBlocks(
            deployment, gpuMemoryUtilization: 0.9, blockSize: settings.blockSize)
        {
            line += " · \(blocks) blocks of \(settings.blockSize) tokens (\(blocks * settings.blockSize) tokens)"
            line += " at gpu-memory-utilization 0.9"
        } else {
            line += " · does not fit at gpu-memory-utilization 0.9"
        }
        return line + "\n"
    }

    private static func rows(_ deployment: ModelDeployment, probes: [Probe], memory: Bool = false) -> String {
        let roofline = RooflineTiming(deployment)
        let fitted = FittedProfileTiming.profile(for: deployment)
        var text = deployment.label
        if fitted == nil {
            let reason = FittedProfileTiming.whyNoProfile(for: deployment)
            // The header of a built-in BF16 setup without a profile reads as it always has.
            let named =
                reason == "\(deployment.model.name) on \(deployment.gpu.name) at tensor-parallel-size "
                + "\(deployment.tensorParallelSize)"
            text += named || reason == nil ? " (no fitted profile)\n" : " (no fitted profile: \(reason!))\n"
        } else {
            text += "\n"
        }
        if memory { text += memoryLine(deployment) }
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
