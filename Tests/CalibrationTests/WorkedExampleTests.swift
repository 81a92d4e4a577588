import Calibration
import Foundation
import Scenarios
import SimKernel
import TestSupport
import Testing

/// The worked example of docs/calibration.md ("Calibrate to your fleet"): SYNTHETIC `vllm bench serve` results in
/// `scenarios/calibration/`, the profile `infermesh calibrate` made of them, and the scenario that uses it.
///
/// The files are made here, by the simulator under a hidden profile (`truth`) with ±2% of deterministic noise on every
/// measured value, because we have no H100 results of our own to ship. Regenerate them with
/// `INFERMESH_WRITE_CALIBRATION_EXAMPLE=1 swift test --filter WorkedExampleTests`, then re-run the calibrate command
/// in scenarios/calibration/README.md.
@Suite struct WorkedExampleTests {
    static let folder = Repository.root.appendingPathComponent("scenarios/calibration")
    static let profilePath = Repository.root.appendingPathComponent(
        "scenarios/profiles/example-h100-llama31-8b.yaml")
    static let deployment = ModelDeployment(gpu: GPUSpec.named("H100-80GB")!, model: LLMSpec.named("Llama-3.1-8B")!)
    static let truth = RooflineTiming.Factors(
        computeEfficiency: 0.58, memoryEfficiency: 0.71, stepOverheadSeconds: 0.9e-3, perSequenceOverheadSeconds: 12e-6)
    static let designs: [(input: Int, clients: Int)] = [
        (512, 1), (512, 16), (512, 64), (4_096, 1), (4_096, 16), (4_096, 64),
    ]

