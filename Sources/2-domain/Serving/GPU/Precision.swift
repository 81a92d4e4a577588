/// vLLM's `--quantization`: how the weights of the linear layers are stored, and what the matrix multiplies run at.
///
/// It applies to every linear layer (attention projections, MLPs, routed and shared experts); the embeddings,
/// the LM head, the norms and a mixture-of-experts router stay in the model's dtype, as in vLLM. The raw values are
/// vLLM's method names; docs/gpu-replica.md ("Precision") has the table this enum is checked against.
public enum Quantization: String, CaseIterable, Sendable {
    /// FP8 (E4M3) weights with a per-tensor scale, activations quantized to FP8 on the fly (W8A8): the dense FP8
    /// tensor-core peak. On a GPU without FP8 tensor cores (A100) vLLM keeps the weights in FP8 and multiplies in
    /// BF16 after dequantizing them in the kernel (Marlin, W8A16): FP8's bytes at the BF16 peak.
    case fp8
    /// INT8 weights and activations (W8A8, per-channel weight scales; vLLM runs such checkpoints through its
    /// compressed-tensors method): the dense INT8 peak.
    case int8
    /// AWQ: 4-bit weights in groups of 128, each group with an FP16 scale and a 4-bit zero point, so 4 + 20 / 128
    /// = 4.156 bits a weight. Weight-only: the kernels (Marlin) dequantize to BF16 and multiply at the BF16 peak.
    case awq
    /// GPTQ: stored as AWQ is (4-bit, groups of 128, FP16 scales, packed 4-bit zeros), 4.156 bits a weight, and
    /// multiplied the same way, at the BF16 peak.
    case gptq
    /// MXFP4 (OCP microscaling): 4-bit E2M1 weights in blocks of 32 with one 8-bit shared exponent, 4.25 bits a
    /// weight; gpt-oss's checkpoint format for its experts. Multiplied at the BF16 peak after dequantizing (as
    /// vLLM's Hopper kernels do); Blackwell's FP4 tensor cores are not modelled.
    case mxfp4

    /// Bytes one weight takes, its share of the scales included.
    public var bytesPerWeight: Double {
        switch self {
        case .fp8, .int8: return 1
        case .awq, .gptq: return (4 + 20.0 / 128) / 8
        case .mxfp4: return (4 + 8.0 / 32) / 8
        }
    }

    /// Which tensor-core peak the matrix multiplies of these weights run at, on a GPU that has it.
    public var computePrecision: ComputePrecision {
        switch self {
        case .fp8: return .fp8
        case .int8: return .int8
        case .awq, .gptq, .mxfp4: return .bf16
        }
    }

    /// Whether vLLM can apply it to a BF16 checkpoint when serving (online quantization). The others need a
    /// checkpoint quantized that way; for what-if studies we let `awq`, `gptq` and `int8` stand for such a
    /// checkpoint of the same model, but MXFP4 exists only as gpt-oss's own format.
    public var appliesToAnyCheckpoint: Bool { self != .mxfp4 }

    /// vLLM's method names, in registry order.
    public static let names = allCases.map(\.rawValue)

    /// One line for listings.
    public var summary: String {
        switch self {
        case .fp8: return "FP8 weights, FP8 GEMMs (W8A16 at the BF16 peak where the GPU has no FP8)"
        case .int8: return "INT8 weights and activations, INT8 GEMMs"
        case .awq: return "4-bit weights, groups of 128 (4.156 bits/weight), BF16 GEMMs"
        case .gptq: return "4-bit weights, groups of 128 (4.156 bits/weight), BF16 GEMMs"
        case .mxfp4: return "4-bit MXFP4 weights (4.25 bits/weight), BF16 GEMMs; gpt-oss checkpoints only"
        }
    }
}

/// The tensor-core precision matrix multiplies run at.
public enum ComputePrecision: String, Sendable, Equatable {
    case bf16, fp8, int8

    /// The GPU's dense peak at this precision, falling back to BF16 where the GPU has none.
    public func peakOpsPerSecond(on gpu: GPUSpec) -> Double {
        switch self {
        case .bf16: return gpu.denseBF16FLOPsPerSecond
        case .fp8: return gpu.denseFP8FLOPsPerSecond ?? gpu.denseBF16FLOPsPerSecond
        case .int8: return gpu.denseINT8OpsPerSecond ?? gpu.denseBF16FLOPsPerSecond
        }
    }

    /// What actually runs on `gpu`: this precision, or BF16 where the GPU lacks it.
    public func available(on gpu: GPUSpec) -> ComputePrecision {
        switch self {
        case .bf16: return .bf16
        case .fp8: return gpu.denseFP8FLOPsPerSecond == nil ? .bf16 : .fp8
        case .int8: return gpu.denseINT8OpsPerSecond == nil ? .bf16 : .int8
        }
    }
}

/// vLLM's `--kv-cache-dtype`: what the KV cache stores.
public enum KVCacheDType: String, CaseIterable, Sendable {
    /// The model's dtype (BF16 for every built-in).
    case auto
    /// FP8, E4M3 on NVIDIA GPUs: one byte an element.
    case fp8
    /// FP8 E4M3, spelled out.
    case fp8_e4m3
    /// FP8 E5M2.
    case fp8_e5m2

    /// Bytes per KV element for a model whose dtype takes `modelDTypeBytes`.
    public func bytesPerElement(modelDTypeBytes: Int) -> Int { self == .auto ? modelDTypeBytes : 1 }

    /// vLLM's names, in registry order.
    public static let names = allCases.map(\.rawValue)
}

/// A checkpoint's own quantization (its `config.json`'s `quantization_config.quant_method`), and what it covers.
public struct CheckpointQuantization: Sendable, Equatable {
    /// The format.
    public var method: Quantization
    /// Whether only the routed experts are stored so (gpt-oss: its attention stays BF16), or every linear layer.
    public var expertsOnly: Bool

    public init(method: Quantization, expertsOnly: Bool = false) {
        self.method = method
        self.expertsOnly = expertsOnly
    }
}
