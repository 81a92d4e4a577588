import Foundation
import InferMeshCLI
import Scenarios
import TestSupport
import Testing

/// `infermesh calibrate` from the command line: it writes a profile a scenario and `timing --profile` read, and
/// maps bad input to the exit statuses of the other commands.
@Suite struct CalibrateCommandTests {
    static let steps = Repository.root.appendingPathComponent(
        "scenarios/calibration/vidur-h100-llama2-70b-tp4-steps.csv"
    ).path

    @Test func writesAProfileThatTimingReads() throws {
        try TemporaryDirectory.with("calibrate-cli") { folder in
            let out = folder.appendingPathComponent("profiles/vidur.yaml").path
            let result = CLITests.invoke([
                "calibrate", Self.steps, "--hardware", "H100", "--model", "Llama-2-70B", "--tensor-parallel-size", "4",
                "--out", out, "--quiet",
            ])
            #expect(result.status == 0, "\(result.err)")
            #expect(result.out.contains("leave-one-out (one point at a time): mean error"))
            let profile = try TimingProfileFile.read(path: out, written: out)
            #expect(profile.points.count == 39 && profile.fitted.contains(.perSequenceOverhead))
            let timing = CLITests.invoke([
                "timing", "H100", "Llama-2-70B", "--tensor-parallel-size", "4", "--profile", out, "--decode", "8x512",
            ])
            #expect(timing.status == 0 && timing.out.contains("profile ms"))
        }
    }

    @Test func badInputGetsTheUsualStatuses() throws {
        let missing = CLITests.invoke([
            "calibrate", "/nonexistent/steps.csv", "--hardware", "H100", "--model", "Llama-3-8B", "--out",
            "/tmp/x.yaml",
        ])
        #expect(missing.status == 66 && missing.err.contains("/nonexistent/steps.csv: error: no such file"))
        let unknown = CLITests.invoke([
            "calibrate", Self.steps, "--hardware", "B300", "--model", "Llama-3-8B", "--out", "/tmp/x.yaml",
        ])
        #expect(unknown.status == 64 && unknown.err.contains("unknown hardware 'B300'"))
        let path = try TemporaryDirectory.file(
            "kind,batch,tokens,context,ms\ndecode,8,8,512,-1\n", prefix: "bad", suffix: ".csv")
        let bad = CLITests.invoke([
            "calibrate", path, "--hardware", "H100", "--model", "Llama-3-8B", "--out", "/tmp/x.yaml",
        ])
        #expect(bad.status == 65 && bad.err.contains(":2:16: error: at ms: expected a step time in ms > 0, found `-1`"))
    }
}
