import Fleet
import Testing

/// Relative difference, for the tolerances below.
private func relative(_ value: Double, _ reference: Double) -> Double { abs(value - reference) / reference }

/// The catalog's new models, precisions and parallelism in the roofline: each test states its inputs and tolerance.
@Suite struct ModelTimingTests {
    // MARK: The catalog against the published parameter counts

    /// Published total and active parameters, as announced (rounded): Mistral's Mixtral paper (46.7B/12.9B), Qwen3's
    /// model cards (30.5B/3.3B, 235B/22B), DeepSeek-V3's README (671B/37B, without its multi-token-prediction
    /// module), OpenAI's gpt-oss model card (116.8B/5.1B). Mistral and Qwen count the input embedding among the
    /// active parameters; DeepSeek and OpenAI leave it out (a row look-up), so it is taken out for them here. The
    /// tolerance, 2%, covers the rounding of the published figures (3.3B may be anything in 3.25–3.35B); biases
    /// and gpt-oss's attention sinks are not counted (under 0.05%).
    @Test(arguments: [
        ("Mixtral-8x7B", 46.7e9, 12.9e9, true), ("Qwen3-30B-A3B", 30.5e9, 3.3e9, true),
        ("Qwen3-235B-A22B", 235e9, 22e9, true), ("DeepSeek-V3", 671e9, 37e9, false),
        ("gpt-oss-120b", 116.8e9, 5.1e9, false),
    ])
    func parameterCountsFollowFromTheArchitecture(
        name: String, total: Double, active: Double, countsInputEmbedding: Bool
    ) throws {
        let model = try #require(LLMSpec.named(name))
        #expect(relative(Double(model.parameters), total) <= 0.02, "\(name): \(model.parameters)")
        let counted = model.activeParameters - (countsInputEmbedding ? 0 : model.embeddingParameters)
        #expect(relative(Double(counted), active) <= 0.02, "\(name): \(counted) active")
    }

    @Test func newGPUsComeFromTheirDatasheets() {
        #expect(GPUSpec.named("B200")?.denseFP8FLOPsPerSecond == 4.5e15)
        #expect(GPUSpec.named("MI300X")?.denseBF16FLOPsPerSecond == 1_307.4e12)
        #expect(GPUSpec.named("L40S")?.memoryBandwidthBytesPerSecond == 864e9)
        #expect(GPUSpec.a100_80GB.denseFP8FLOPsPerSecond == nil)
        // The MI300X's seven links: a pair of GPUs shares one, eight GPUs use all seven.
        #expect(GPUSpec.mi300x.interconnectBytesPerSecond(amongGPUs: 2) == 128e9)
        #expect(GPUSpec.mi300x.interconnectBytesPerSecond(amongGPUs: 8) == 896e9)
        #expect(GPUSpec.h100_80GB.interconnectBytesPerSecond(amongGPUs: 2) == 900e9)
    }

    // MARK: Precision

