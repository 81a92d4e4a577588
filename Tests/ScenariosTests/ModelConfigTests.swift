import Foundation
import TestSupport
import Testing

@testable import Fleet
@testable import Scenarios

/// `model: {config: PATH}`, `quantization`, `kv-cache-dtype` and `enable-expert-parallel` in a pool's gpu block: the
/// built-ins are what their published config.json files say, the KV capacity follows the precision, and every
/// mistake is located.
@Suite struct ModelConfigTests {
    /// The folder of the published configs (Fixtures/models, see SOURCE.txt there).
    static func modelsFolder() throws -> URL { try Support.fixture("models") }

    /// A one-pool scenario whose gpu block is `gpu`, loaded as if it sat in `directory`.
    static func load(_ gpu: String, in directory: String = "") throws -> GPUReplicaSpec {
        let text = """
            horizon: 1m
            pools:
              - name: gpu
                replicas: 1
                gpu: \(gpu)
            workloads:
              - {name: chat, rate: 1/s}

            """
        let scenario = try ScenarioLoader.parse(text, file: "t.yaml", baseDirectory: directory)
        guard case .gpu(let spec) = scenario.fleet.pools[0].replica else {
            Issue.record("not a gpu pool")
            throw CancellationError()
        }
        return spec
    }

    /// The error the gpu block raises (line 5 of the scenario holds it).
    static func error(_ gpu: String, in directory: String = "") -> ScenarioError? {
        do {
            _ = try load(gpu, in: directory)
            Issue.record("expected an error for \(gpu)")
            return nil
        } catch let error as ScenarioError {
            return error
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    static func deployment(of spec: GPUReplicaSpec) -> ModelDeployment? {
        switch spec.timing {
        case .roofline(let deployment), .fitted(let deployment), .profile(let deployment, _): return deployment
        case .linear: return nil
        }
    }

    // MARK: The catalog against the published configs

    /// Each published config.json reads to its built-in exactly (the name aside): the catalog's numbers are the
    /// configs', and Llama 3.3 70B is the same model as Llama 3 70B, so an alias rather than an entry.
    @Test(arguments: [
        ("Mixtral-8x7B", "Mixtral-8x7B"), ("Qwen3-30B-A3B", "Qwen3-30B-A3B"), ("Qwen3-235B-A22B", "Qwen3-235B-A22B"),
        ("Qwen3-32B", "Qwen3-32B"), ("DeepSeek-V3", "DeepSeek-V3"), ("gpt-oss-120b", "gpt-oss-120b"),
        ("Llama-3.3-70B", "Llama-3-70B"), ("Llama-3.1-8B", "Llama-3-8B"),
    ])
    func publishedConfigsReadToTheBuiltIns(file: String, builtIn: String) throws {
        let path = try Self.modelsFolder().appendingPathComponent("\(file).json").path
        var read = try ModelConfigFile.load(path: path, written: "\(file).json")
        #expect(read.name == file)
        read.name = builtIn
        #expect(read == LLMSpec.named(builtIn))
        #expect(LLMSpec.named(file) == LLMSpec.named(builtIn))
    }

    @Test func aConfigIsNamedAfterItsFileOrItsFolder() {
        #expect(ModelConfigFile.modelName("models/my-model.json") == "my-model")
        #expect(ModelConfigFile.modelName("/hub/Qwen3-30B-A3B/config.json") == "Qwen3-30B-A3B")
    }

    /// The path is relative to the scenario's directory, as trace paths are; the model gets the roofline.
    @Test func aScenarioTakesAConfigRelativeToItsDirectory() throws {
        let spec = try Self.load(
            "{hardware: H100, model: {config: models/Qwen3-30B-A3B.json}}",
            in: Self.modelsFolder().deletingLastPathComponent().path)
        var expected = ModelDeployment(gpu: .h100_80GB, model: .qwen3_30B_A3B)
        expected.model.name = "Qwen3-30B-A3B"
        #expect(spec.timing == .roofline(expected))
    }

    // MARK: Precision and the KV capacity

    /// FP8 weights and an FP8 KV cache: the replica's KV blocks are the memory left after the FP8 weights over half
    /// the bytes per block, as vLLM's num_gpu_blocks.
    @Test func fp8GrowsTheKVCapacityAsVLLMSizesIt() throws {
        let bf16 = try Self.load("{hardware: H100, model: Llama-3.1-70B, tensor-parallel-size: 2}")
        let fp8 = try Self.load(
            "{hardware: H100, model: Llama-3.1-70B, tensor-parallel-size: 2, quantization: fp8, kv-cache-dtype: fp8}")
        let gib = Double(1 << 30)
        let model = LLMSpec.llama3_70B
        let bf16Weights = Double(model.parameters * 2)
        let fp8Weights =
            Double(model.nonExpertLinearParameters) + Double(model.parameters - model.nonExpertLinearParameters) * 2
        let budget = { (weights: Double) in 2 * 80 * gib * 0.9 - weights - 2 * 4 * gib }
        #expect(bf16.kvBlocks == Int(budget(bf16Weights) / Double(327_680 * 16)))
        #expect(fp8.kvBlocks == Int(budget(fp8Weights) / Double(163_840 * 16)))
        #expect(fp8.kvBlocks > 2 * bf16.kvBlocks)
        #expect(bf16.kvBlocks == 938 && fp8.kvBlocks == 27_989, "\(bf16.kvBlocks), \(fp8.kvBlocks)")
        // Neither precision has a fitted profile at FP8, so the FP8 replica takes the roofline.
        #expect(Self.deployment(of: fp8)?.quantization == .fp8)
        guard case .roofline = fp8.timing else {
            Issue.record("an FP8 replica must be timed by the roofline, not \(fp8.timing)")
            return
        }
        guard case .fitted = bf16.timing else {
            Issue.record("a BF16 Llama-3-70B at TP 2 on H100s has a fitted profile")
            return
        }
    }

    @Test func vLLMsSpellingsOfFP8KVCacheAreAccepted() throws {
        for dtype in ["fp8", "fp8_e4m3", "fp8_e5m2"] {
            let spec = try Self.load("{hardware: H100, model: Llama-3-8B, kv-cache-dtype: \(dtype)}")
            #expect(Self.deployment(of: spec)?.kvBytesPerToken == 65_536)
        }
    }

    // MARK: Located mistakes

    @Test func precisionMistakesAreLocatedAtTheirKey() throws {
        let unknown = Self.error("{hardware: H100, model: Llama-3-8B, quantization: fp4}")
        #expect(unknown?.path == "pools[0].gpu.quantization")
        #expect(unknown?.message.hasPrefix("unknown quantization method `fp4`") == true, "\(unknown?.message ?? "")")
        let conflict = Self.error("{hardware: H200, model: DeepSeek-V3, tensor-parallel-size: 8, quantization: awq}")
        #expect(conflict?.path == "pools[0].gpu.quantization" && conflict?.line == 5)
        #expect(conflict?.message.contains("quantized with fp8; vLLM does not serve it as awq") == true)
        let mxfp4 = Self.error("{hardware: H100, model: Llama-3-8B, quantization: mxfp4}")
        #expect(mxfp4?.message == "mxfp4 needs a checkpoint published in it; Llama-3-8B's is not")
        let dense = Self.error("{hardware: H100, model: Llama-3-8B, enable-expert-parallel: true}")
        #expect(dense?.path == "pools[0].gpu.enable-expert-parallel")
        #expect(dense?.message.contains("needs a mixture-of-experts model") == true)
        let spread = Self.error(
            "{hardware: H100, model: Mixtral-8x7B, tensor-parallel-size: 16, enable-expert-parallel: true}")
        #expect(spread?.message == "8 experts cannot be spread over 16 GPUs (each holds at least one)")
        let kv = Self.error("{hardware: H100, model: Llama-3-8B, kv-cache-dtype: int8}")
        #expect(kv?.message.hasPrefix("unknown kv-cache-dtype `int8`") == true)
    }

    /// `timing: fitted` for a setup Vidur never measured is refused, saying why; left out, the roofline is used.
    @Test func fittedTimingIsRefusedForUnmeasuredSetups() throws {
        let fp8 = Self.error("{hardware: H100, model: Llama-3-8B, quantization: fp8, timing: fitted}")
        #expect(fp8?.path == "pools[0].gpu.timing")
        #expect(
            fp8?.message
                == "no fitted profile for quantization fp8 (the profiles were measured in BF16, with tensor "
                + "parallelism only); use `timing: roofline`")
        let moe = Self.error("{hardware: H100, model: Qwen3-30B-A3B, timing: fitted}")
        #expect(
            moe?.message
                == "no fitted profile for Qwen3-30B-A3B on H100-80GB at tensor-parallel-size 1; use `timing: roofline`")
        let kv = Self.error("{hardware: A100, model: Llama-3-8B, kv-cache-dtype: fp8, timing: fitted}")
        #expect(kv?.message.hasPrefix("no fitted profile for kv-cache-dtype fp8") == true)
    }

