/// Step time from the GPU's datasheet and the model's architecture: a roofline per kind of kernel, the slower of
/// compute and memory traffic for the matrix multiplies and again for attention, plus the tensor-parallel
/// all-reduces and a fixed per-step overhead.
///
/// The two kinds run one after the other in every layer, so their times add: a step's decode attention, bound by
/// reading the KV cache, cannot hide under the compute of the prefill tokens' matrix multiplies. (A single max
/// over the whole step would assume it can, and would make a step that mixes a long prefill chunk with a large
/// decode batch look nearly free.) Decode tokens do ride on a prefill's matrix multiplies: they are rows of the
/// same GEMM, which reads the weights once.
///
/// All quantities are per GPU of the replica (tensor parallelism splits weights, heads and KV cache evenly):
///
/// - **Matrix multiplies**, the slower of
///   - compute: 2 × layer weights × batch tokens (every token goes through every linear layer of every layer)
///     + 2 × LM-head weights × sampled tokens (vLLM computes logits only for the tokens it samples: one per
///     decoding sequence, and one for the step's prefill part), at peak dense BF16 × `computeEfficiency`;
///   - memory: the layer and LM-head weights, read once per step (the input embedding is a row look-up and is
///     left out), at HBM bandwidth × `memoryEfficiency`.
/// - **Attention**, the slower of
///   - compute: 4 × query heads × head dim × layers × attention pairs (QKᵀ and PV, 2 FLOPs per multiply-add),
///     where the pairs are `prefillAttentionPairs + decodeContextTokens`;
///   - memory: `decodeContextTokens` × KV bytes per token (each decoding sequence reads its whole context)
///     + `prefillAttentionPairs` / 128 × KV bytes per token (FlashAttention reads the keys and values a query
///     tile of 128 rows attends to once per tile) + batch tokens × KV bytes per token (the new tokens' K and V
///     are written).
/// - **All-reduce** (TP > 1): two per layer (after attention and after the MLP), each of batch tokens × hidden ×
///   dtype bytes, as a ring: `allReduceLatencySeconds` + 2 (TP − 1) / TP × bytes / (one direction of the
///   interconnect × `allReduceBandwidthEfficiency`). It is not overlapped with compute.
/// - **Overhead**: `stepOverheadSeconds`, the CPU work of a step (scheduling, input preparation, sampling, output
///   processing) that the GPU waits for.
///
/// KV heads are replicated when TP exceeds their number, as vLLM does: each GPU holds at least one.
public struct RooflineTiming: StepTimingModel {
    /// How much of the datasheet peaks a real engine reaches, and the costs the roofline does not derive.
    ///
    /// The defaults are set from Vidur's measurements (see docs/calibration.md): large GEMMs reach about 65% of
    /// peak BF16 on both A100 and H100 (Llama-3-8B on A100 and Llama-2-70B TP4 on H100 at 2,048 tokens); the
    /// one-token layers stream weights at about 75% of HBM bandwidth; intra-node NCCL all-reduces cost 20–40 µs
    /// for small messages and reach about 60% of the NVLink one-way bandwidth for large ones; the CPU side of a
    /// step takes about 1 ms at small batches.
    public struct Factors: Sendable, Equatable {
        /// Fraction of peak dense BF16 throughput the matrix multiplies reach.
        public var computeEfficiency: Double
        /// Fraction of peak memory bandwidth weight and KV reads reach.
        public var memoryEfficiency: Double
        /// Fixed cost of one all-reduce call, seconds.
        public var allReduceLatencySeconds: Double
        /// Fraction of the interconnect's one-way bandwidth an all-reduce reaches.
        public var allReduceBandwidthEfficiency: Double
        /// Fixed CPU-side time added to every step, seconds.
        public var stepOverheadSeconds: Double

        public init(
            computeEfficiency: Double = 0.65, memoryEfficiency: Double = 0.75, allReduceLatencySeconds: Double = 20e-6,
            allReduceBandwidthEfficiency: Double = 0.6, stepOverheadSeconds: Double = 1e-3
        ) {
            self.computeEfficiency = computeEfficiency
            self.memoryEfficiency = memoryEfficiency
            self.allReduceLatencySeconds = allReduceLatencySeconds
            self.allReduceBandwidthEfficiency = allReduceBandwidthEfficiency
            self.stepOverheadSeconds = stepOverheadSeconds
        }

        /// The documented defaults.
        public static let defaults = Factors()
    }

    /// The terms of one step, per GPU (for reports and tests; ``stepDuration(_:)`` uses ``totalSeconds``).
    public struct Breakdown: Sendable, Equatable {
        /// Matrix-multiply FLOPs at the effective compute rate, seconds.
        public var linearComputeSeconds: Double
        /// Weight reads at the effective bandwidth, seconds.
        public var linearMemorySeconds: Double
        /// Attention FLOPs at the effective compute rate, seconds.
        public var attentionComputeSeconds: Double
        /// KV-cache reads and writes at the effective bandwidth, seconds.
        public var attentionMemorySeconds: Double
        /// The step's all-reduces, seconds.
        public var allReduceSeconds: Double
        /// The fixed per-step overhead, seconds.
        public var overheadSeconds: Double

