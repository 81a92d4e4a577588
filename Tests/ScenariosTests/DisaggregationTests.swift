import Fleet
import Foundation
import Scenarios
import Testing

/// Disaggregated serving through the whole fleet: exact times for an idle fabric, shared links, TTFT bounds,
/// conservation under every option, and located errors.
@Suite struct DisaggregationTests {
    static let gpu = "{hardware: H100-80GB, model: Llama-3-8B, timing: roofline}"

    static func scenario(
        prefill: Int = 1, decode: Int = 1, workload: String, section: String = "disaggregation: {}",
        decodeGPU: String = gpu, extra: String = ""
    ) -> String {
        """
        horizon: 60s
        \(section)
        \(extra)
        pools:
          - {name: p, role: prefill, replicas: \(prefill), gpu: \(gpu)}
          - {name: d, role: decode, replicas: \(decode), gpu: \(decodeGPU)}
        workloads:
          - \(workload)
        """
    }

    static func run(_ text: String, policy: String = "round-robin", seed: UInt64 = 1) throws -> RunOutput {
        let spec = try ScenarioLoader.parse(text, file: "pd.yaml").fleet
        return try FleetRun.execute(spec, policy: policy, seed: seed)
    }

    static let deployment = ModelDeployment(gpu: GPUSpec.named("H100-80GB")!, model: LLMSpec.named("Llama-3-8B")!)

    @Test func oneRequestOnAnIdleFabricTakesPrefillTransferAndOneDecodeStep() throws {
        let output = try Self.run(
            Self.scenario(
                workload: "{name: one, pool: d, concurrency: 1, requests: 1, input-tokens: 4000, output-tokens: 5}",
                section: "disaggregation: {kv-transfer: {latency: 500us}}"))
        let record = try #require(output.requests.first)
        let split = try #require(output.splits[record.id])
        let timing = RooflineTiming(Self.deployment)
        // The engine's prefill step (one chunk of 4,000 tokens), then the KV over NVLink (450 GB/s per GPU each way,
        // both replicas on one node), then the decode replica's first decode iteration over 4,001 tokens of context.
        let prefill = timing.stepDuration(StepShape(prefillTokens: 4_000, prefillAttentionPairs: 4_000 * 2_000))
        let bytes = 4_000 * Self.deployment.kvBytesPerToken
        let wire = SimTime(nanoseconds: Int64((Double(bytes) / 450e9 * 1e9).rounded(.up)))
        let transfer = wire + .microseconds(500)
        let decode = timing.stepDuration(StepShape.decode(batch: 1, context: 4_001))
        #expect(split.kvTransferBytes == Int64(bytes))
        #expect(split.kvTransferNanoseconds == transfer.nanoseconds)
        #expect(split.prefillReplica == ReplicaID(0) && record.replica == ReplicaID(1))
        #expect(record.firstToken == prefill + transfer + decode)
        #expect(record.status == .completed)
    }

    @Test func twoTransfersIntoOneDecodeReplicaShareItsLink() throws {
        // Two identical requests at time 0 prefill side by side on two prefill replicas and end together; both
        // KVs then enter the one decode replica's NVLink port at once, so each takes twice as long.
        let output = try Self.run(
            Self.scenario(
                prefill: 2,
                workload: "{name: two, pool: d, concurrency: 2, requests: 2, input-tokens: 4000, output-tokens: 5}",
                section: "disaggregation: {kv-transfer: {latency: 0s}}"))
        let bytes = Double(4_000 * Self.deployment.kvBytesPerToken)
        let alone = Int64((bytes / 450e9 * 1e9).rounded(.up))
        let shared = Int64((2 * bytes / 450e9 * 1e9).rounded(.up))
        let splits = output.requests.compactMap { output.splits[$0.id] }
        #expect(splits.count == 2)
        #expect(Set(splits.map(\.prefillReplica)).count == 2)
        #expect(splits.allSatisfy { $0.kvTransferNanoseconds == shared })
        #expect(shared == 2 * alone || shared == 2 * alone - 1)
    }

