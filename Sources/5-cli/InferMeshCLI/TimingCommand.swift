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

            The steps you ask for, instead of the standard ones:
            infermesh timing H100 Llama-3-8B --prefill 1024,4096 --decode 4x576,16x576
            infermesh timing H100 Llama-3-8B --prefill 512@2048 --format json

            --prefill T is a step that prefills T prompt tokens with nothing cached
            before them; T@C prefills T tokens after C cached ones (context C). --decode
            BxC is a step of B sequences decoding one token each, every one holding C
            tokens of context. These are the rows of calibration's step CSV
            (kind,batch,tokens,context). --format json prints an array of objects with
            the keys kind, batch, tokens, context, then each timing model's step time in
            ms under its name: roofline, and fitted where a fitted profile exists for
            the setup (left out otherwise), and profile with --profile.

            --profile FILE adds a column (and a JSON key) for a profile written by
            infermesh calibrate; it must be for the setup the arguments give.
            infermesh timing H100 Llama-3.1-8B --profile profiles/h100.yaml --decode 16x576
            """)

    /// How the requested steps are printed.
    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Argument(help: "GPU, e.g. H100-80GB (see docs/calibration.md for the catalog).") var hardware: String?
    @Argument(help: "Model, e.g. Llama-3-8B (or give --model-config).") var model: String?
    @OptionGroup var setup: DeploymentOptions
    @Option(help: "A Hugging Face config.json to time instead of a built-in model.") var modelConfig: String?
    @Option(help: "A profile written by infermesh calibrate, for this setup: its step times beside the others.")
    var profile: String?
    @Flag(help: "Print the setups of docs/calibration.md's cross-check against published numbers.")
    var crossCheck = false
    @Option(
        name: .customLong("prefill"), parsing: .unconditionalSingleValue,
        help: ArgumentHelp(
            "Prefill steps to time, comma-separated: T prompt tokens, or T@C after C cached tokens (repeatable).",
            valueName: "T[@C],..."))
    var prefillSteps: [String] = []
    @Option(
        name: .customLong("decode"), parsing: .unconditionalSingleValue,
        help: ArgumentHelp(
            "Decode steps to time, comma-separated: B sequences at C tokens of context each (repeatable).",
            valueName: "BxC,..."))
    var decodeSteps: [String] = []
    @Option(help: "How to print the requested steps: table or json (json needs --prefill or --decode).")
    var format: Format = .table

    /// The steps asked for with `--prefill` and `--decode`, prefills first, each in the order given.
    var requestedSteps: [Step] {
        get throws {
            try prefillSteps.flatMap { try Step.parse($0, kind: .prefill) }
                + decodeSteps.flatMap { try Step.parse($0, kind: .decode) }
        }
    }

    func validate() throws {
        let steps = try requestedSteps
        if crossCheck {
            guard steps.isEmpty, format == .table else {
                throw ValidationError(
                    "--cross-check prints its own steps as a table; leave out --prefill, --decode and --format")
            }
            return
        }
        if format == .json && steps.isEmpty {
            throw ValidationError("--format json prints the steps you ask for: give --prefill or --decode")
        }
        guard let hardware else { throw ValidationError("give HARDWARE and MODEL, or --cross-check") }
        _ = try DeploymentOptions.gpu(hardware)
        switch (model, modelConfig) {
        case (nil, nil): throw ValidationError("give HARDWARE and MODEL (or --model-config), or --cross-check")
        case (_?, _?): throw ValidationError("give MODEL or --model-config, not both")
        case (let model?, nil): _ = try DeploymentOptions.model(model)
        case (nil, _?): break
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
        let deployment = setup.deployment(gpu: gpu, model: llm)
        if let problem = deployment.problem {
            io.err("Error: --\(problem.key): \(problem)\n")
            return ExitCode.validationFailure.rawValue
        }
        var factors: RooflineTiming.Factors?
        if let profile {
            do {
                let read = try TimingProfileFile.read(path: profile, written: profile)
                guard read.setup.matches(deployment) else {
                    io.err(
                        "Error: --profile: \(profile) was calibrated for \(read.setup), but the arguments give "
                            + "\(TimingProfile.Setup(deployment))\n")
                    return ExitStatus.badInput
                }
                factors = read.factors
            } catch {
                io.err("\(error)\n")
                return error.exitStatus
            }
        }
        let steps = (try? requestedSteps) ?? []
        if steps.isEmpty {
            io.out(Self.table(deployment, profile: factors))
        } else if format == .json {
            io.out(Self.json(steps, models: Self.timingModels(deployment, profile: factors)))
        } else {
            io.out(Self.rows(deployment, probes: steps.map(\.probe), profile: factors))
        }
        return ExitStatus.ok
    }

    /// The timing models printed, in column and key order, each under its name; nil where a model has no answer
    /// for the setup (a column of `-` in the table, a key left out of the JSON). Another model is one more entry. A
    /// calibrated profile's column is there only when one is given.
    static func timingModels(
        _ deployment: ModelDeployment, profile: RooflineTiming.Factors? = nil
    ) -> [(name: String, model: (any StepTimingModel)?)] {
        [("roofline", RooflineTiming(deployment)), ("fitted", FittedProfileTiming.profile(for: deployment))]
            + (profile.map { [("profile", RooflineTiming(deployment, factors: $0))] } ?? [])
    }

    /// A step asked for on the command line, in the columns of calibration's step CSV: `kind`, `batch`, `tokens`
    /// (prompt tokens of a prefill; one per sequence of a decode, so `batch`) and `context` (tokens cached before a
    /// prefill's; tokens each decoding sequence holds).
    struct Step: Equatable {
        enum Kind: String { case prefill, decode }

        var kind: Kind
        var batch: Int
        var tokens: Int
        var context: Int

        /// A prefill of `tokens` prompt tokens after `context` cached ones, alone in its step.
        static func prefill(tokens: Int, context: Int = 0) -> Step {
            Step(kind: .prefill, batch: 1, tokens: tokens, context: context)
        }

        /// A decode step of `batch` sequences, each holding `context` tokens.
        static func decode(batch: Int, context: Int) -> Step {
            Step(kind: .decode, batch: batch, tokens: batch, context: context)
        }

        /// The step's shape (``StepShape/prefill(tokens:context:)``, ``StepShape/decode(batch:context:)``), as
        /// `infermesh calibrate` reads the same columns.
        var shape: StepShape {
            switch kind {
            case .prefill: .prefill(tokens: tokens, context: context)
            case .decode: .decode(batch: batch, context: context)
            }
        }

        /// How the step is written on the command line: `T`, `T@C` or `BxC`.
        var argument: String {
            switch kind {
            case .prefill: context == 0 ? "\(tokens)" : "\(tokens)@\(context)"
            case .decode: "\(batch)x\(context)"
            }
        }

        /// The step as a row of the table.
        var probe: Probe {
            switch kind {
            case .prefill:
                Probe(
                    label: context == 0 ? "prefill \(tokens) tokens" : "prefill \(tokens) tokens after \(context)",
                    shape: shape)
            case .decode: Probe(label: "decode batch \(batch), context \(context)", shape: shape)
            }
        }

        /// The largest count a step takes (tokens, context or batch): beyond any GPU's memory, and far from overflow.
        static let largest = 100_000_000

        /// The steps of one `--prefill` (`T` or `T@C`) or `--decode` (`BxC`) value, comma-separated.
        static func parse(_ text: String, kind: Kind) throws(ValidationError) -> [Step] {
            func count(_ part: Substring, least: Int) -> Int? {
                guard part.allSatisfy(\.isASCII), let value = Int(part), (least...largest).contains(value) else {
                    return nil
                }
                return value
            }
            var steps: [Step] = []
            for item in text.split(separator: ",", omittingEmptySubsequences: false) {
                let parts = item.split(separator: kind == .prefill ? "@" : "x", omittingEmptySubsequences: false)
                var step: Step?
                switch (kind, parts.count) {
                case (.prefill, 1): step = count(parts[0], least: 1).map { Step.prefill(tokens: $0) }
                case (.prefill, 2):
                    if let tokens = count(parts[0], least: 1), let context = count(parts[1], least: 0) {
                        step = .prefill(tokens: tokens, context: context)
                    }
                case (.decode, 2):
                    if let batch = count(parts[0], least: 1), let context = count(parts[1], least: 1) {
                        step = .decode(batch: batch, context: context)
                    }
                default: break
                }
                guard let step else {
                    let expected =
                        kind == .prefill
                        ? "T or T@C (T ≥ 1 prompt tokens after C ≥ 0 cached ones), like 1024 or 512@2048"
                        : "BxC (B ≥ 1 sequences holding C ≥ 1 tokens of context each), like 4x576"
                    throw ValidationError(
                        "--\(kind.rawValue): '\(item)' is not a \(kind.rawValue) step; expected \(expected), "
                            + "comma-separated, each number at most \(largest)")
                }
                steps.append(step)
            }
            return steps
        }
    }

    /// The steps as a JSON array, one object a line: `kind`, `batch`, `tokens`, `context`, then each timing model's
    /// step time in ms under its name (models without an answer left out). Keys in that fixed order; the times
    /// are whole nanoseconds / 10⁶ as a Double prints them (shortest text that reads back to the same value).
    static func json(_ steps: [Step], models: [(name: String, model: (any StepTimingModel)?)]) -> String {
        let objects = steps.map { step in
            var fields = [
                "\"kind\": \"\(step.kind.rawValue)\"", "\"batch\": \(step.batch)", "\"tokens\": \(step.tokens)",
                "\"context\": \(step.context)",
            ]
            for (name, model) in models {
                guard let model else { continue }
                fields.append("\"\(name)\": \(model.stepDuration(step.shape).milliseconds)")
            }
            return "  {" + fields.joined(separator: ", ") + "}"
        }
        return "[\n" + objects.joined(separator: ",\n") + "\n]\n"
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

    static func table(_ deployment: ModelDeployment, profile: RooflineTiming.Factors? = nil) -> String {
        rows(deployment, probes: standardProbes, memory: true, profile: profile)
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

    static func rows(
        _ deployment: ModelDeployment, probes: [Probe], memory: Bool = false, profile: RooflineTiming.Factors? = nil
    ) -> String {
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
        let models = timingModels(deployment, profile: profile)
        let width = max(probes.map(\.label.count).max() ?? 0, 4) + 2
        // A column per model, as wide as its header, four spaces between columns.
        let headers = models.map { "\($0.name) ms" }
        text += "step".padding(toLength: width, withPad: " ", startingAt: 0) + headers.joined(separator: "    ") + "\n"
        for probe in probes {
            let cells = zip(headers, models).map { header, entry in
                let cell = entry.model.map { String(format: "%.3f", $0.stepDuration(probe.shape).milliseconds) } ?? "-"
                return String(repeating: " ", count: max(0, header.count - cell.count)) + cell
            }
            text += probe.label.padding(toLength: width, withPad: " ", startingAt: 0)
            text += cells.joined(separator: "    ") + "\n"
        }
        return text
    }
}