    /// FP8 weights take half the bytes of BF16 ones in every linear layer; the embeddings and the LM head stay
    /// BF16, as in vLLM. An FP8 KV cache takes exactly half.
    @Test func fp8HalvesWeightAndKVBytes() {
        let model = LLMSpec.llama3_8B
        let bf16 = ModelDeployment(gpu: .h100_80GB, model: model)
        let fp8 = ModelDeployment(gpu: .h100_80GB, model: model, quantization: .fp8, kvCacheDType: .fp8)
        let linear = Double(model.nonExpertLinearParameters)
        #expect(bf16.weightBytes == Double(model.weightBytes))
        #expect(bf16.weightBytes - fp8.weightBytes == linear)  // 2 bytes a linear weight become 1
        #expect(fp8.kvBytesPerToken * 2 == bf16.kvBytesPerToken)
        #expect(fp8.kvBytesPerToken == 65_536)
        let decode = StepShape(decodeSequences: 1, decodeContextTokens: 1)
        let bf16Step = RooflineTiming(bf16).breakdown(decode)
        let fp8Step = RooflineTiming(fp8).breakdown(decode)
        let lmHead = Double(model.lmHeadParameters * 2)
        let bytesPerSecond = 3.35e12 * 0.75
        #expect(relative(bf16Step.linearMemorySeconds - fp8Step.linearMemorySeconds, linear / bytesPerSecond) < 1e-12)
        #expect(
            relative(
                fp8Step.linearMemorySeconds,
                (linear + Double(model.layers * model.normParametersPerLayer) * 2 + lmHead) / bytesPerSecond) < 1e-12)
        #expect(relative(fp8Step.attentionMemorySeconds * 2, bf16Step.attentionMemorySeconds) < 1e-12)
    }

    /// FP8 matrix multiplies run at the dense FP8 peak where the GPU has one (twice BF16's on an H100); on an A100
    /// the weights are FP8 but multiplied in BF16 (W8A16), so only the bytes shrink. The LM head and attention stay
    /// at the BF16 peak.
    @Test(arguments: [GPUSpec.h100_80GB, .a100_80GB, .l40s, .b200, .mi300x])
    func fp8GEMMsRunAtTheFP8PeakWhereThereIsOne(gpu: GPUSpec) {
        let prefill = StepShape(prefillTokens: 4_096, prefillAttentionPairs: 4_096.0 * 2_048)
        let bf16 = RooflineTiming(gpu: gpu, model: .llama3_8B).breakdown(prefill)
        let fp8 = RooflineTiming(ModelDeployment(gpu: gpu, model: .llama3_8B, quantization: .fp8)).breakdown(prefill)
        let layerFLOPs = 2 * Double(LLMSpec.llama3_8B.layerParameters) * 4_096
        let fp8Peak = gpu.denseFP8FLOPsPerSecond ?? gpu.denseBF16FLOPsPerSecond
        let saved = layerFLOPs / 0.65 * (1 / gpu.denseBF16FLOPsPerSecond - 1 / fp8Peak)
        #expect(abs(bf16.linearComputeSeconds - fp8.linearComputeSeconds - saved) <= 1e-12 * bf16.linearComputeSeconds)
        #expect(fp8.attentionComputeSeconds == bf16.attentionComputeSeconds)
        #expect(fp8.linearMemorySeconds < 0.6 * bf16.linearMemorySeconds)
    }

    /// AWQ and GPTQ: 4 bits and a 16-bit scale and 4-bit zero per group of 128; MXFP4: 4 bits and an 8-bit scale
    /// per 32. Weight-only: the GEMMs run at the BF16 peak.
    @Test func fourBitFormatsCountTheirScales() {
        #expect(Quantization.awq.bytesPerWeight == 4.15625 / 8)
        #expect(Quantization.gptq.bytesPerWeight == 4.15625 / 8)
        #expect(Quantization.mxfp4.bytesPerWeight == 4.25 / 8)
        let awq = ModelDeployment(gpu: .h100_80GB, model: .llama3_70B, quantization: .awq)
        #expect(awq.linearComputePrecision == .bf16)
        #expect(
            relative(
                awq.weightBytes,
                Double(LLMSpec.llama3_70B.nonExpertLinearParameters) * 4.15625 / 8
                    + Double(LLMSpec.llama3_70B.parameters - LLMSpec.llama3_70B.nonExpertLinearParameters) * 2) < 1e-15)
    }

    /// gpt-oss is published with MXFP4 experts and BF16 attention; DeepSeek-V3 in FP8 throughout. Served as
    /// published unless told otherwise, and vLLM refuses another method for them.
    @Test func checkpointFormatsAreServedAsPublished() {
        let oss = ModelDeployment(gpu: .h100_80GB, model: .gptOSS120B)
        #expect(oss.expertBytesPerWeight == 4.25 / 8 && oss.linearBytesPerWeight == 2)
        #expect(
            ModelDeployment(gpu: .h100_80GB, model: .gptOSS120B, quantization: .mxfp4).weightBytes == oss.weightBytes)
        let deepSeek = ModelDeployment(gpu: .h200_141GB, model: .deepSeekV3, tensorParallelSize: 8)
        #expect(deepSeek.expertBytesPerWeight == 1 && deepSeek.linearBytesPerWeight == 1)
        #expect(deepSeek.linearComputePrecision == .fp8)
        #expect(ModelDeployment(gpu: .a100_80GB, model: .deepSeekV3).linearComputePrecision == .bf16)
        #expect(
            ModelDeployment(gpu: .h200_141GB, model: .deepSeekV3, quantization: .awq).problem
                == .conflictsWithCheckpoint(requested: .awq, checkpoint: .fp8, model: "DeepSeek-V3"))
        #expect(
            ModelDeployment(gpu: .h100_80GB, model: .llama3_8B, quantization: .mxfp4).problem
                == .needsItsCheckpoint(.mxfp4, model: "Llama-3-8B"))
    }

    // MARK: Mixture of experts

    /// At batch 1 a decode step reads top-k / E of the routed experts' weights; at batch 256 nearly all of them
    /// (uniform routing: 1 − (1 − k/E)^B).
    @Test(arguments: [LLMSpec.mixtral8x7B, .qwen3_30B_A3B, .qwen3_235B_A22B, .deepSeekV3, .gptOSS120B])
    func aDecodeStepReadsTheExpertsItsTokensTouch(model: LLMSpec) throws {
        let moe = try #require(model.moe)
        let gpus = model.parameters > 200_000_000_000 ? 8 : 1
        let deployment = ModelDeployment(gpu: .h200_141GB, model: model, tensorParallelSize: gpus)
        let timing = RooflineTiming(deployment)
        let share = Double(moe.expertsPerToken) / Double(moe.experts)
        #expect(timing.expertWeightFractionRead(batchTokens: 1) == share)
        #expect(timing.expertWeightFractionRead(batchTokens: 256) > 0.999)
        let bytesPerSecond = 4.8e12 * 0.75
        let always = (deployment.nonExpertLayerWeightBytes + deployment.lmHeadWeightBytes) / Double(gpus)
        let experts = deployment.routedExpertWeightBytes / Double(gpus)
        for batch in [1, 8, 64, 256] {
            let read = timing.breakdown(StepShape(decodeSequences: batch, decodeContextTokens: batch * 512))
            let expected = (always + experts * (1 - pow(1 - share, Double(batch)))) / bytesPerSecond
            #expect(relative(read.linearMemorySeconds, expected) < 1e-12, "\(model.name) at batch \(batch)")
        }
    }

    /// Total parameters set the memory, active ones the FLOPs: a long prefill of Qwen3-30B-A3B computes like a 3B
    /// model while its weights take 61 GB.
    @Test func activeParametersSetTheFLOPs() {
        let model = LLMSpec.qwen3_30B_A3B
        let prefill = RooflineTiming(gpu: .h100_80GB, model: model).breakdown(
            StepShape(prefillTokens: 8_192, prefillAttentionPairs: 8_192.0 * 4_096))
        let expected =
            (2 * Double(model.activeLayerParameters) * 8_192 + 2 * Double(model.lmHeadParameters))
            / (989.4e12 * 0.65)
        #expect(relative(prefill.linearComputeSeconds, expected) < 1e-12)
        #expect(model.weightBytes == 61_064_245_248)
    }

    // MARK: Attention variants

    /// MLA caches the latent and the rotary key per token and layer: DeepSeek-V3 576 elements × 61 layers, every GPU
    /// holding all of it (vLLM replicates the latent over tensor-parallel ranks).
    @Test func mlaCachesTheLatent() {
        let model = LLMSpec.deepSeekV3
        #expect(model.kvBytesPerToken == 576 * 61 * 2)
        let tp8 = ModelDeployment(gpu: .h200_141GB, model: model, tensorParallelSize: 8)
        #expect(tp8.kvBytesPerTokenPerGPU == 70_272 && tp8.kvBytesPerToken == 8 * 70_272)
        let fp8 = ModelDeployment(gpu: .h200_141GB, model: model, tensorParallelSize: 8, kvCacheDType: .fp8)
        #expect(fp8.kvBytesPerTokenPerGPU == 35_136)
        // Decode reads the latent; its FLOPs per pair are 2 × heads × (2 × 512 + 64) per layer, prefill's
        // 2 × heads × (128 + 64 + 128).
        let timing = RooflineTiming(tp8)
        let decode = timing.breakdown(StepShape(decodeSequences: 64, decodeContextTokens: 64 * 4_096))
        let flops = 2.0 * 128 * (2 * 512 + 64) * 61 / 8 * Double(64 * 4_096)
        #expect(relative(decode.attentionComputeSeconds, flops / (989.4e12 * 0.65)) < 1e-12)
        let kvTokens = Double(64 * 4_096 + 64)
        #expect(relative(decode.attentionMemorySeconds, 70_272 * kvTokens / (4.8e12 * 0.75)) < 1e-12)
        let prefill = timing.breakdown(StepShape(prefillTokens: 1_024, prefillAttentionPairs: 1_024.0 * 512))
        let prefillFLOPs = 2.0 * 128 * 320 * 61 / 8 * (1_024.0 * 512)
        #expect(relative(prefill.attentionComputeSeconds, prefillFLOPs / (989.4e12 * 0.65)) < 1e-12)
    }

    /// gpt-oss's sliding layers read at most 128 tokens of each sequence: past the window, only the full layers'
    /// reads grow with the context. The cache keeps the full layers' KV only.
    @Test func slidingWindowLayersReadOnlyTheirWindow() {
        let model = LLMSpec.gptOSS120B
        #expect(model.kvBytesPerToken == 18 * 2 * 8 * 64 * 2)
        let timing = RooflineTiming(gpu: .h100_80GB, model: model)
        let perLayer = 2.0 * 8 * 64 * 2
        let bytesPerSecond = 3.35e12 * 0.75
        for context in [128, 1_000, 32_768] {
            let step = timing.breakdown(StepShape(decodeSequences: 8, decodeContextTokens: 8 * context))
            let expected =
                (18 * perLayer * Double(8 * context + 8) + 18 * perLayer * Double(8 * 128 + 8)) / bytesPerSecond
            #expect(relative(step.attentionMemorySeconds, expected) < 1e-12, "context \(context)")
        }
        // Below the window nothing is capped.
        let short = timing.breakdown(StepShape(decodeSequences: 8, decodeContextTokens: 8 * 100))
        #expect(relative(short.attentionMemorySeconds, 36 * perLayer * Double(8 * 100 + 8) / bytesPerSecond) < 1e-12)
        // A prefill's pairs are capped at the window in the sliding layers.
        let prefill = timing.breakdown(StepShape(prefillTokens: 4_096, prefillAttentionPairs: 4_096.0 * 2_048))
        let pairs = 18 * 4_096.0 * 2_048 + 18 * 4_096.0 * 128
        #expect(relative(prefill.attentionComputeSeconds, 4 * 64 * 64 * pairs / (989.4e12 * 0.65)) < 1e-12)
    }

    // MARK: Expert parallelism

    /// With expert parallelism an MoE layer answers by two all-to-alls (dispatch and combine) of tokens × hidden ×
    /// 2 bytes, each (N − 1)/N of it over the interconnect, instead of its all-reduce; attention and the dense
    /// layers keep theirs.
    @Test func expertParallelismTradesTheMoEAllReduceForTwoAllToAlls() {
        let model = LLMSpec.deepSeekV3
        let shape = StepShape(decodeSequences: 128, decodeContextTokens: 128 * 1_000)
        let tp = RooflineTiming(ModelDeployment(gpu: .h200_141GB, model: model, tensorParallelSize: 8)).breakdown(shape)
        let ep = RooflineTiming(
            ModelDeployment(gpu: .h200_141GB, model: model, tensorParallelSize: 8, enableExpertParallel: true)
        ).breakdown(shape)
        let oneWay = 900e9 / 2 * 0.6
        let bytes = 128.0 * 7_168 * 2
        #expect(tp.allToAllSeconds == 0)
        #expect(relative(tp.allReduceSeconds, 122 * (20e-6 + bytes * 2 * 7 / 8 / oneWay)) < 1e-12)
        #expect(relative(ep.allReduceSeconds, 64 * (20e-6 + bytes * 2 * 7 / 8 / oneWay)) < 1e-12)
        #expect(relative(ep.allToAllSeconds, 116 * (20e-6 + bytes * 7 / 8 / oneWay)) < 1e-12)
        // The experts' reads and FLOPs per GPU are the same in expectation.
        #expect(ep.linearMemorySeconds == tp.linearMemorySeconds)
        #expect(ep.linearComputeSeconds == tp.linearComputeSeconds)
    }

    // MARK: Fitted profiles

    /// Vidur's profiles were measured in BF16 with tensor parallelism: no other setup borrows them.
    @Test func fittedProfilesAreOnlyForWhatWasMeasured() {
        let bf16 = ModelDeployment(gpu: .h100_80GB, model: .llama3_8B)
        #expect(FittedProfileTiming.profile(for: bf16) != nil)
        for other in [
            ModelDeployment(gpu: .h100_80GB, model: .llama3_8B, quantization: .fp8),
            ModelDeployment(gpu: .h100_80GB, model: .llama3_8B, kvCacheDType: .fp8_e5m2),
            ModelDeployment(gpu: .h100_80GB, model: .qwen3_30B_A3B),
            ModelDeployment(gpu: .b200, model: .llama3_8B),
        ] {
            #expect(FittedProfileTiming.profile(for: other) == nil, "\(other.label)")
            #expect(FittedProfileTiming.whyNoProfile(for: other) != nil)
        }
        // A model read from a config.json under a built-in's name, but not its architecture, gets none either.
        var impostor = LLMSpec.llama3_8B
        impostor.layers = 40
        #expect(FittedProfileTiming.profile(for: ModelDeployment(gpu: .h100_80GB, model: impostor)) == nil)
        #expect(
            StepTimingSpec.fitted(ModelDeployment(gpu: .h100_80GB, model: .llama3_8B, quantization: .fp8)).make() == nil
        )
    }
}

/// x^n for the expected values, by repeated multiplication (the simulator uses repeated squaring).
private func pow(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    for _ in 0..<Int(exponent) { result *= base }
    return result
}