    @Test func aTransferAcrossClustersCrossesTheMeshLink() throws {
        // Prefill in one cluster, decode in the other: the KV leaves by RDMA (50 GB/s), crosses the mesh's
        // 100 Gb/s link (the bottleneck) and pays the link's one-way latency besides the transfer's own.
        let text = """
            horizon: 30s
            clusters:
              - {name: east, region: r1, zone: z1}
              - {name: west, region: r2, zone: z2}
            mesh:
              links: [{from: east, to: west, latency: 10ms, bandwidth: 100Gbps}]
            disaggregation: {kv-transfer: {latency: 500us}}
            pools:
              - {name: p, role: prefill, replicas: 1, placement: [{cluster: east, replicas: 1}], gpu: \(Self.gpu)}
              - {name: d, role: decode, replicas: 1, placement: [{cluster: west, replicas: 1}], gpu: \(Self.gpu)}
            workloads:
              - {name: one, pool: d, cluster: west, concurrency: 1, requests: 1, input-tokens: 2000, output-tokens: 3}
            """
        let output = try Self.run(text)
        let record = try #require(output.requests.first)
        let split = try #require(output.splits[record.id])
        let bytes = Double(2_000 * Self.deployment.kvBytesPerToken)
        let wire = Int64((bytes / 12.5e9 * 1e9).rounded(.up))
        #expect(split.kvTransferNanoseconds == wire + 500_000 + 10_000_000)
        #expect(record.status == .completed)
    }

