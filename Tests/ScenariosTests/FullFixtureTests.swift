import Foundation
import Scenarios
import Testing

/// A fixture that sets every key maps to exactly the expected specs; defaults fill in what a minimal one omits.
@Suite struct FullFixtureTests {
    @Test func everyKeyMapsToTheSpec() throws {
        let path = try Support.fixture("full.yaml").path
        let scenario = try ScenarioLoader.load(path: path)

        let expected = FleetSpec(
            pools: [
                PoolSpec(
                    name: "gpu", replicas: 4,
                    replica: .station(
                        StationSpec(
                            servers: 2, serviceSeconds: .lognormal(mean: 0.4, cv: 1.5), maxQueue: 100))),
                PoolSpec(
                    name: "cpu.small_1", replicas: 1,
                    replica: .station(
                        StationSpec(
                            servers: 1, serviceSeconds: .constant(1.5)))),
            ],
            workloads: [
                WorkloadSpec(
                    name: "chat", ratePerSecond: 20, arrival: .gamma(cv: 2), inputTokens: .constant(250),
                    outputTokens: .lognormal(mean: 225, cv: 1), pool: "gpu", timeout: .seconds(30),
                    criticality: .critical, slo: SLO(e2e: .seconds(5))),
                WorkloadSpec(
                    name: "batch", ratePerSecond: 0.5, arrival: .deterministic,
                    inputTokens: .empirical(try #require(EmpiricalTable(values: [100, 200], weights: [3, 1]))),
                    outputTokens: .poisson(mean: 40), pool: "cpu.small_1", criticality: .sheddable),
                WorkloadSpec(
                    name: "probe", ratePerSecond: 3.0 / 3600, arrival: .weibull(cv: 0.5), pool: "gpu",
                    timeout: .microseconds(250)),
            ],
            horizon: .seconds(5400), warmup: .seconds(90), drain: false, drainTimeout: .milliseconds(250),
            sampleInterval: .milliseconds(500),
            slo: SLO(ttft: .milliseconds(500), tpot: .milliseconds(50), e2e: .seconds(2)))

        #expect(scenario.fleet == expected)
        #expect(scenario.name == "full-fixture")
        #expect(scenario.description == "Every key, for the mapping test.")
        #expect(scenario.seed == UInt64.max)
        #expect(scenario.replications == 3)
        #expect(scenario.policies == ["least-connections", "round-robin"])
        #expect(scenario.file == path)
        #expect(scenario.sourceText == (try String(contentsOfFile: path, encoding: .utf8)))
        #expect(
            scenario.fleet.slo(for: WorkloadID(0))
                == SLO(ttft: .milliseconds(500), tpot: .milliseconds(50), e2e: .seconds(5)))
    }

    @Test func defaults() throws {
        let scenario = try ScenarioLoader.load(path: Support.fixture("minimal.yaml").path)
        #expect(scenario.name == "minimal")
        #expect(scenario.description == "")
        #expect(scenario.seed == 1)
        #expect(scenario.replications == 1)
        #expect(scenario.policies == PolicyRegistry.names)
        let expected = FleetSpec(
            pools: [
                PoolSpec(
                    name: "solo", replicas: 1, replica: .station(StationSpec(servers: 1, serviceSeconds: .constant(1))))
            ],
            workloads: [
                WorkloadSpec(
                    name: "w", ratePerSecond: 1, arrival: .poisson, inputTokens: .constant(0),
                    outputTokens: .constant(1), pool: "solo", timeout: nil, criticality: .standard,
                    slo: SLO())
            ],
            horizon: .seconds(60), warmup: .zero, drain: true, drainTimeout: .seconds(3600),
            sampleInterval: .seconds(1), slo: SLO())
        #expect(scenario.fleet == expected)
        // sha256sum Tests/ScenariosTests/Fixtures/minimal.yaml
        #expect(scenario.sha256 == "a9077b05d492652f7173bde98855aa207ad5b55ceb6497cd22653c7213fca6f9")
    }