    /// A config.json that cannot be timed is reported at the scenario's `config` key (its line and column), naming
    /// the file with the line and column of the JSON key and the key itself.
    @Test(arguments: [
        (
            "{\n  \"architectures\": [\"FalconForCausalLM\"],\n  \"hidden_size\": 4096\n}\n",
            "bad.json:2:3: `architectures[0]`: unknown architecture `FalconForCausalLM`; supported: LlamaForCausalLM"
        ),
        (
            "{\"architectures\": [\"MixtralForCausalLM\"], \"hidden_size\": 4096, \"num_hidden_layers\": 32,\n"
                + "\"num_attention_heads\": 32, \"vocab_size\": 32000, \"intermediate_size\": 14336,\n"
                + "\"num_local_experts\": 8, \"num_experts_per_tok\": 10}\n",
            "bad.json:3:25: `num_experts_per_tok`: 10 experts per token, but only 8 experts (num_local_experts)"
        ),
        (
            "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 4100, \"num_hidden_layers\": 32,\n"
                + "\"num_attention_heads\": 32, \"vocab_size\": 32000, \"intermediate_size\": 14336}\n",
            "bad.json:1:41: `hidden_size`: 4100 is not divisible by num_attention_heads (32), and there is no head_dim"
        ),
        (
            "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 4096, \"num_attention_heads\": 32,\n"
                + "\"vocab_size\": 32000, \"intermediate_size\": 14336}\n",
            "bad.json: `num_hidden_layers`: missing; the layer count is needed"
        ),
        (
            "{\"architectures\": [\"LlamaForCausalLM\"],\n \"hidden_size\": \"4096\"}\n",
            "bad.json:2:2: `hidden_size`: expected an integer"
        ),
        (
            "{\"architectures\": [\"LlamaForCausalLM\"],\n \"hidden_size\": 4096,,}\n",
            "bad.json:2:22: not valid JSON: Invalid value around character 61."
        ),
        (
            "{\"architectures\": [\"GptOssForCausalLM\"], \"hidden_size\": 2880, \"num_hidden_layers\": 2,\n"
                + "\"num_attention_heads\": 64, \"head_dim\": 64, \"vocab_size\": 201088, \"intermediate_size\": 2880,\n"
                + "\"num_local_experts\": 32, \"num_experts_per_tok\": 4, \"sliding_window\": 128,\n"
                + "\"layer_types\": [\"sliding_attention\", \"full_attention\", \"full_attention\"]}\n",
            "bad.json:4:1: `layer_types`: 3 entries for 2 layers (num_hidden_layers)"
        ),
    ])
    func configMistakesAreLocatedInTheFileAndTheScenario(json: String, message: String) throws {
        try TemporaryDirectory.with("model-config") { folder in
            try json.write(to: folder.appendingPathComponent("bad.json"), atomically: true, encoding: .utf8)
            let error = Self.error("{hardware: H100, model: {config: bad.json}}", in: folder.path)
            #expect(error?.kind == .invalid)
            #expect(error?.path == "pools[0].gpu.model.config")
            #expect(error?.line == 5 && error?.column == 43, "\(error?.description ?? "")")
            #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "no error")")
        }
    }