    @Test func aSplitRequestsTTFTIsAtLeastItsPrefillPlusItsTransfer() throws {
        let output = try Self.run(
            Self.scenario(
                prefill: 2, decode: 2,
                workload: "{name: rag, pool: d, rate: 6/s, input-tokens: {dist: uniform, min: 1000, max: 6000}, "
                    + "output-tokens: 40}"))
        let timing = RooflineTiming(Self.deployment)
        var checked = 0
        for record in output.requests where record.status == .completed {
            let split = try #require(output.splits[record.id])
            let input = record.inputTokens
            // A lower bound on the prefill: the prompt in one step alone.
            let prefill = timing.stepDuration(
                StepShape(prefillTokens: input, prefillAttentionPairs: Double(input) * Double(input) / 2))
            let transfer = SimTime(nanoseconds: try #require(split.kvTransferNanoseconds))
            #expect(try #require(record.ttft) >= prefill + transfer)
            checked += 1
        }
        #expect(checked > 200)
    }

    /// Every request ends exactly once (the run checks it and would throw), in every mode, and the fleet's own
    /// counts return to zero; KV is conserved at every step (checked in debug builds).
    @Test(arguments: [
        "disaggregation: {when-decode-full: wait}",
        "disaggregation: {when-decode-full: aggregate}",
        "disaggregation: {pd-profile-handler: {threshold: 3000}}",
    ])
    func requestsAreConservedInEveryMode(section: String) throws {
        // A small decode cache (1,500 blocks of 16 tokens) so that reservations fail and the option matters, and a
        // timeout so that requests are cut in every phase.
        let smallDecode = "{hardware: H100-80GB, model: Llama-3-8B, timing: roofline, num-gpu-blocks: 1500}"
        let text = Self.scenario(
            prefill: 2, decode: 1,
            workload: "{name: rag, pool: d, rate: 12/s, timeout: 4s, input-tokens: {dist: uniform, min: 500, "
                + "max: 7000}, output-tokens: {dist: uniform, min: 20, max: 400}}",
            section: section, decodeGPU: smallDecode)
        let output = try Self.run(text)
        let statuses = output.statusCounts()
        #expect(statuses.reduce(0) { $0 + $1.1 } == output.requests.count)
        #expect(output.requests.allSatisfy { $0.status != nil })
        let completed = output.requests.filter { $0.status == .completed }
        #expect(!completed.isEmpty)
        #expect(output.requests.contains { $0.status == .timedOut })
        let split = output.requests.filter { output.splits[$0.id] != nil }
        if section.contains("threshold") {
            // Short prompts are served whole on the decode replica, long ones split.
            #expect(output.requests.contains { output.splits[$0.id] == nil && $0.status == .completed })
            #expect(split.allSatisfy { $0.inputTokens >= 3000 })
        }
        if section.contains("aggregate") {
            // Some requests found no room and decoded on their prefill replica.
            #expect(completed.contains { $0.replica.map { output.replicas[$0.index].pool } == "p" })
        }
        #expect(!split.isEmpty)
    }

    @Test func aRequestTheDecodeCacheCouldNeverHoldDecodesOnItsPrefillReplica() throws {
        // 200 blocks of 16 tokens hold 3,200 tokens: a 5,000-token prompt would wait for room forever.
        let output = try Self.run(
            Self.scenario(
                workload: "{name: long, pool: d, concurrency: 1, requests: 2, input-tokens: 5000, output-tokens: 8}",
                decodeGPU: "{hardware: H100-80GB, model: Llama-3-8B, timing: roofline, num-gpu-blocks: 200}"))
        #expect(output.requests.count == 2)
        #expect(output.requests.allSatisfy { $0.status == .completed && $0.replica == ReplicaID(0) })
        #expect(output.requests.allSatisfy { output.splits[$0.id]?.kvTransferNanoseconds == nil })
    }

    @Test func theDecodeReplicasComputeNoPrompts() throws {
        let output = try Self.run(
            Self.scenario(
                prefill: 1, decode: 2,
                workload: "{name: chat, pool: d, rate: 3/s, input-tokens: 2000, output-tokens: 50}"))
        let decode = output.replicas.filter { $0.pool == "d" }
        #expect(decode.count == 2 && decode.allSatisfy { $0.window.promptTokens == 0 })
        #expect(decode.allSatisfy { $0.window.generationTokens > 0 })
        #expect(output.replicas.first { $0.pool == "p" }!.window.promptTokens > 0)
    }

    @Test func theSameRunGivesTheSameDigest() throws {
        let text = Self.scenario(
            prefill: 2, decode: 2,
            workload: "{name: rag, pool: d, rate: 8/s, input-tokens: {dist: uniform, min: 1000, max: 6000}, "
                + "output-tokens: 60}")
        let first = try Self.run(text, policy: "inference-aware", seed: 3)
        let second = try Self.run(text, policy: "inference-aware", seed: 3)
        #expect(first.digest.value == second.digest.value)
        #expect(first.requests == second.requests)
    }

    // MARK: - Errors

    static func loadError(_ text: String) -> ScenarioError? {
        do {
            _ = try ScenarioLoader.parse(text, file: "pd.yaml")
            return nil
        } catch { return error }
    }

    @Test func aPrefillPoolNeedsTheSection() throws {
        let error = try #require(
            Self.loadError(
                Self.scenario(workload: "{name: w, pool: d, rate: 1/s}", section: "").replacingOccurrences(
                    of: "\n\n", with: "\n")))
        #expect(
            error.description.contains("pool `p` has role prefill but the scenario has no `disaggregation` section"))
        #expect(error.line == 4)
    }

    @Test func aWorkloadCannotTargetAPrefillPool() throws {
        let error = try #require(Self.loadError(Self.scenario(workload: "{name: w, pool: p, rate: 1/s}")))
        #expect(error.description.contains("workload `w` sends its requests to `p`, a prefill pool"))
        #expect(error.line == 8)
    }

    @Test func badKeysAreLocated() throws {
        let bad = try #require(
            Self.loadError(
                Self.scenario(
                    workload: "{name: w, pool: d, rate: 1/s}",
                    section: "disaggregation: {when-decode-full: queue}")))
        #expect(bad.line == 2 && bad.path == "disaggregation.when-decode-full")
        #expect(bad.description.contains("unknown when-decode-full `queue`"))
        let bandwidth = try #require(
            Self.loadError(
                Self.scenario(
                    workload: "{name: w, pool: d, rate: 1/s}",
                    section: "disaggregation: {kv-transfer: {rdma-bandwidth: 400GB}}")))
        #expect(bandwidth.path == "disaggregation.kv-transfer.rdma-bandwidth")
        let role = try #require(
            Self.loadError(
                """
                horizon: 1m
                pools:
                  - {name: s, role: decode, replicas: 1, station: {servers: 1, service: {dist: exponential, mean: 1s}}}
                workloads:
                  - {name: w, rate: 1/s}
                """))
        #expect(role.line == 3 && role.description.contains("needs GPU replicas"))
    }

    @Test func twoPrefillPoolsForOneModelAreRefused() throws {
        let text = """
            horizon: 1m
            disaggregation: {}
            pools:
              - {name: p1, role: prefill, replicas: 1, gpu: \(Self.gpu)}
              - {name: p2, role: prefill, replicas: 1, gpu: \(Self.gpu)}
              - {name: d, role: decode, replicas: 1, gpu: \(Self.gpu)}
            workloads:
              - {name: w, pool: d, rate: 1/s}
            """
        let error = try #require(Self.loadError(text))
        #expect(error.description.contains("could take its prefill from `p1` or `p2`"))
        #expect(error.line == 6)
    }
}
