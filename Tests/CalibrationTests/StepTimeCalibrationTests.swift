import Calibration
import Foundation
import Scenarios
import TestSupport
import Testing

/// Step-time CSVs: reading, recovering known factors, the held-out error, and located errors.
@Suite struct StepTimeCalibrationTests {
    /// Llama-3-70B on two H100s: every term of the roofline is present (all-reduce included).
    static let deployment = ModelDeployment(
        gpu: GPUSpec.named("H100-80GB")!, model: LLMSpec.named("Llama-3-70B")!, tensorParallelSize: 2)

    /// Factors unlike the defaults; the all-reduce latency stays at its default, since it cannot be told apart from
    /// the step overhead (both add to every step) and so is never fitted.
    static let truth = RooflineTiming.Factors(
        computeEfficiency: 0.55, memoryEfficiency: 0.82, allReduceBandwidthEfficiency: 0.45,
        stepOverheadSeconds: 700e-6,
        attentionComputeEfficiency: 0.38, perSequenceOverheadSeconds: 15e-6)

    /// Prefills of 128–16,384 tokens with and without cached context, and decodes of 1–256 sequences at 256–8,192.
    static func csv(_ factors: RooflineTiming.Factors, noise: (Int) -> Double = { _ in 1 }) -> String {
        let timing = RooflineTiming(deployment, factors: factors)
        var rows = ["kind,batch,tokens,context,ms"]
        var index = 0
        func row(_ kind: String, _ batch: Int, _ tokens: Int, _ context: Int, _ shape: StepShape) {
            let ms = timing.stepDuration(shape).milliseconds * noise(index)
            rows.append("\(kind),\(batch),\(tokens),\(context),\(ms)")
            index += 1
        }
        for tokens in [128, 512, 2_048, 8_192, 16_384] {
            for context in [0, 8_192] { row("prefill", 1, tokens, context, .prefill(tokens: tokens, context: context)) }
        }
        for batch in [1, 4, 16, 64, 256] {
            for context in [256, 2_048, 8_192] {
                row("decode", batch, batch, context, .decode(batch: batch, context: context))
            }
        }
        return rows.joined(separator: "\n") + "\n"
    }

    @Test func recoversKnownFactorsWithinTwoPercent() throws {
        let samples = try StepTimeFile.parse(Self.csv(Self.truth), file: "truth.csv")
        #expect(samples.count == 25)
        let fit = StepTimeFit.fit(samples, deployment: Self.deployment)
        for parameter in fit.fitted {
            let expected = parameter.value(in: Self.truth)
            let got = parameter.value(in: fit.factors)
            #expect(abs(got - expected) / expected < 0.02, "\(parameter.rawValue): \(got) against \(expected)")
        }
        // Everything the data can see is fitted; only the latency is held, and it stays at its (true) default.
        #expect(
            fit.fitted == [
                .computeEfficiency, .attentionComputeEfficiency, .memoryEfficiency, .allReduceBandwidthEfficiency,
                .stepOverhead, .perSequenceOverhead,
            ])
        #expect(fit.held.map(\.parameter) == [.allReduceLatency])
        #expect(fit.factors.allReduceLatencySeconds == Self.truth.allReduceLatencySeconds)
    }

    /// ±3% deterministic noise: the profile predicts each held-out step within the held-out error it reports, and
    /// that error is of the size of the noise (tolerance: 3× the noise, as a step fitted without itself can
    /// move the factors a little toward the others' noise).
    @Test func heldOutPointsArePredictedWithinTheReportedAccuracy() throws {
        let noise: (Int) -> Double = { 1 + 0.03 * sin(Double($0) * 2.399) }
        try TemporaryDirectory.with("calibrate") { folder in
            let path = folder.appendingPathComponent("steps.csv").path
            try Self.csv(Self.truth, noise: noise).write(toFile: path, atomically: true, encoding: .utf8)
            let profile = try Calibrator.calibrate(
                [.init(path: path, written: "steps.csv")], deployment: Self.deployment, writtenBy: "test")
            let heldOut = try #require(profile.heldOutError)
            #expect(profile.leaveOneOutUnit == "point" && profile.points.allSatisfy { $0.heldOut != nil })
            #expect(heldOut.worst < 0.09 && heldOut.mean < 0.05, "held-out \(heldOut)")
            #expect(profile.fitError.worst <= heldOut.worst)
            for point in profile.points { #expect(abs(point.heldOutError!) <= heldOut.worst) }
            // The file round-trips: what a scenario reads is what was fitted.
            let text = TimingProfileFile.text(profile)
            let read = try TimingProfileFile.parse(text, file: "p.yaml")
            #expect(read.factors == profile.factors && read.setup == profile.setup)
            #expect(read.points.count == profile.points.count && read.inputs == profile.inputs)
            #expect(profile.inputs.first?.sha256.count == 64)
        }
    }

    @Test func malformedStepFilesGetLocatedErrors() {
        func error(_ text: String) -> ScenarioError? {
            do {
                _ = try StepTimeFile.parse(text, file: "s.csv")
                return nil
            } catch { return error }
        }
        let badNumber = error("kind,batch,tokens,context,ms\ndecode,8,8,576,abc\n")
        #expect(badNumber?.line == 2 && badNumber?.column == 16 && badNumber?.path == "ms")
        #expect(badNumber?.description == "s.csv:2:16: error: at ms: expected a step time in ms > 0, found `abc`")
        let badKind = error("kind,batch,tokens,context,ms\nprefil,1,512,0,3.2\n")
        #expect(badKind?.path == "kind" && badKind?.message.contains("expected `prefill` or `decode`") == true)
        let mismatch = error("kind,batch,tokens,context,ms\ndecode,8,9,576,7.1\n")
        #expect(mismatch?.line == 2 && mismatch?.column == 10 && mismatch?.path == "tokens")
        let header = error("kind,batch,tokens,ms\n")
        #expect(header?.line == 1 && header?.message.contains("no column `context`") == true)
        let short = error("kind,batch,tokens,context,ms\ndecode,8,8\n")
        #expect(short?.line == 2 && short?.path == "context")
        #expect(error("# only a comment\n")?.message.contains("empty") == true)
    }
}