    static func name(_ design: (input: Int, clients: Int)) -> String {
        "h100-llama31-8b-in\(design.input)-c\(design.clients).json"
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["INFERMESH_WRITE_CALIBRATION_EXAMPLE"] == "1"))
    func writeTheSyntheticResults() throws {
        try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
        for (index, design) in Self.designs.enumerated() {
            let requests = max(8, design.clients * 4)
            let placeholder = BenchmarkResult(
                input: "x", modelID: "meta-llama/Llama-3.1-8B-Instruct", completed: requests, requestRate: nil,
                burstiness: 1, maxConcurrency: design.clients, meanInputTokens: Double(design.input),
                meanOutputTokens: 128, measured: [1, 1, 1, 1])
            let simulated = try BenchmarkReplay(placeholder, deployment: Self.deployment).simulate(Self.truth)
            var object: [String: Any] = [
                "SYNTHETIC": "made by the InferMesh simulator under a hidden profile with 2% noise, not measured; "
                    + "see scenarios/calibration/README.md",
                "date": "20261207-120000", "backend": "vllm", "model_id": "meta-llama/Llama-3.1-8B-Instruct",
                "tokenizer_id": "meta-llama/Llama-3.1-8B-Instruct", "num_prompts": requests, "request_rate": "inf",
                "burstiness": 1.0, "max_concurrency": design.clients, "completed": requests,
                "total_input_tokens": design.input * requests, "total_output_tokens": 128 * requests,
            ]
            for (m, (metric, value)) in zip(BenchmarkResult.Metric.allCases, simulated).enumerated() {
                let noise = 1 + 0.02 * sin(Double(index * 4 + m) * 2.399)
                object[metric.rawValue] = (value * noise * 100).rounded() / 100
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
            try data.write(to: Self.folder.appendingPathComponent(Self.name(design)))
        }
    }

    /// Step times of Llama-2-70B at TP 4 on H100s, from the fitted Vidur profiles (docs/calibration.md, "What is
    /// fitted"): Vidur's per-operator measurements summed into whole steps, within the ranges Vidur measured. Derived
    /// data, not a run of ours; the profile made of it says how far the roofline's form can follow measured steps.
    static let vidurSteps = Repository.root.appendingPathComponent(
        "scenarios/calibration/vidur-h100-llama2-70b-tp4-steps.csv")
    static let vidurDeployment = ModelDeployment(
        gpu: GPUSpec.named("H100-80GB")!, model: LLMSpec.named("Llama-2-70B")!, tensorParallelSize: 4)

    @Test(.enabled(if: ProcessInfo.processInfo.environment["INFERMESH_WRITE_CALIBRATION_EXAMPLE"] == "1"))
    func writeTheVidurStepTimes() throws {
        let fitted = try #require(FittedProfileTiming.profile(for: Self.vidurDeployment))
        var rows = [
            "# Step times of Llama-2-70B, TP 4, H100: Vidur's per-operator profiles (MIT) summed into steps by InferMesh's",
            "# fitted model (docs/calibration.md). Derived from measurements, not measured as whole steps.",
            "kind,batch,tokens,context,ms",
        ]
        for tokens in [128, 256, 512, 1_024, 2_048, 4_096] {
            for context in [0, 1_024, 3_072] where tokens + context <= 4_096 {
                let ms = fitted.stepDuration(.prefill(tokens: tokens, context: context)).milliseconds
                rows.append("prefill,1,\(tokens),\(context),\(String(format: "%.4f", ms))")
            }
        }
        for batch in [1, 2, 4, 8, 16, 32, 64, 128] {
            for context in [256, 1_024, 4_000] {
                let ms = fitted.stepDuration(.decode(batch: batch, context: context)).milliseconds
                rows.append("decode,\(batch),\(batch),\(context),\(String(format: "%.4f", ms))")
            }
        }
        try (rows.joined(separator: "\n") + "\n").write(to: Self.vidurSteps, atomically: true, encoding: .utf8)
    }

    /// Refitting the committed step times gives the committed profile, errors included.
    @Test func theVidurStepProfileIsWhatCalibrateWrites() throws {
        let path = Repository.root.appendingPathComponent("scenarios/profiles/vidur-h100-llama2-70b-tp4.yaml")
        let committed = try TimingProfileFile.read(path: path.path, written: "vidur profile")
        let refitted = try Calibrator.calibrate(
            [.init(path: Self.vidurSteps.path, written: "scenarios/calibration/vidur-h100-llama2-70b-tp4-steps.csv")],
            deployment: Self.vidurDeployment, writtenBy: committed.writtenBy)
        #expect(TimingProfileFile.text(refitted) == (try String(contentsOf: path, encoding: .utf8)))
    }

    /// The committed profile is what the committed inputs give today: each input's SHA-256 matches, and simulating
    /// each benchmark with the profile's factors gives the predictions it records (to its six digits).
    @Test func theCommittedProfileMatchesItsInputsAndTheSimulator() throws {
        let profile = try TimingProfileFile.read(path: Self.profilePath.path, written: "example profile")
        #expect(profile.setup == TimingProfile.Setup(Self.deployment))
        #expect(profile.inputs.count == Self.designs.count && profile.heldOutError != nil)
        for input in profile.inputs {
            let path = Repository.root.appendingPathComponent(input.file).path
            let data = try #require(FileManager.default.contents(atPath: path))
            #expect(SHA256.hex(of: data) == input.sha256, "\(input.file) changed since the profile was fitted")
            let result = try BenchmarkResultFile.read(path: path, written: input.file)
            let simulated = try BenchmarkReplay(result, deployment: Self.deployment).simulate(profile.factors)
            let recorded = profile.points.filter { $0.input == input.file }.map(\.predicted)
            #expect(recorded.count == simulated.count)
            for (r, s) in zip(recorded, simulated) {
                #expect(abs(r - s) / s < 1e-5, "\(input.file): \(r) against \(s)")
            }
        }
        // The scenario of the walk-through reads it.
        let scenario = try ScenarioLoader.load(
            path: Repository.root.appendingPathComponent("scenarios/calibrated-h100-llama31-8b.yaml").path)
        guard case .gpu(let gpu) = scenario.fleet.pools[0].replica else {
            Issue.record("expected a gpu pool")
            return
        }
        #expect(gpu.timing == .profile(Self.deployment, profile.factors))
    }
}
