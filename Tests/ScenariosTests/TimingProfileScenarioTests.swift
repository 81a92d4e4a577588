import Foundation
import Scenarios
import TestSupport
import Testing

/// `timing: {profile: FILE}`: a calibrated profile times the pool, only for its own setup, and a bad profile is
/// reported where the scenario names it and where the profile goes wrong.
@Suite struct TimingProfileScenarioTests {
    static let profile = """
        profile: 1
        setup:
          hardware: H100
          model: Llama-3.1-8B
          tensor-parallel-size: 1
        parameters:
          compute-efficiency: 0.5
          memory-efficiency: 0.7
          step-overhead-us: 900
          per-sequence-overhead-us: 12

        """

    static func scenario(model: String = "Llama-3-8B", profile: String = "p.yaml") -> String {
        """
        horizon: 1m
        pools:
          - name: h100
            replicas: 1
            gpu: {hardware: H100-80GB, model: \(model), timing: {profile: \(profile)}}
        workloads:
          - name: chat
            rate: 2/s

        """
    }

    static func load(_ scenario: String, profile: String) throws -> Result<Scenario, ScenarioError> {
        try TemporaryDirectory.with("timing-profile") { folder in
            try profile.write(to: folder.appendingPathComponent("p.yaml"), atomically: true, encoding: .utf8)
            let path = folder.appendingPathComponent("s.yaml")
            try scenario.write(to: path, atomically: true, encoding: .utf8)
            return Result { () throws(ScenarioError) in try ScenarioLoader.load(path: path.path) }
        }
    }

    @Test func aProfileTimesItsPoolWithItsFactors() throws {
        let scenario = try Self.load(Self.scenario(), profile: Self.profile).get()
        guard case .gpu(let gpu) = scenario.fleet.pools[0].replica, case .profile(_, let factors) = gpu.timing else {
            Issue.record("expected a profile-timed gpu pool")
            return
        }
        #expect(factors.computeEfficiency == 0.5 && factors.memoryEfficiency == 0.7)
        #expect(factors.stepOverheadSeconds == 900e-6 && factors.perSequenceOverheadSeconds == 12e-6)
        // Unwritten parameters keep the datasheet defaults.
        #expect(factors.allReduceLatencySeconds == RooflineTiming.Factors.defaults.allReduceLatencySeconds)
        #expect(factors.attentionComputeEfficiency == nil)
    }

    @Test func aProfileForAnotherSetupIsRefusedAtProfile() throws {
        guard case .failure(let error) = try Self.load(Self.scenario(model: "Qwen3-32B"), profile: Self.profile)
        else {
            Issue.record("a profile for Llama-3-8B was accepted for a Qwen3-32B pool")
            return
        }
        #expect(error.path == "pools[0].gpu.timing.profile" && error.line == 5)
        #expect(
            error.message.contains(
                "`p.yaml` was calibrated for H100-80GB, Llama-3-8B, tensor-parallel-size 1, but this pool runs "
                    + "H100-80GB, Qwen3-32B, tensor-parallel-size 1"))
    }

    @Test func aBrokenProfileIsLocatedInTheScenarioAndInTheProfile() throws {
        let broken = Self.profile.replacingOccurrences(of: "memory-efficiency: 0.7", with: "memory-efficency: 0.7")
        guard case .failure(let error) = try Self.load(Self.scenario(), profile: broken) else {
            Issue.record("a profile with an unknown key was accepted")
            return
        }
        #expect(error.path == "pools[0].gpu.timing.profile")
        #expect(error.message.hasPrefix("p.yaml:8:3: at parameters.memory-efficency: unknown key `memory-efficency`"))
        guard case .failure(let missing) = try Self.load(Self.scenario(profile: "nowhere.yaml"), profile: Self.profile)
        else {
            Issue.record("a missing profile was accepted")
            return
        }
        #expect(missing.kind == .fileNotFound && missing.path == "pools[0].gpu.timing.profile")
    }
}