    @Test func aMissingConfigIsAMissingFile() throws {
        try TemporaryDirectory.with("model-config") { folder in
            let error = Self.error("{hardware: H100, model: {config: models/none.json}}", in: folder.path)
            #expect(error?.kind == .fileNotFound)
            #expect(error?.path == "pools[0].gpu.model.config" && error?.line == 5)
            #expect(error?.message.hasPrefix("no model config file `models/none.json` (looked for ") == true)
            let directory = Self.error("{hardware: H100, model: {config: .}}", in: folder.path)
            #expect(directory?.kind == .invalid)
            #expect(directory?.message.hasPrefix("expected a model config file, found the directory") == true)
        }
    }

    @Test func theModelBlockTakesOnlyConfig() {
        let error = Self.error("{hardware: H100, model: {path: m.json}}")
        #expect(error?.path == "pools[0].gpu.model.path")
        #expect(error?.message.hasPrefix("unknown key `path`") == true)
    }

    /// Sizes beyond any real model are refused before they can overflow a count.
    @Test func absurdSizesAreRefused() throws {
        try TemporaryDirectory.with("model-config") { folder in
            let json =
                "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 9000000000000, "
                + "\"num_hidden_layers\": 32, \"num_attention_heads\": 32, \"vocab_size\": 32000, "
                + "\"intermediate_size\": 14336}"
            try json.write(to: folder.appendingPathComponent("big.json"), atomically: true, encoding: .utf8)
            let error = Self.error("{hardware: H100, model: {config: big.json}}", in: folder.path)
            #expect(error?.message.contains("`hidden_size`: 9000000000000 is out of range; expected 1...65536") == true)
        }
    }
}
