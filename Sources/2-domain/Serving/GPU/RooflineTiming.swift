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
        /// Fraction of peak dense BF16 throughput attention reaches; nil: `computeEfficiency`, as the datasheet
        /// defaults assume. A calibrated profile may set it apart, since FlashAttention and the GEMMs reach different
        /// shares of peak on a given stack.
        public var attentionComputeEfficiency: Double?
        /// CPU time per sequence in the step (scheduling, sampling and detokenizing grow with the batch), seconds.
        public var perSequenceOverheadSeconds: Double

        public init(
            computeEfficiency: Double = 0.65, memoryEfficiency: Double = 0.75, allReduceLatencySeconds: Double = 20e-6,
            allReduceBandwidthEfficiency: Double = 0.6, stepOverheadSeconds: Double = 1e-3,
            attentionComputeEfficiency: Double? = nil, perSequenceOverheadSeconds: Double = 0
        ) {
            self.computeEfficiency = computeEfficiency
            self.memoryEfficiency = memoryEfficiency
            self.allReduceLatencySeconds = allReduceLatencySeconds
            self.allReduceBandwidthEfficiency = allReduceBandwidthEfficiency
            self.stepOverheadSeconds = stepOverheadSeconds
            self.attentionComputeEfficiency = attentionComputeEfficiency
            self.perSequenceOverheadSeconds = perSequenceOverheadSeconds
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
        /// The step's tensor-parallel all-reduces, seconds.
        public var allReduceSeconds: Double
        /// The step's expert-parallel all-to-alls (dispatch and combine), seconds; 0 without expert parallelism.
        public var allToAllSeconds: Double
        /// The per-step overhead, fixed and per sequence, seconds.
        public var overheadSeconds: Double

        /// All FLOPs at the effective compute rate, seconds.
        public var computeSeconds: Double { linearComputeSeconds + attentionComputeSeconds }
        /// All device-memory traffic at the effective bandwidth, seconds.
        public var memorySeconds: Double { linearMemorySeconds + attentionMemorySeconds }
        /// max(matrix-multiply compute, weights) + max(attention compute, KV traffic) + all-reduce + all-to-all
        /// + overhead.
        public var totalSeconds: Double {
            max(linearComputeSeconds, linearMemorySeconds) + max(attentionComputeSeconds, attentionMemorySeconds)
                + allReduceSeconds + allToAllSeconds + overheadSeconds
        }
        /// Whether compute, not memory traffic, dominates the step.
        public var isComputeBound: Bool { computeSeconds >= memorySeconds }
    }

    /// The GPU of each of the replica's ranks.
    public var gpu: GPUSpec { storage.deployment.gpu }
    /// The model served.
    public var model: LLMSpec { storage.deployment.model }
    /// GPUs the model is split across (tensor parallelism).
    public var tensorParallelSize: Int { storage.deployment.tensorParallelSize }
    /// The model, GPUs, parallelism and precision.
    public var deployment: ModelDeployment { storage.deployment }
    /// The efficiency factors and overheads.
    public var factors: Factors { storage.factors }

    /// Everything, behind one reference. A step is timed through `any StepTimingModel`, and when the value behind
    /// it was a large struct, Swift copied all of it on every call (a 144–521-byte `memcpy` per step, measured with
    /// callgrind); a reference is passed in a register.
    private let storage: Storage

    /// The deployment, the factors and the per-GPU coefficients, computed once. Each coefficient is written so that
    /// a BF16 dense model gets the very numbers it got before precision, experts and sliding windows existed
    /// (TimingPinTests holds them to it).
    private final class Storage: Sendable {
        let deployment: ModelDeployment
        let factors: Factors
        let linearFLOPsPerToken: Double
        let lmHeadFLOPsPerSample: Double
        let attentionFLOPsPerPair: Double
        /// Weights every step reads: all layers' but the routed experts', and the LM head.
        let weightBytesPerStep: Double
        let kvBytesPerToken: Double
        let linearFLOPsPerSecond: Double
        let attentionFLOPsPerSecond: Double
        let bytesPerSecond: Double
        let allReduceCalls: Double
        let allReduceBytesPerToken: Double
        let allReduceSecondsPerByte: Double
        /// Whether the model is dense with grouped-query attention and the overhead fixed per step: its steps take
        /// the shorter path, which must stay as fast as it was (the hot path).
        let plain: Bool
        /// The terms dense GQA models do not have.
        let extensions: Extensions

        init(
            deployment: ModelDeployment, factors: Factors, linearFLOPsPerToken: Double, lmHeadFLOPsPerSample: Double,
            attentionFLOPsPerPair: Double, weightBytesPerStep: Double, kvBytesPerToken: Double,
            linearFLOPsPerSecond: Double, attentionFLOPsPerSecond: Double, bytesPerSecond: Double,
            allReduceCalls: Double, allReduceBytesPerToken: Double, allReduceSecondsPerByte: Double,
            extensions: Extensions
        ) {
            self.deployment = deployment
            self.factors = factors
            self.linearFLOPsPerToken = linearFLOPsPerToken
            self.lmHeadFLOPsPerSample = lmHeadFLOPsPerSample
            self.attentionFLOPsPerPair = attentionFLOPsPerPair
            self.weightBytesPerStep = weightBytesPerStep
            self.kvBytesPerToken = kvBytesPerToken
            self.linearFLOPsPerSecond = linearFLOPsPerSecond
            self.attentionFLOPsPerSecond = attentionFLOPsPerSecond
            self.bytesPerSecond = bytesPerSecond
            self.allReduceCalls = allReduceCalls
            self.allReduceBytesPerToken = allReduceBytesPerToken
            self.allReduceSecondsPerByte = allReduceSecondsPerByte
            self.extensions = extensions
            plain =
                extensions.decodePairWeight == 1 && extensions.expertBytesPerStep == 0
                && extensions.slidingWindowTokens == 0 && extensions.allToAllCalls == 0
                && factors.perSequenceOverheadSeconds == 0
        }
    }

    /// Coefficients of the terms dense GQA models do not have.
    private struct Extensions: Sendable {
        /// Decode attention FLOPs per (query, key) pair relative to prefill's: 1 except under MLA, whose decode runs
        /// over the latent and prefill over decompressed heads.
        var decodePairWeight: Double
        /// The routed experts' weights, of which a step reads those its tokens are sent to (0: read whole).
        var expertBytesPerStep: Double
        /// 1 − top-k / experts: the chance a token leaves a given expert untouched.
        var expertUntouchedPerToken: Double
        /// Sliding-window layers' share of the attention FLOPs per pair and of the KV bytes per token.
        var slidingAttentionFLOPsPerPair: Double
        var slidingKVBytesPerToken: Double
        /// The window, tokens; 0 without sliding-window layers.
        var slidingWindowTokens: Double
        /// Expert parallelism's all-to-alls per step (0 without) and their seconds per byte of a message.
        var allToAllCalls: Double
        var allToAllSecondsPerByte: Double
    }

    /// The query tile of FlashAttention's prefill kernel: K and V are read once per this many query rows.
    static let prefillQueryTile = 128.0

    /// The roofline of a BF16 (or checkpoint-format) model split over `tensorParallelSize` GPUs.
    public init(gpu: GPUSpec, model: LLMSpec, tensorParallelSize: Int = 1, factors: Factors = .defaults) {
        self.init(ModelDeployment(gpu: gpu, model: model, tensorParallelSize: tensorParallelSize), factors: factors)
    }

    /// The roofline of a deployment. It should have no ``ModelDeployment/problem``; one with a problem is timed
    /// as written all the same.
    public init(_ deployment: ModelDeployment, factors: Factors = .defaults) {
        precondition(deployment.tensorParallelSize >= 1, "tensor-parallel size must be at least 1")
        let model = deployment.model
        let gpu = deployment.gpu
        let tensorParallelSize = deployment.tensorParallelSize
        let tp = Double(tensorParallelSize)
        let linearPeak = deployment.linearComputePrecision.peakOpsPerSecond(on: gpu)
        let bf16Peak = gpu.denseBF16FLOPsPerSecond
        // FLOPs that run at another peak than the linear layers' are scaled to it (a ratio of exactly 1 when the
        // peaks agree), so a step still takes one division.
        let expertPeakRatio = linearPeak / deployment.expertComputePrecision.peakOpsPerSecond(on: gpu)
        let activeExpertParameters =
            model.moeLayers * (model.moe?.expertsPerToken ?? 0) * model.expertParameters
        let linearFLOPsPerToken =
            expertPeakRatio == 1
            ? 2 * Double(model.activeLayerParameters) / tp
            : 2
                * (Double(model.activeLayerParameters - activeExpertParameters)
                    + Double(activeExpertParameters) * expertPeakRatio) / tp
        let lmHeadFLOPsPerSample = 2 * Double(model.lmHeadParameters) / tp * (linearPeak / bf16Peak)

        let fullLayers = model.fullAttentionLayers
        let slidingLayers = model.slidingWindowLayers
        let attentionFLOPsPerPair: Double
        let decodePairWeight: Double
        let slidingAttentionFLOPsPerPair: Double
        if let mla = model.latentAttention {
            // Prefill attends over decompressed heads (QKᵀ over nope + rope, PV over v); decode over the latent with
            // the up-projections absorbed into the query and output (QKᵀ over latent + rope, PV over the latent).
            let prefillPerHead = Double(2 * (mla.qkNopeHeadDim + mla.qkRopeHeadDim + mla.vHeadDim))
            let decodePerHead = Double(2 * (2 * mla.kvLoraRank + mla.qkRopeHeadDim))
            attentionFLOPsPerPair = prefillPerHead * Double(model.attentionHeads * fullLayers) / tp
            slidingAttentionFLOPsPerPair = prefillPerHead * Double(model.attentionHeads * slidingLayers) / tp
            decodePairWeight = decodePerHead / prefillPerHead
        } else {
            attentionFLOPsPerPair = 4 * Double(model.attentionHeads * model.headDim * fullLayers) / tp
            slidingAttentionFLOPsPerPair = 4 * Double(model.attentionHeads * model.headDim * slidingLayers) / tp
            decodePairWeight = 1
        }

        let experts = model.moe.map { (routed: $0.experts, perToken: $0.expertsPerToken) }
        let everyExpertEveryStep = experts.map { $0.perToken >= $0.routed } ?? true
        let layerBytes =
            everyExpertEveryStep
            ? deployment.nonExpertLayerWeightBytes + deployment.routedExpertWeightBytes
            : deployment.nonExpertLayerWeightBytes
        let weightBytesPerStep = (layerBytes + deployment.lmHeadWeightBytes) / tp
        let expertBytesPerStep = everyExpertEveryStep ? 0 : deployment.routedExpertWeightBytes / tp

        let kvBytesPerLayer = deployment.kvElementsPerTokenPerLayerPerGPU * deployment.kvBytesPerElement
        let kvBytesPerToken = Double(fullLayers * kvBytesPerLayer)

        let linearFLOPsPerSecond = linearPeak * factors.computeEfficiency
        let attentionFLOPsPerSecond = bf16Peak * (factors.attentionComputeEfficiency ?? factors.computeEfficiency)
        let bytesPerSecond = gpu.memoryBandwidthBytesPerSecond * factors.memoryEfficiency
        let expertParallel = deployment.enableExpertParallel && model.moe != nil && tensorParallelSize > 1
        // Without expert parallelism: an all-reduce after attention and one after the MLP (or MoE) of each layer.
        // With it, an MoE layer's experts answer by all-to-all instead: dispatch and combine.
        let allReduceCalls =
            tensorParallelSize > 1
            ? Double(expertParallel ? model.layers + model.denseMLPLayers : 2 * model.layers) : 0
        let allReduceBytesPerToken = Double(model.hiddenSize * model.dtypeBytes)
        let oneWay =
            gpu.interconnectBytesPerSecond(amongGPUs: tensorParallelSize) / 2 * factors.allReduceBandwidthEfficiency
        let allReduceSecondsPerByte = 2 * (tp - 1) / tp / oneWay

        let extensions = Extensions(
            decodePairWeight: decodePairWeight, expertBytesPerStep: expertBytesPerStep,
            expertUntouchedPerToken: experts.map { 1 - Double($0.perToken) / Double($0.routed) } ?? 1,
            slidingAttentionFLOPsPerPair: slidingAttentionFLOPsPerPair,
            slidingKVBytesPerToken: Double(slidingLayers * kvBytesPerLayer),
            slidingWindowTokens: Double(slidingLayers > 0 ? model.slidingWindow?.tokens ?? 0 : 0),
            allToAllCalls: expertParallel ? Double(2 * model.moeLayers) : 0,
            allToAllSecondsPerByte: (tp - 1) / tp / oneWay)
        storage = Storage(
            deployment: deployment, factors: factors, linearFLOPsPerToken: linearFLOPsPerToken,
            lmHeadFLOPsPerSample: lmHeadFLOPsPerSample, attentionFLOPsPerPair: attentionFLOPsPerPair,
            weightBytesPerStep: weightBytesPerStep, kvBytesPerToken: kvBytesPerToken,
            linearFLOPsPerSecond: linearFLOPsPerSecond, attentionFLOPsPerSecond: attentionFLOPsPerSecond,
            bytesPerSecond: bytesPerSecond, allReduceCalls: allReduceCalls,
            allReduceBytesPerToken: allReduceBytesPerToken,
            allReduceSecondsPerByte: allReduceSecondsPerByte, extensions: extensions)
    }

    /// The share of the routed experts' weights a step of `batchTokens` tokens reads: the expected distinct experts
    /// its tokens go through (``LLMSpec/MixtureOfExperts/expectedExpertsTouched(byTokens:)``) over all experts;
    /// 1 for a dense model.
    public func expertWeightFractionRead(batchTokens: Int) -> Double {
        guard let moe = model.moe else { return 1 }
        return moe.expectedExpertsTouched(byTokens: batchTokens) / Double(moe.experts)
    }

    /// The terms of a step of this shape.
    public func breakdown(_ shape: StepShape) -> Breakdown {
        storage.plain ? plainBreakdown(shape) : extendedBreakdown(shape)
    }

    /// The terms of a step of a dense model with grouped-query attention: the roofline as it has always been.
    @inline(__always)
    private func plainBreakdown(_ shape: StepShape) -> Breakdown {
        let c = storage
        let tokens = Double(shape.batchTokens)
        let sampled = Double(shape.decodeSequences + (shape.prefillTokens > 0 ? 1 : 0))
        let pairs = shape.prefillAttentionPairs + Double(shape.decodeContextTokens)
        let linearFLOPs = c.linearFLOPsPerToken * tokens + c.lmHeadFLOPsPerSample * sampled
        let kvTokens = Double(shape.decodeContextTokens) + shape.prefillAttentionPairs / Self.prefillQueryTile + tokens
        let allReduce =
            c.allReduceCalls
            * (c.factors.allReduceLatencySeconds + c.allReduceBytesPerToken * tokens * c.allReduceSecondsPerByte)
        return Breakdown(
            linearComputeSeconds: linearFLOPs / c.linearFLOPsPerSecond,
            linearMemorySeconds: c.weightBytesPerStep / c.bytesPerSecond,
            attentionComputeSeconds: c.attentionFLOPsPerPair * pairs / c.attentionFLOPsPerSecond,
            attentionMemorySeconds: c.kvBytesPerToken * kvTokens / c.bytesPerSecond, allReduceSeconds: allReduce,
            allToAllSeconds: 0, overheadSeconds: c.factors.stepOverheadSeconds)
    }

    /// The terms of a step of a mixture of experts, an MLA model, a model with sliding-window layers, or one with
    /// expert parallelism.
    private func extendedBreakdown(_ shape: StepShape) -> Breakdown {
        let c = storage
        let extensions = c.extensions
        let tokens = Double(shape.batchTokens)
        let sampled = Double(shape.decodeSequences + (shape.prefillTokens > 0 ? 1 : 0))
        let decodeContext = Double(shape.decodeContextTokens)
        let pairs = shape.prefillAttentionPairs + extensions.decodePairWeight * decodeContext
        let linearFLOPs = c.linearFLOPsPerToken * tokens + c.lmHeadFLOPsPerSample * sampled
        var weightBytes = c.weightBytesPerStep
        if extensions.expertBytesPerStep > 0 {
            let untouched = LLMSpec.MixtureOfExperts.power(extensions.expertUntouchedPerToken, shape.batchTokens)
            weightBytes += extensions.expertBytesPerStep * (1 - untouched)
        }
        let kvTokens = decodeContext + shape.prefillAttentionPairs / Self.prefillQueryTile + tokens
        var attentionFLOPs = c.attentionFLOPsPerPair * pairs
        var kvBytes = c.kvBytesPerToken * kvTokens
        let window = extensions.slidingWindowTokens
        if window > 0 {
            // Σ min(context, window) over sequences is at most min(Σ context, sequences × window), and equal to it
            // when every sequence's context is at least the window (or none is); likewise for prefill tokens.
            let prefillPairs = min(shape.prefillAttentionPairs, Double(shape.prefillTokens) * window)
            let decodeRead = min(decodeContext, Double(shape.decodeSequences) * window)
            attentionFLOPs +=
                extensions.slidingAttentionFLOPsPerPair * (prefillPairs + extensions.decodePairWeight * decodeRead)
            kvBytes += extensions.slidingKVBytesPerToken * (decodeRead + prefillPairs / Self.prefillQueryTile + tokens)
        }
        let allReduce =
            c.allReduceCalls
            * (c.factors.allReduceLatencySeconds + c.allReduceBytesPerToken * tokens * c.allReduceSecondsPerByte)
        let allToAll =
            extensions.allToAllCalls
            * (c.factors.allReduceLatencySeconds + c.allReduceBytesPerToken * tokens * extensions.allToAllSecondsPerByte)
        return Breakdown(
            linearComputeSeconds: linearFLOPs / c.linearFLOPsPerSecond,
            linearMemorySeconds: weightBytes / c.bytesPerSecond,
            attentionComputeSeconds: attentionFLOPs / c.attentionFLOPsPerSecond,
            attentionMemorySeconds: kvBytes / c.bytesPerSecond, allReduceSeconds: allReduce,
            allToAllSeconds: allToAll,
            overheadSeconds: c.factors.stepOverheadSeconds + c.factors.perSequenceOverheadSeconds * sampled)
    }

    /// The step's duration: zero for an empty step, otherwise at least 1 ns.
    public func stepDuration(_ shape: StepShape) -> SimTime {
        guard shape.batchTokens > 0 else { return .zero }
        let seconds: Double
        if storage.plain {
            // The same sum as `totalSeconds` without its all-to-all term, which is 0 here: the hot path of every
            // dense model, kept to the operations it had.
            let step = plainBreakdown(shape)
            seconds =
                max(step.linearComputeSeconds, step.linearMemorySeconds)
                + max(step.attentionComputeSeconds, step.attentionMemorySeconds) + step.allReduceSeconds
                + step.overheadSeconds
        } else {
            seconds = extendedBreakdown(shape).totalSeconds
        }
        let nanoseconds = seconds * 1e9
        return SimTime(nanoseconds: max(1, Int64(nanoseconds.rounded())))
    }
}
