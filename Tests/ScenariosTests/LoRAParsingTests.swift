import Fleet
import Scenarios
import Testing

/// A pool's `max-loras`, `max-lora-rank` and `lora-load-bandwidth`, and a workload's `lora`.
@Suite struct LoRAParsingTests {
    /// One GPU pool with LoRA (or without, `gpu` replaced) and one workload naming adapters.
    static func scenario(gpu: String = "max-loras: 4", lora: String = "{adapters: 3, zipf: 1.5}") -> String {
        """
        horizon: 1m
        pools:
          - name: gpu
            replicas: 2
            gpu:
              hardware: H100-80GB
              model: Llama-3-8B
              timing: roofline
              \(gpu)
        workloads:
          - name: tenants
            rate: 5/s
            lora: \(lora)

        """
    }

    @Test func keysBecomeSettingsAndAdapters() throws {
        let scenario = try ScenarioLoader.parse(
            Self.scenario(gpu: "max-loras: 4\n      max-lora-rank: 8\n      lora-load-bandwidth: 80Gbps"),
            file: "t.yaml")
        guard case .gpu(let gpu) = scenario.fleet.pools[0].replica, let lora = gpu.lora else {
            Issue.record("no LoRA settings")
            return
        }
        #expect(lora.maxLoras == 4 && lora.maxLoraRank == 8 && lora.loadBytesPerSecond == 10e9)
        // Llama-3-8B at rank 8: 8 × 81,920 weights per layer × 32 layers × 2 bytes.
        #expect(lora.adapterBytes == 8 * 81_920 * 32 * 2)
        #expect(lora.loadTime == SimTime.seconds(Double(8 * 81_920 * 32 * 2) / 10e9))
        let workload = try #require(scenario.fleet.workloads[0].lora)
        #expect(workload == WorkloadSpec.LoRAWorkload(adapters: ["adapter-00", "adapter-01", "adapter-02"], zipf: 1.5))
        #expect(scenario.fleet.adapterNames == ["adapter-00", "adapter-01", "adapter-02"])
    }

    @Test func defaultsAreVLLMs() throws {
        let scenario = try ScenarioLoader.parse(
            Self.scenario(gpu: "max-loras: 1", lora: "{adapters: [b, a]}"), file: "t.yaml")
        guard case .gpu(let gpu) = scenario.fleet.pools[0].replica, let lora = gpu.lora else {
            Issue.record("no LoRA settings")
            return
        }
        #expect(lora.maxLoraRank == 16 && lora.loadBytesPerSecond == 25e9)
        #expect(scenario.fleet.workloads[0].lora == WorkloadSpec.LoRAWorkload(adapters: ["b", "a"]))
        // Without `max-loras`, LoRA is off.
        let off = try ScenarioLoader.parse(Support.scenario(), file: "t.yaml")
        #expect(off.fleet.adapterNames.isEmpty)
    }

    @Test func adapterNamesArePaddedToTheLastIndex() {
        #expect(WorkloadSpec.LoRAWorkload.names(count: 3) == ["adapter-00", "adapter-01", "adapter-02"])
        #expect(WorkloadSpec.LoRAWorkload.names(count: 101).last == "adapter-100")
        #expect(WorkloadSpec.LoRAWorkload.names(count: 101).first == "adapter-000")
    }

    @Test func mistakesAreLocated() throws {
        let noPool = Support.error(Self.scenario(gpu: "max-num-seqs: 8"))
        #expect(noPool?.line == 13 && noPool?.column == 5 && noPool?.path == "workloads[0].lora")
        #expect(
            noPool?.message
                == "workload `tenants` names LoRA adapters, but pool `gpu` does not serve them (set `max-loras` in its gpu block)"
        )
        let rankAlone = Support.error(Self.scenario(gpu: "max-lora-rank: 8"))
        #expect(rankAlone?.path == "pools[0].gpu.max-lora-rank" && rankAlone?.line == 9)
        #expect(rankAlone?.message.contains("needs `max-loras`") == true)
        let badRank = Support.error(Self.scenario(gpu: "max-loras: 2\n      max-lora-rank: 12"))
        #expect(badRank?.path == "pools[0].gpu.max-lora-rank" && badRank?.line == 10 && badRank?.column == 22)
        #expect(badRank?.message == "expected one of vLLM's ranks: 1, 8, 16, 32, 64, 128, 256, 320, 512, found 12")
        let zero = Support.error(Self.scenario(gpu: "max-loras: 0"))
        #expect(zero?.path == "pools[0].gpu.max-loras")
        let noAdapters = Support.error(Self.scenario(lora: "{adapters: 0}"))
        #expect(noAdapters?.path == "workloads[0].lora.adapters")
        let duplicate = Support.error(Self.scenario(lora: "{adapters: [a, b, a]}"))
        #expect(
            duplicate?.path == "workloads[0].lora.adapters[2]" && duplicate?.message == "duplicate adapter name `a`")
        let typo = Support.error(Self.scenario(lora: "{adapter: 5}"))
        #expect(
            typo?.path == "workloads[0].lora.adapter"
                && typo?.message == "unknown key `adapter`; did you mean `adapters`?")
        let badBandwidth = Support.error(Self.scenario(gpu: "max-loras: 2\n      lora-load-bandwidth: 25GB/s"))
        #expect(badBandwidth?.path == "pools[0].gpu.lora-load-bandwidth")
        let disaggregated = Support.error("disaggregation: {}\n" + Self.scenario())
        #expect(disaggregated?.path == "workloads[0].lora" && disaggregated?.line == 14)
        #expect(disaggregated?.message.contains("not modeled with `disaggregation`") == true)
        let session = Support.error(Self.scenario(lora: "{adapters: 2}\n    session: {turns: 2}"))
        #expect(session?.path == "workloads[0].session" && session?.message.contains("session workload") == true)
    }
}
