import Fleet
import Scenarios
import Testing

/// `concurrency`, `think-time` and `requests` in a workload, and a scenario without `horizon`.
@Suite struct ClosedLoopParsingTests {
    static let benchmark = Support.scenario(
        ["horizon: 10m\n": "", "warmup: 1m\n": "", "    rate: 20/s\n": "    concurrency: 8\n    requests: 500\n"],
        appending: "    think-time: 2s\n    input-tokens: 5000\n")

    @Test func aClosedLoopBenchmarkNeedsNoHorizon() throws {
        let scenario = try ScenarioLoader.parse(Self.benchmark, file: "b.yaml")
        let workload = scenario.fleet.workloads[0]
        #expect(workload.concurrency == 8 && workload.maxRequests == 500 && workload.thinkTimeSeconds == .constant(2))
        #expect(workload.inputTokens == .constant(5000))
        #expect(scenario.fleet.endsWhenDone && scenario.fleet.horizon == FleetSpec.untilDoneHorizon)
        // With a horizon it is a cap; an open-loop workload with `requests` also ends when done.
        let capped = try ScenarioLoader.parse("horizon: 1h\n" + Self.benchmark, file: "b.yaml")
        #expect(capped.fleet.endsWhenDone && capped.fleet.horizon == .seconds(3600))
        let open = try ScenarioLoader.parse(
            Support.scenario(["    rate: 20/s\n": "    rate: 20/s\n    requests: 100\n"]), file: "o.yaml")
        #expect(open.fleet.endsWhenDone && open.fleet.workloads[0].maxRequests == 100)
        #expect(!(try ScenarioLoader.parse(Support.scenario(), file: "p.yaml")).fleet.endsWhenDone)
    }

    @Test func closedLoopMistakesAreLocated() throws {
        let withRate = Support.error(
            Support.scenario(["    rate: 20/s\n": "    rate: 20/s\n    concurrency: 4\n"]))
        #expect(withRate?.line == 11 && withRate?.path == "workloads[0].rate")
        #expect(withRate?.message.contains("does not apply to a closed-loop workload") == true)
        let thinking = Support.error(Support.scenario(appending: "    think-time: 1s\n"))
        #expect(
            thinking?.path == "workloads[0].think-time" && thinking?.message.contains("needs `concurrency`") == true)
        let zero = Support.error(Support.scenario(["    rate: 20/s\n": "    concurrency: 0\n"]))
        #expect(zero?.path == "workloads[0].concurrency")
        let noRequests = Support.error(
            Support.scenario(["horizon: 10m\n": "", "warmup: 1m\n": "", "    rate: 20/s\n": "    concurrency: 4\n"]))
        #expect(noRequests?.message.hasPrefix("missing required key `horizon`") == true)
    }
}

/// The vLLM CI benchmark as a whole closed-loop run (docs/calibration.md, "Cross-check against published serving
/// numbers"): 8 clients, 8 requests of 32 prompt and 128 output tokens, Llama-3.1-8B on one H200. Published: mean
/// E2E 833.4 ms. The roofline runs about 20% fast for small-batch decode (the same table, per step); the test
/// holds it within 25%. (The first client's request starts a step alone; the other seven join the next one.)
@Suite struct PublishedClosedLoopTests {
    @Test func vllmCIBatchOfEightOnAnH200() throws {
        let text = """
            name: vllm-ci
            policies: [round-robin]
            pools:
              - name: h200
                replicas: 1
                gpu: {hardware: H200-141GB, model: Llama-3.1-8B}
            workloads:
              - name: bench
                concurrency: 8
                requests: 8
                input-tokens: 32
                output-tokens: 128
            """
        let scenario = try ScenarioLoader.parse(text, file: "vllm-ci.yaml")
        let output = try FleetRun.execute(scenario.fleet, policy: "round-robin", seed: 1)
        let e2e = output.requests.compactMap(\.e2e).map(\.seconds)
        #expect(e2e.count == 8 && output.requests.allSatisfy { $0.status == .completed })
        let mean = e2e.reduce(0, +) / 8 * 1000
        #expect(abs(mean - 833.4) / 833.4 < 0.25, "mean E2E \(mean) ms against 833.4 ms published")
    }
}

/// scenarios/moe-vs-dense.yaml shows what its comment says: the MoE decodes faster than the dense model at every
/// client count, and its advantage shrinks as the batches grow.
@Suite struct MoEVersusDenseScenarioTests {
    @Test func theMoEsAdvantageShrinksAsBatchesGrow() throws {
        let path = Support.repositoryRoot.appendingPathComponent("scenarios/moe-vs-dense.yaml").path
        let scenario = try ScenarioLoader.load(path: path)
        let output = try FleetRun.execute(scenario.fleet, policy: "round-robin", seed: scenario.seed)
        #expect(output.requests.allSatisfy { $0.status == .completed })
        func medianTPOT(_ workload: String) -> Double {
            let index = scenario.fleet.workloads.firstIndex { $0.name == workload }!
            let values = output.requests.filter { $0.workload.index == index }.compactMap(\.tpot).map(\.seconds)
                .sorted()
            return values[values.count / 2]
        }
        let ratios = [1, 8, 64].map { clients in medianTPOT("dense-c\(clients)") / medianTPOT("moe-c\(clients)") }
        #expect(ratios.allSatisfy { $0 > 1.2 }, "\(ratios)")
        #expect(ratios[0] > ratios[1] && ratios[1] > ratios[2], "\(ratios)")
        #expect(ratios[0] > 4, "at one client the MoE reads about 1/16 of its experts: \(ratios)")
    }
}
