import Fleet
import Foundation
import InferMeshCLI
import Scenarios
import TestSupport
import Testing

/// `infermesh timing` with `--prefill`, `--decode` and `--format`: the steps asked for, as a table or JSON, and
/// the errors for values that are not steps.
@Suite struct TimingStepsTests {
    /// Runs `infermesh timing` with `arguments`.
    static func timing(_ arguments: [String]) -> (status: Int32, out: String, err: String) {
        CLITests.invoke(["timing"] + arguments)
    }

    /// The exact JSON for one prefill after cached context and one decode step, each time as the models compute
    /// it for the step's shape (a prefill's pairs `tokens × context + tokens (tokens + 1) / 2`), printed as a Double.
    @Test func jsonGivesEachStepUnderEachModelsName() throws {
        let result = Self.timing([
            "H100-80GB", "Llama-3-8B", "--prefill", "1024@512", "--decode", "4x576", "--format", "json",
        ])
        #expect(result.status == 0, "\(result.err)")
        let prefill = StepShape(prefillTokens: 1_024, prefillAttentionPairs: 1_024.0 * 512 + 1_024.0 * 1_025 / 2)
        let decode = StepShape(decodeSequences: 4, decodeContextTokens: 4 * 576)
        let roofline = RooflineTiming(gpu: .h100_80GB, model: .llama3_8B)
        let fitted = try #require(
            FittedProfileTiming.profile(
                for: ModelDeployment(gpu: .h100_80GB, model: .llama3_8B, tensorParallelSize: 1)))
        func ms(_ model: any StepTimingModel, _ shape: StepShape) -> String {
            "\(Double(model.stepDuration(shape).nanoseconds) / 1e6)"
        }
        #expect(
            result.out == """
                [
                  {"kind": "prefill", "batch": 1, "tokens": 1024, "context": 512, "roofline": \(ms(roofline, prefill)), \
                "fitted": \(ms(fitted, prefill))},
                  {"kind": "decode", "batch": 4, "tokens": 4, "context": 576, "roofline": \(ms(roofline, decode)), \
                "fitted": \(ms(fitted, decode))}
                ]

                """)
        // It is JSON, and the numbers read back to the models' nanoseconds exactly.
        let objects = try #require(
            try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [[String: Any]])
        #expect(objects.count == 2)
        #expect(objects[1]["roofline"] as? Double == Double(roofline.stepDuration(decode).nanoseconds) / 1e6)
    }

    /// `--profile` adds a calibrated profile's step time under `profile`, as the roofline with its factors computes
    /// it; a profile for another setup is refused.
    @Test func aCalibratedProfileIsOneMoreKey() throws {
        let path = Repository.root.appendingPathComponent("scenarios/profiles/example-h100-llama31-8b.yaml").path
        let result = Self.timing(["H100", "Llama-3.1-8B", "--profile", path, "--decode", "16x576", "--format", "json"])
        #expect(result.status == 0, "\(result.err)")
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [[String: Any]])
        let factors = try TimingProfileFile.read(path: path, written: path).factors
        let step = RooflineTiming(ModelDeployment(gpu: .h100_80GB, model: .llama3_8B), factors: factors)
            .stepDuration(.decode(batch: 16, context: 576))
        #expect(objects.first?["profile"] as? Double == step.milliseconds)
        #expect(Self.timing(["H100", "Llama-3.1-8B", "--profile", path]).out.contains("profile ms"))
        let other = Self.timing(["H100", "Llama-3-70B", "--tensor-parallel-size", "2", "--profile", path])
        #expect(other.status == 65 && other.err.contains("was calibrated for H100-80GB, Llama-3-8B"))
        let missing = Self.timing(["H100", "Llama-3-8B", "--profile", "/nonexistent/p.yaml"])
        #expect(missing.status == 66 && missing.err.contains("no such timing profile"))
    }

    /// Without a fitted profile for the setup, the key is left out (not null, not zero).
    @Test func jsonLeavesOutAModelWithoutAnAnswer() {
        let result = Self.timing(["H200-141GB", "Llama-3.1-8B", "--decode", "8x96", "--format", "json"])
        let step = RooflineTiming(gpu: .h200_141GB, model: .llama3_8B).stepDuration(.decode(batch: 8, context: 96))
        #expect(result.status == 0)
        #expect(
            result.out == """
                [
                  {"kind": "decode", "batch": 8, "tokens": 8, "context": 96, "roofline": \(step.milliseconds)}
                ]

                """)
    }

    /// The table of requested steps has the standard table's header and columns, and a step the standard table
    /// also has prints the same there.
    @Test func theTableOfRequestedStepsMatchesTheStandardOne() {
        let result = Self.timing([
            "H100", "Llama-3-8B", "--prefill", "2048,512@1536", "--decode", "8x512", "--decode", "1x2048",
        ])
        #expect(result.status == 0, "\(result.err)")
        let lines = result.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 7 && lines.last == "")
        #expect(lines[0] == "H100-80GB · Llama-3-8B · TP 1")
        #expect(lines[1] == "step                           roofline ms    fitted ms")
        #expect(lines[2].hasPrefix("prefill 2048 tokens  ") && lines[3].hasPrefix("prefill 512 tokens after 1536  "))
        let standard = Self.timing(["H100", "Llama-3-8B"]).out.split(separator: "\n")
        for (label, line) in [("decode batch 8, context 512", lines[4]), ("decode batch 1, context 2048", lines[5])] {
            let row = standard.first { $0.hasPrefix(label + " ") }
            #expect(row.map { $0.split(separator: " ").suffix(2) } == line.split(separator: " ").suffix(2), "\(label)")
        }
        let noProfile = Self.timing(["H200", "Llama-3-8B", "--decode", "8x96"])
        #expect(noProfile.out.hasPrefix("H200-141GB · Llama-3-8B · TP 1 (no fitted profile)\nstep"))
        #expect(noProfile.out.hasSuffix("        -\n"))
    }

    /// Bad values name the flag and what was expected, and exit 64.
    @Test(arguments: [
        (
            ["--decode", "4x"],
            "Error: --decode: '4x' is not a decode step; expected BxC (B ≥ 1 sequences holding C ≥ 1 tokens of "
                + "context each), like 4x576, comma-separated, each number at most 100000000\n"
        ),
        (
            ["--decode", "16x576,0x12"],
            "Error: --decode: '0x12' is not a decode step; expected BxC (B ≥ 1 sequences holding C ≥ 1 tokens of "
                + "context each), like 4x576, comma-separated, each number at most 100000000\n"
        ),
        (
            ["--prefill", "-3"],
            "Error: --prefill: '-3' is not a prefill step; expected T or T@C (T ≥ 1 prompt tokens after C ≥ 0 "
                + "cached ones), like 1024 or 512@2048, comma-separated, each number at most 100000000\n"
        ),
        (
            ["--prefill", "1024,"],
            "Error: --prefill: '' is not a prefill step; expected T or T@C (T ≥ 1 prompt tokens after C ≥ 0 "
                + "cached ones), like 1024 or 512@2048, comma-separated, each number at most 100000000\n"
        ),
        (
            ["--format", "xml"],
            "Error: The value 'xml' is invalid for '--format <format>'. Please provide one of 'table' and 'json'.\n"
        ),
        (["--format", "json"], "Error: --format json prints the steps you ask for: give --prefill or --decode\n"),
    ])
    func badValuesAreRefused(arguments: [String], message: String) {
        let result = Self.timing(["H100", "Llama-3-8B"] + arguments)
        #expect(result.status == 64)
        #expect(result.err.hasPrefix(message), "\(result.err)")
        #expect(result.out.isEmpty)
    }

    @Test func crossCheckTakesNoSteps() {
        let result = Self.timing(["--cross-check", "--decode", "8x96"])
        #expect(result.status == 64)
        #expect(
            result.err.hasPrefix(
                "Error: --cross-check prints its own steps as a table; leave out --prefill, --decode and --format\n"))
    }
}
