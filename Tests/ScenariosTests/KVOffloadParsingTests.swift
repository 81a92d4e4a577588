import Testing

@testable import Scenarios

/// `kv-offloading-size` and `kv-offloading-bandwidth` in a `gpu` block.
@Suite struct KVOffloadParsingTests {
    static func scenario(_ extra: String) -> String {
        """
        horizon: 1m
        pools:
          - name: p
            replicas: 1
            gpu:
              hardware: H100-80GB
              model: Llama-3.1-8B
        \(extra)
        workloads:
          - name: w
            rate: 1/s
        """
    }

    static func spec(_ extra: String) throws -> GPUReplicaSpec? {
        let loaded = try ScenarioLoader.parse(scenario(extra), file: "t.yaml")
        guard case .gpu(let spec) = loaded.fleet.pools[0].replica else { return nil }
        return spec
    }

    @Test func withoutTheKeysThereIsNoTier() throws {
        #expect(try Self.spec("")?.kvOffload == nil)
    }

    @Test func theSizeIsGiBAndTheBandwidthDefaultsToTheHostLink() throws {
        let spec = try #require(try Self.spec("      kv-offloading-size: 64"))
        let deployment = ModelDeployment(gpu: .h100_80GB, model: try #require(LLMSpec.named("Llama-3.1-8B")))
        #expect(spec.kvOffload == KVOffloadSpec(gibibytes: 64, deployment: deployment, blockSize: 16))
        #expect(spec.kvOffload?.cpuBlocks == 32_768)
        #expect(spec.kvOffload?.loadBytesPerSecond == 50e9)
    }

    @Test func theBandwidthIsOneGPUsLinkInBitsPerSecond() throws {
        let spec = try #require(try Self.spec("      kv-offloading-size: 8\n      kv-offloading-bandwidth: 200Gbps"))
        #expect(spec.kvOffload?.loadBytesPerSecond == 25e9)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let extra: String
        let expected: String
        var testDescription: String { label }
    }

    /// Line 8 is the first line of `extra`, at column 7.
    static let cases: [Case] = [
        Case(
            label: "size not a number", extra: "      kv-offloading-size: lots",
            expected: "t.yaml:8:27: error: at pools[0].gpu.kv-offloading-size: expected a number > 0, found \"lots\""),
        Case(
            label: "size zero", extra: "      kv-offloading-size: 0",
            expected: "t.yaml:8:27: error: at pools[0].gpu.kv-offloading-size: expected a number > 0, found 0"),
        Case(
            label: "size smaller than a block", extra: "      kv-offloading-size: 0.000001",
            expected:
                "t.yaml:8:27: error: at pools[0].gpu.kv-offloading-size: kv-offloading-size 1e-06 GiB holds no KV block of 16 tokens (2097152 bytes)"
        ),
        Case(
            label: "bandwidth without a unit", extra: "      kv-offloading-size: 8\n      kv-offloading-bandwidth: 50",
            expected:
                "t.yaml:9:32: error: at pools[0].gpu.kv-offloading-bandwidth: expected a bandwidth > 0 with a unit (bps, Kbps, Mbps, Gbps, Tbps), like 10Gbps or 400Mbps, found 50"
        ),
        Case(
            label: "bandwidth without a size", extra: "      kv-offloading-bandwidth: 400Gbps",
            expected:
                "t.yaml:8:7: error: at pools[0].gpu.kv-offloading-bandwidth: kv-offloading-bandwidth needs kv-offloading-size (the CPU tier's GiB)"
        ),
        Case(
            label: "without prefix caching",
            extra: "      kv-offloading-size: 8\n      enable-prefix-caching: false",
            expected:
                "t.yaml:8:27: error: at pools[0].gpu.kv-offloading-size: kv-offloading-size needs enable-prefix-caching: the CPU tier holds prefix blocks"
        ),
        Case(
            label: "without chunked prefill",
            extra: "      kv-offloading-size: 8\n      enable-chunked-prefill: false",
            expected:
                "t.yaml:8:27: error: at pools[0].gpu.kv-offloading-size: kv-offloading-size needs enable-chunked-prefill: a prompt whose prefix was loaded goes on as a chunk"
        ),
        Case(
            label: "misspelled key", extra: "      kv-offload-size: 8",
            expected:
                "t.yaml:8:7: error: at pools[0].gpu.kv-offload-size: unknown key `kv-offload-size`; expected one of: "
                + ScenarioKeys.gpu.joined(separator: ", ")
        ),
    ]

    @Test(arguments: cases)
    func badValuesGetLocatedErrors(_ example: Case) {
        do {
            _ = try ScenarioLoader.parse(Self.scenario(example.extra), file: "t.yaml")
            Issue.record("accepted \(example.label)")
        } catch {
            #expect(error.description == example.expected)
        }
    }
}