        /// All FLOPs at the effective compute rate, seconds.
        public var computeSeconds: Double { linearComputeSeconds + attentionComputeSeconds }
        /// All device-memory traffic at the effective bandwidth, seconds.
        public var memorySeconds: Double { linearMemorySeconds + attentionMemorySeconds }
        /// max(matrix-multiply compute, weights) + max(attention compute, KV traffic) + all-reduce + overhead.
        public var totalSeconds: Double {
            max(linearComputeSeconds, linearMemorySeconds) + max(attentionComputeSeconds, attentionMemorySeconds)
                + allReduceSeconds + overheadSeconds
        }
        /// Whether compute, not memory traffic, dominates the step.
        public var isComputeBound: Bool { computeSeconds >= memorySeconds }
    }

    /// The GPU of each of the replica's ranks.
    public let gpu: GPUSpec
    /// The model served.
    public let model: LLMSpec
    /// GPUs the model is split across (tensor parallelism).
    public let tensorParallelSize: Int
    /// The efficiency factors and overheads.
    public let factors: Factors

    // Per-GPU coefficients, computed once.
    private let linearFLOPsPerToken: Double
    private let lmHeadFLOPsPerSample: Double
    private let attentionFLOPsPerPair: Double
    private let weightBytesPerStep: Double
    private let kvBytesPerToken: Double
    private let flopsPerSecond: Double
    private let bytesPerSecond: Double
    private let allReduceCalls: Double
    private let allReduceBytesPerToken: Double
    private let allReduceSecondsPerByte: Double

    /// The query tile of FlashAttention's prefill kernel: K and V are read once per this many query rows.
    static let prefillQueryTile = 128.0

    public init(gpu: GPUSpec, model: LLMSpec, tensorParallelSize: Int = 1, factors: Factors = .defaults) {
        precondition(tensorParallelSize >= 1, "tensor-parallel size must be at least 1")
        self.gpu = gpu
        self.model = model
        self.tensorParallelSize = tensorParallelSize
        self.factors = factors
        let tp = Double(tensorParallelSize)
        let kvHeadsPerGPU = (model.kvHeads + tensorParallelSize - 1) / tensorParallelSize
        linearFLOPsPerToken = 2 * Double(model.layerParameters) / tp
        lmHeadFLOPsPerSample = 2 * Double(model.lmHeadParameters) / tp
        attentionFLOPsPerPair = 4 * Double(model.attentionHeads * model.headDim * model.layers) / tp
        weightBytesPerStep = Double((model.layerParameters + model.lmHeadParameters) * model.dtypeBytes) / tp
        kvBytesPerToken = Double(model.layers * kvHeadsPerGPU * model.headDim * 2 * model.dtypeBytes)
        flopsPerSecond = gpu.denseBF16FLOPsPerSecond * factors.computeEfficiency
        bytesPerSecond = gpu.memoryBandwidthBytesPerSecond * factors.memoryEfficiency
        allReduceCalls = tensorParallelSize > 1 ? Double(2 * model.layers) : 0
        allReduceBytesPerToken = Double(model.hiddenSize * model.dtypeBytes)
        let oneWay = gpu.interconnectBytesPerSecond / 2 * factors.allReduceBandwidthEfficiency
        allReduceSecondsPerByte = 2 * (tp - 1) / tp / oneWay
    }

    /// The terms of a step of this shape.
    public func breakdown(_ shape: StepShape) -> Breakdown {
        let tokens = Double(shape.batchTokens)
        let sampled = Double(shape.decodeSequences + (shape.prefillTokens > 0 ? 1 : 0))
        let pairs = shape.prefillAttentionPairs + Double(shape.decodeContextTokens)
        let linearFLOPs = linearFLOPsPerToken * tokens + lmHeadFLOPsPerSample * sampled
        let kvTokens =
            Double(shape.decodeContextTokens) + shape.prefillAttentionPairs / Self.prefillQueryTile + tokens
        let allReduce =
            allReduceCalls
            * (factors.allReduceLatencySeconds + allReduceBytesPerToken * tokens * allReduceSecondsPerByte)
        return Breakdown(
            linearComputeSeconds: linearFLOPs / flopsPerSecond,
            linearMemorySeconds: weightBytesPerStep / bytesPerSecond,
            attentionComputeSeconds: attentionFLOPsPerPair * pairs / flopsPerSecond,
            attentionMemorySeconds: kvBytesPerToken * kvTokens / bytesPerSecond, allReduceSeconds: allReduce,
            overheadSeconds: factors.stepOverheadSeconds)
    }

    /// The step's duration: zero for an empty step, otherwise at least 1 ns.
    public func stepDuration(_ shape: StepShape) -> SimTime {
        guard shape.batchTokens > 0 else { return .zero }
        let nanoseconds = breakdown(shape).totalSeconds * 1e9
        return SimTime(nanoseconds: max(1, Int64(nanoseconds.rounded())))
    }
}
