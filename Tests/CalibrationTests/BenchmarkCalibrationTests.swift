import Calibration
import Foundation
import Scenarios
import TestSupport
import Testing

/// `vllm bench serve` JSON: recovering a known profile from benchmarks the simulator itself ran, the model check,
/// and located errors.
@Suite struct BenchmarkCalibrationTests {
    static let deployment = ModelDeployment(gpu: GPUSpec.named("H100-80GB")!, model: LLMSpec.named("Llama-3-8B")!)
    static let truth = RooflineTiming.Factors(
        computeEfficiency: 0.5, memoryEfficiency: 0.68, stepOverheadSeconds: 1.4e-3, perSequenceOverheadSeconds: 20e-6)

    /// Closed-loop runs at 1 and 16 clients with short and long prompts: the long prompts' KV reads separate the
    /// memory efficiency from the step overhead, and the client counts separate the per-sequence overhead.
    static let designs: [(input: Int, clients: Int, requests: Int)] = [
        (256, 1, 3), (256, 16, 16), (4_096, 1, 3), (4_096, 16, 16),
    ]

    /// A result file as `vllm bench serve --save-result` writes it, with the values the simulator gives under
    /// `factors`.
    static func json(input: Int, clients: Int, requests: Int, factors: RooflineTiming.Factors) throws -> String {
        let placeholder = BenchmarkResult(
            input: "x", modelID: "meta-llama/Llama-3.1-8B-Instruct", completed: requests, requestRate: nil,
            burstiness: 1, maxConcurrency: clients, meanInputTokens: Double(input), meanOutputTokens: 32,
            measured: [1, 1, 1, 1])
        let simulated = try BenchmarkReplay(placeholder, deployment: deployment).simulate(factors)
        var object: [String: Any] = [
            "date": "20261207-101500", "backend": "vllm", "model_id": "meta-llama/Llama-3.1-8B-Instruct",
            "tokenizer_id": "meta-llama/Llama-3.1-8B-Instruct", "num_prompts": requests, "request_rate": "inf",
            "burstiness": 1.0, "max_concurrency": clients, "duration": 10.0, "completed": requests,
            "total_input_tokens": input * requests, "total_output_tokens": 32 * requests,
        ]
        for (metric, value) in zip(BenchmarkResult.Metric.allCases, simulated) { object[metric.rawValue] = value }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        return String(decoding: data, as: UTF8.self)
    }

    static func write(_ folder: URL, factors: RooflineTiming.Factors) throws -> [Calibrator.InputPath] {
        try designs.map { design in
            let name = "in\(design.input)-c\(design.clients).json"
            let path = folder.appendingPathComponent(name).path
            try json(input: design.input, clients: design.clients, requests: design.requests, factors: factors)
                .write(toFile: path, atomically: true, encoding: .utf8)
            return Calibrator.InputPath(path: path, written: name)
        }
    }

    @Test func recoversTheProfileBehindSimulatedBenchmarksWithinTwoPercent() throws {
        try TemporaryDirectory.with("calibrate-bench") { folder in
            let inputs = try Self.write(folder, factors: Self.truth)
            let profile = try Calibrator.calibrate(
                inputs, deployment: Self.deployment, writtenBy: "test", leaveOneOut: false)
            #expect(
                profile.fitted == [.computeEfficiency, .memoryEfficiency, .stepOverhead, .perSequenceOverhead],
                "held: \(profile.held)")
            for parameter in profile.fitted {
                let expected = parameter.value(in: Self.truth)
                let got = parameter.value(in: profile.factors)
                #expect(abs(got - expected) / expected < 0.02, "\(parameter.rawValue): \(got) against \(expected)")
            }
            #expect(profile.fitError.worst < 0.01)
        }
    }

    @Test func benchmarkMistakesAreLocated() throws {
        let good = try Self.json(input: 256, clients: 4, requests: 4, factors: .defaults)
        func error(_ text: String) -> ScenarioError? {
            do {
                _ = try BenchmarkResultFile.parse(text, file: "b.json")
                return nil
            } catch { return error }
        }
        #expect(error(good) == nil)
        let missing = error(good.replacingOccurrences(of: "\"median_tpot_ms\"", with: "\"median_tpot\""))
        #expect(missing?.path == "median_tpot_ms" && missing?.message.hasPrefix("missing `median_tpot_ms`") == true)
        let wrongType = error(good.replacingOccurrences(of: "\"completed\" : 4", with: "\"completed\" : \"four\""))
        #expect(wrongType?.path == "completed" && wrongType?.line != nil && wrongType?.column == 3)
        let syntax = error("{\n  \"model_id\": \"x\",\n  oops\n}")
        #expect(syntax?.line == 3 && syntax?.message.contains("not valid JSON") == true)
        // A model id that names another built-in model than --model.
        try TemporaryDirectory.with("calibrate-model") { folder in
            let path = folder.appendingPathComponent("b.json").path
            try good.replacingOccurrences(of: "Llama-3.1-8B-Instruct", with: "Llama-3.1-70B-Instruct")
                .write(toFile: path, atomically: true, encoding: .utf8)
            let failure = #expect(throws: ScenarioError.self) {
                try Calibrator.calibrate(
                    [.init(path: path, written: "b.json")], deployment: Self.deployment, writtenBy: "t")
            }
            if let error = failure {
                #expect(error.path == "model_id" && error.line != nil)
                #expect(error.message.contains("is Llama-3-70B, but --model is Llama-3-8B"))
            }
        }
    }
}
