/// A model on a replica's GPUs: the vLLM engine arguments that decide how much memory its weights and KV cache
/// take and how long its steps are (`--tensor-parallel-size`, `--enable-expert-parallel`, `--quantization`,
/// `--kv-cache-dtype`).
public struct ModelDeployment: Sendable, Equatable {
    /// The GPU of each of the replica's ranks.
    public var gpu: GPUSpec
    /// The model served.
    public var model: LLMSpec
    /// GPUs the model is split across (`tensor-parallel-size`): attention heads, dense MLPs, shared experts and,
    /// without expert parallelism, every expert's matrices.
    public var tensorParallelSize: Int
    /// `enable-expert-parallel`: routed experts are spread whole across the same GPUs instead of being split, and
    /// tokens travel to their experts and back by two all-to-alls per MoE layer.
    public var enableExpertParallel: Bool
    /// `quantization`; nil serves the checkpoint as published (BF16, or its own `quantization_config`).
    public var quantization: Quantization?
    /// `kv-cache-dtype`.
    public var kvCacheDType: KVCacheDType

    public init(
        gpu: GPUSpec, model: LLMSpec, tensorParallelSize: Int = 1, enableExpertParallel: Bool = false,
        quantization: Quantization? = nil, kvCacheDType: KVCacheDType = .auto
    ) {
        self.gpu = gpu
        self.model = model
        self.tensorParallelSize = tensorParallelSize
        self.enableExpertParallel = enableExpertParallel
        self.quantization = quantization
        self.kvCacheDType = kvCacheDType
    }

    // MARK: What vLLM refuses

    /// A setting vLLM would refuse (or that cannot mean anything) for this model, with the setting it concerns.
    public enum Problem: Sendable, Equatable, CustomStringConvertible {
        /// `quantization` names another format than the checkpoint's own (vLLM: "Quantization method specified in
        /// the model config does not match the quantization method specified in the `quantization` argument").
        case conflictsWithCheckpoint(requested: Quantization, checkpoint: Quantization, model: String)
        /// A format that exists only as a checkpoint format, asked of a model not published in it.
        case needsItsCheckpoint(Quantization, model: String)
        /// `enable-expert-parallel` on a model without experts.
        case noExperts(model: String)
        /// Fewer routed experts than GPUs to spread them over.
        case fewerExpertsThanGPUs(experts: Int, gpus: Int)

        /// The scenario key (and vLLM argument) the problem is about.
        public var key: String {
            switch self {
            case .conflictsWithCheckpoint, .needsItsCheckpoint: return "quantization"
            case .noExperts, .fewerExpertsThanGPUs: return "enable-expert-parallel"
            }
        }

        public var description: String {
            switch self {
            case .conflictsWithCheckpoint(let requested, let checkpoint, let model):
                return "\(model)'s checkpoint is quantized with \(checkpoint.rawValue); vLLM does not serve it as "
                    + "\(requested.rawValue) (leave `quantization` out, or give the config.json of a checkpoint quantized with "
                    + "\(requested.rawValue))"
            case .needsItsCheckpoint(let method, let model):
                return "\(method.rawValue) needs a checkpoint published in it; \(model)'s is not"
            case .noExperts(let model):
                return "\(model) has no experts to spread; `enable-expert-parallel` needs a mixture-of-experts model"
            case .fewerExpertsThanGPUs(let experts, let gpus):
                return "\(experts) experts cannot be spread over \(gpus) GPUs (each holds at least one)"
            }
        }
    }

    /// What vLLM would refuse in this deployment, or nil.
    public var problem: Problem? {
        if let quantization {
            if let checkpoint = model.checkpointQuantization, checkpoint.method != quantization {
                return .conflictsWithCheckpoint(
                    requested: quantization, checkpoint: checkpoint.method, model: model.name)
            }
            if model.checkpointQuantization == nil, !quantization.appliesToAnyCheckpoint {
                return .needsItsCheckpoint(quantization, model: model.name)
            }
        }
        if enableExpertParallel {
            guard let moe = model.moe else { return .noExperts(model: model.name) }
            if moe.experts < tensorParallelSize {
                return .fewerExpertsThanGPUs(experts: moe.experts, gpus: tensorParallelSize)
            }
        }
        return nil
    }

    // MARK: Weights

    /// The weights' format as served: the `quantization` asked for, else the checkpoint's own; nil for the
    /// model's dtype.
    public var weightQuantization: CheckpointQuantization? {
        if let checkpoint = model.checkpointQuantization, quantization == nil || quantization == checkpoint.method {
            return checkpoint
        }
        return quantization.map { CheckpointQuantization(method: $0) }
    }