    @Test func samplingCanBeTurnedOff() throws {
        for value in ["none", "null", "~", ""] {
            let text = Support.scenario(appending: "sample-interval: \(value)\n")
            #expect(try ScenarioLoader.parse(text, file: "t.yaml").fleet.sampleInterval == nil, "\(value)")
        }
        #expect(Support.error(Support.scenario(appending: "sample-interval: 0s\n"))?.path == "sample-interval")
        #expect(Support.error(Support.scenario(appending: "sample-interval: \"none\"\n"))?.path == "sample-interval")
    }

    @Test func defaultNameComesFromTheFile() throws {
        let text = Support.scenario()
        #expect(try ScenarioLoader.parse(text, file: "dir/my-run.yaml").name == "my-run")
        #expect(try ScenarioLoader.parse(text, file: "my run.v2.yml").name == "my-run.v2")
        #expect(try ScenarioLoader.parse(text, file: "<stdin>").name == "-stdin-")
        #expect(try ScenarioLoader.parse(text, file: "").name == "scenario")
    }

    @Test func hashIsOfTheExactText() throws {
        let a = try ScenarioLoader.parse(Support.scenario(), file: "a.yaml")
        let b = try ScenarioLoader.parse(Support.scenario() + "# a comment changes the hash\n", file: "a.yaml")
        #expect(a.sha256.count == 64)
        #expect(a.sha256.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(a.sha256 != b.sha256)
        #expect(a.fleet == b.fleet)
    }
}

/// The `gpu` replica block.
@Suite struct GPUBlockTests {
    static func scenario(_ gpu: String) -> String {
        """
        horizon: 1m
        pools:
          - name: p
            replicas: 2
            gpu: \(gpu)
        workloads:
          - name: w
            rate: 1/s
        """
    }

    @Test func readsEngineSettingsUnderVLLMNames() throws {
        let loaded = try ScenarioLoader.parse(
            Self.scenario(
                "{hardware: H100-80GB, model: Llama-3-8B, max-num-seqs: 64, max-num-batched-tokens: 4096, "
                    + "block-size: 32, enable-prefix-caching: false, enable-chunked-prefill: false, num-gpu-blocks: 1000}"
            ),
            file: "t.yaml")
        let expected = GPUReplicaSpec(
            engine: EngineSettings(
                maxNumSeqs: 64, maxNumBatchedTokens: 4096, blockSize: 32, enablePrefixCaching: false,
                enableChunkedPrefill: false),
            kvBlocks: 1_000, timing: .fitted(ModelDeployment(gpu: .h100_80GB, model: .llama3_8B)))
        #expect(loaded.fleet.pools[0].replica == .gpu(expected))
    }

    @Test func kvCapacityComesFromMemory() throws {
        // Qwen3-32B at TP2 on H100-80GB with 0.9 utilization holds about 300k tokens of KV (the issue's figure).
        let loaded = try ScenarioLoader.parse(
            Self.scenario("{hardware: H100-80GB, model: Qwen3-32B, tensor-parallel-size: 2}"), file: "t.yaml")
        guard case .gpu(let spec) = loaded.fleet.pools[0].replica else {
            Issue.record("not a gpu pool")
            return
        }
        #expect((280_000...320_000).contains(spec.kvBlocks * spec.engine.blockSize), "\(spec.kvBlocks) blocks")
        // No fitted profile exists for Qwen3-32B: the roofline is chosen.
        #expect(spec.timing == .roofline(ModelDeployment(gpu: .h100_80GB, model: .qwen3_32B, tensorParallelSize: 2)))
    }

    @Test func badNamesGetLocatedErrors() {
        #expect(throws: ScenarioError.self) {
            try ScenarioLoader.parse(Self.scenario("{hardware: H100-80G, model: Llama-3-8B}"), file: "t.yaml")
        }
        do {
            _ = try ScenarioLoader.parse(
                Self.scenario("{hardware: L4, model: Llama-3-8B, timing: fited}"), file: "t.yaml")
            Issue.record("accepted an unknown timing model")
        } catch {
            #expect(error.description.hasPrefix("t.yaml:5:"))
            #expect(error.description.contains("did you mean `fitted`?"))
        }
        do {
            _ = try ScenarioLoader.parse(Self.scenario("{hardware: L4, model: Llama-2-70B}"), file: "t.yaml")
            Issue.record("accepted a model that does not fit")
        } catch {
            #expect(error.description.contains("does not fit"))
        }
    }
}