    /// Whether every weight is in the model's dtype: no quantization at all.
    public var servesModelDType: Bool { weightQuantization == nil }

    /// Bytes per weight of the routed experts.
    public var expertBytesPerWeight: Double { weightQuantization?.method.bytesPerWeight ?? Double(model.dtypeBytes) }

    /// Bytes per weight of the other linear layers (attention, dense MLPs, shared experts).
    public var linearBytesPerWeight: Double {
        guard let format = weightQuantization, !format.expertsOnly else { return Double(model.dtypeBytes) }
        return format.method.bytesPerWeight
    }

    /// The tensor-core precision the linear layers other than the routed experts multiply at on this GPU.
    public var linearComputePrecision: ComputePrecision {
        guard let format = weightQuantization, !format.expertsOnly else { return .bf16 }
        return format.method.computePrecision.available(on: gpu)
    }

    /// The tensor-core precision the routed experts multiply at on this GPU.
    public var expertComputePrecision: ComputePrecision {
        (weightQuantization?.method.computePrecision ?? .bf16).available(on: gpu)
    }

    /// Bytes of the transformer layers' weights other than the routed experts: quantized linear layers plus the
    /// norms and routers, which stay in the model's dtype. Each term is a whole number of bytes below 2^53 in
    /// BF16, so their sum is exact and equals the dense catalog's `layerParameters × dtype`.
    public var nonExpertLayerWeightBytes: Double {
        let linear = model.nonExpertLinearParameters
        let unquantized = model.layerParameters - linear - model.routedExpertParameters
        return Double(linear) * linearBytesPerWeight + Double(unquantized) * Double(model.dtypeBytes)
    }

    /// Bytes of all routed experts' weights.
    public var routedExpertWeightBytes: Double { Double(model.routedExpertParameters) * expertBytesPerWeight }

    /// Bytes of the LM head (never quantized, as in vLLM).
    public var lmHeadWeightBytes: Double { Double(model.lmHeadParameters * model.dtypeBytes) }

    /// Bytes of all the weights, on all the replica's GPUs together: what the GPUs hold before any KV cache.
    public var weightBytes: Double {
        let embeddings = model.parameters - model.layerParameters
        return nonExpertLayerWeightBytes + routedExpertWeightBytes + Double(embeddings * model.dtypeBytes)
    }

    // MARK: KV cache

    /// Bytes per KV element.
    public var kvBytesPerElement: Int { kvCacheDType.bytesPerElement(modelDTypeBytes: model.dtypeBytes) }

    /// KV elements one token takes in one layer on one GPU: its share of the KV heads (at least one head: vLLM
    /// replicates KV heads when the GPUs outnumber them), or MLA's whole latent, which every GPU keeps.
    public var kvElementsPerTokenPerLayerPerGPU: Int {
        if model.latentAttention != nil { return model.kvElementsPerTokenPerLayer }
        let kvHeadsPerGPU = (model.kvHeads + tensorParallelSize - 1) / tensorParallelSize
        return 2 * kvHeadsPerGPU * model.headDim
    }

    /// Bytes of KV cache one token takes on one GPU, over the layers that keep every token.
    public var kvBytesPerTokenPerGPU: Int {
        model.fullAttentionLayers * kvElementsPerTokenPerLayerPerGPU * kvBytesPerElement
    }

    /// Bytes of KV cache one token takes on the whole replica (what a block of the engine's cache stands for).
    public var kvBytesPerToken: Int { kvBytesPerTokenPerGPU * tensorParallelSize }

    /// KV blocks as vLLM sizes them: the GPUs' memory × `gpu-memory-utilization`, less the weights and a reserve
    /// per GPU, divided by the KV bytes of a block. Nil when nothing is left.
    public func kvBlocks(gpuMemoryUtilization: Double, blockSize: Int, reserveBytesPerGPU: Int) -> Int? {
        let budget =
            Double(gpu.memoryBytes * tensorParallelSize) * gpuMemoryUtilization - weightBytes
            - Double(reserveBytesPerGPU * tensorParallelSize)
        let blocks = Int(budget / Double(kvBytesPerToken * blockSize))
        return blocks > 0 ? blocks : nil
    }

    /// A short description for listings and errors: `H100-80GB · Llama-3-8B · TP 2 · fp8 · kv fp8`.
    public var label: String {
        var parts = [gpu.name, model.name, "TP \(tensorParallelSize)"]
        if enableExpertParallel { parts.append("EP") }
        if let format = weightQuantization { parts.append(format.method.rawValue) }
        if kvCacheDType != .auto { parts.append("kv \(kvCacheDType.rawValue)") }
        return parts.joined(separator: " · ")
    }
}
