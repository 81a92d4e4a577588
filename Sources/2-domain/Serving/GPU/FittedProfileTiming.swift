/// Step time from curves fitted to Vidur's per-operator GPU measurements (`scripts/calibrate.py`).
///
/// A step costs, summing the parts (nothing overlaps, as in an eager engine):
///
/// - **Non-attention layers**: layers × f(batch tokens), where f is the measured time of one layer's linear
///   layers, norms, rotary embedding and activation on this GPU, model and TP, as a piecewise-linear curve over
///   batch tokens (knots chosen by the fit where the GEMMs' tile quantization makes steps). Beyond the last
///   measured token count it grows in proportion to tokens.
/// - **Prefill attention**: layers × g(chunk tokens, tokens already cached), a bilinear grid over the measured
///   FlashAttention prefill kernel. The step's prefill part enters as one chunk of `prefillTokens` whose context
///   is recovered from `prefillAttentionPairs` (exact for one chunk; for several it keeps the total pairs).
/// - **Decode attention**: layers × h(decoding sequences, mean context), a bilinear grid over the measured paged
///   decode kernel.
/// - **All-reduce** (TP > 1): 2 × layers calls of a(batch tokens × hidden × 2 bytes), from NCCL measurements on
///   a DGX node.
/// - **CPU overhead**: base + slope × sequences in the step (decoding sequences, plus one for a prefill part).
///
/// The attention grids were measured once, on an A100 for 64 query / 8 KV heads of dim 128 at TP 2. Other
/// models and GPUs scale them: prefill (compute-bound) by query width per GPU and by the ratio of peak FLOP/s;
/// decode (bound by KV reads) by reading the context as longer or shorter in proportion to KV width per GPU and
/// to the ratio of memory bandwidths. These transfers are approximations; docs/calibration.md says how far.
public struct FittedProfileTiming: StepTimingModel {
    /// A fitted (GPU, model, TP) combination, by canonical names.
    public struct Key: Sendable, Hashable, Comparable, CustomStringConvertible {
        /// The GPU's canonical name (`GPUSpec.name`).
        public var gpu: String
        /// The model's canonical name (`LLMSpec.name`).
        public var model: String
        /// GPUs the model is split across.
        public var tensorParallelSize: Int

        public init(gpu: String, model: String, tensorParallelSize: Int) {
            self.gpu = gpu
            self.model = model
            self.tensorParallelSize = tensorParallelSize
        }

        public static func < (a: Key, b: Key) -> Bool {
            (a.gpu, a.model, a.tensorParallelSize) < (b.gpu, b.model, b.tensorParallelSize)
        }

        public var description: String { "\(gpu)/\(model)/TP\(tensorParallelSize)" }
    }

    /// Where a profile's layer curve comes from.
    public enum Provenance: Sendable, Equatable {
        /// Measured on this GPU, model and TP.
        case measured
        /// Not measured on this GPU: the curve of `source` (same GPU and TP) times `scale`, the ratio of the two
        /// models measured together on the A100.
        case derived(source: String, scale: Double)
    }

    /// The parts of one step, in seconds (for reports and tests; ``stepDuration(_:)`` uses ``totalSeconds``).
    public struct Breakdown: Sendable, Equatable {
        /// Linear layers, norms, rotary embedding and activation of all layers.
        public var nonAttentionSeconds: Double
        /// Prefill attention of all layers.
        public var prefillAttentionSeconds: Double
        /// Decode attention of all layers.
        public var decodeAttentionSeconds: Double
        /// The step's tensor-parallel all-reduces.
        public var allReduceSeconds: Double
        /// The CPU side of the step.
        public var cpuOverheadSeconds: Double

        /// The sum of the parts.
        public var totalSeconds: Double {
            nonAttentionSeconds + prefillAttentionSeconds + decodeAttentionSeconds + allReduceSeconds
                + cpuOverheadSeconds
        }
    }

    /// The GPU of each rank.
    public let gpu: GPUSpec
    /// The model served.
    public let model: LLMSpec
    /// GPUs the model is split across.
    public let tensorParallelSize: Int
    /// Measured or derived.
    public let provenance: Provenance

    private let layerCurve: PiecewiseLinear
    private let allReduceCurve: PiecewiseLinear?
    /// Multiplies the reference prefill-attention time.
    private let prefillScale: Double
    /// Multiplies the mean context before the reference decode-attention grid is read.
    private let decodeContextScale: Double
    private let layers: Double
    private let allReduceBytesPerToken: Double
    // The shared tables, held here so that a step does not go through the statics' lazy initialization.
    private let prefillGrid: Grid2D
    private let decodeGrid: Grid2D
    private let cpu: CPUOverhead

    /// Every (GPU, model, TP) with a profile, sorted.
    public static let available: [Key] = {
        let measured = generatedLayerTables.map {
            Key(gpu: $0.gpu, model: $0.model, tensorParallelSize: $0.tensorParallelSize)
        }
        let derived = generatedDerivedTables.map {
            Key(gpu: $0.gpu, model: $0.model, tensorParallelSize: $0.tensorParallelSize)
        }
        return (measured + derived).filter { profile(for: $0) != nil }.sorted()
    }()

    /// The profile of this GPU, model (names or aliases, any case) and TP; nil if it was not fitted.
    public static func profile(gpu: String, model: String, tensorParallelSize: Int) -> FittedProfileTiming? {
        guard let gpuSpec = GPUSpec.named(gpu), let modelSpec = LLMSpec.named(model) else { return nil }
        return profile(for: Key(gpu: gpuSpec.name, model: modelSpec.name, tensorParallelSize: tensorParallelSize))
    }

    /// The profile of this deployment, or nil when it was not fitted: the profiles were measured in BF16 with a
    /// BF16 KV cache and tensor parallelism only, for the built-in dense models, so any other precision, expert
    /// parallelism or a model read from a `config.json` has none (``whyNoProfile(for:)`` says which).
    public static func profile(for deployment: ModelDeployment) -> FittedProfileTiming? {
        guard whyNoProfile(for: deployment) == nil else { return nil }
        return profile(
            for: Key(
                gpu: deployment.gpu.name, model: deployment.model.name,
                tensorParallelSize: deployment.tensorParallelSize))
    }

    /// Why `deployment` has no fitted profile, as a phrase ("quantization fp8"), or nil when it has one.
    public static func whyNoProfile(for deployment: ModelDeployment) -> String? {
        let model = deployment.model
        if let format = deployment.weightQuantization { return "quantization \(format.method.rawValue)" }
        if deployment.kvCacheDType != .auto { return "kv-cache-dtype \(deployment.kvCacheDType.rawValue)" }
        if deployment.enableExpertParallel { return "enable-expert-parallel" }
        // Looked up by name, so a model read from a config.json that happens to carry a built-in's name must also
        // be that built-in.
        guard GPUSpec.named(deployment.gpu.name) == deployment.gpu, LLMSpec.named(model.name) == model else {
            return "a model or GPU outside the built-in catalog"
        }
        let key = Key(gpu: deployment.gpu.name, model: model.name, tensorParallelSize: deployment.tensorParallelSize)
        guard available.contains(key) else {
            return "\(model.name) on \(deployment.gpu.name) at tensor-parallel-size \(deployment.tensorParallelSize)"
        }
        return nil
    }

    private static func profile(for key: Key) -> FittedProfileTiming? {
        guard let gpu = GPUSpec.named(key.gpu), let model = LLMSpec.named(key.model),
            let reference = GPUSpec.named(attentionReference.gpu)
        else { return nil }
        let tp = key.tensorParallelSize
        func table(_ model: String) -> LayerTable? {
            generatedLayerTables.first { $0.gpu == key.gpu && $0.model == model && $0.tensorParallelSize == tp }
        }
        let curve: PiecewiseLinear
        let provenance: Provenance
        if let measured = table(key.model) {
            curve = PiecewiseLinear(x: measured.tokens, y: measured.micros)
            provenance = .measured
        } else if let derived = generatedDerivedTables.first(where: {
            $0.gpu == key.gpu && $0.model == key.model && $0.tensorParallelSize == tp
        }), let source = table(derived.source) {
            curve = PiecewiseLinear(x: source.tokens, y: source.micros.map { $0 * derived.scale })
            provenance = .derived(source: derived.source, scale: derived.scale)
        } else {
            return nil
        }
        var allReduce: PiecewiseLinear? = nil
        if tp > 1 {
            guard
                let measured = generatedAllReduceTables.first(where: {
                    $0.gpu == key.gpu && $0.tensorParallelSize == tp
                })
            else { return nil }
            allReduce = PiecewiseLinear(x: measured.bytes, y: measured.micros)
        }
        return FittedProfileTiming(
            gpu: gpu, model: model, tensorParallelSize: tp, provenance: provenance, layerCurve: curve,
            allReduceCurve: allReduce, reference: reference)
    }

    private init(
        gpu: GPUSpec, model: LLMSpec, tensorParallelSize: Int, provenance: Provenance, layerCurve: PiecewiseLinear,
        allReduceCurve: PiecewiseLinear?, reference: GPUSpec
    ) {
        self.gpu = gpu
        self.model = model
        self.tensorParallelSize = tensorParallelSize
        self.provenance = provenance
        self.layerCurve = layerCurve
        self.allReduceCurve = allReduceCurve
        let ref = Self.attentionReference
        let tp = Double(tensorParallelSize)
        let queryWidth = Double(model.attentionHeads * model.headDim) / tp
        let referenceQueryWidth = Double(ref.heads * ref.headDim) / Double(ref.tensorParallelSize)
        prefillScale =
            queryWidth / referenceQueryWidth * reference.denseBF16FLOPsPerSecond / gpu.denseBF16FLOPsPerSecond
        let kvHeadsPerGPU = (model.kvHeads + tensorParallelSize - 1) / tensorParallelSize
        let referenceKVHeads = (ref.kvHeads + ref.tensorParallelSize - 1) / ref.tensorParallelSize
        decodeContextScale =
            Double(kvHeadsPerGPU * model.headDim) / Double(referenceKVHeads * ref.headDim)
            * reference.memoryBandwidthBytesPerSecond / gpu.memoryBandwidthBytesPerSecond
        layers = Double(model.layers)
        allReduceBytesPerToken = Double(model.hiddenSize * model.dtypeBytes)
        prefillGrid = Self.generatedPrefillAttention
        decodeGrid = Self.generatedDecodeAttention
        cpu = Self.generatedCPUOverhead
    }

    // MARK: Components

    /// One layer's non-attention time at this many batch tokens, seconds.
    public func nonAttentionLayerSeconds(batchTokens: Int) -> Double {
        guard batchTokens > 0 else { return 0 }
        return layerCurve(Double(batchTokens)) * 1e-6
    }

    /// One layer's prefill attention for `chunkTokens` new tokens with `attentionPairs` (query, key) pairs,
    /// seconds. A chunk longer than the measured 4,096 tokens costs as that many 4,096-token pieces, each
    /// attending to the context before it.
    public func prefillAttentionLayerSeconds(chunkTokens: Int, attentionPairs: Double) -> Double {
        guard chunkTokens > 0 else { return 0 }
        let grid = prefillGrid
        let chunk = Double(chunkTokens)
        let context = max(0, attentionPairs / chunk - chunk / 2)
        let longest = grid.x[grid.x.count - 1]
        let reference =
            chunk <= longest ? grid(chunk, context) : chunk / longest * grid(longest, context + (chunk - longest) / 2)
        return max(prefillScale * reference, grid.micros[0]) * 1e-6
    }

    /// One layer's decode attention for `sequences` decoding sequences holding `contextTokens` KV tokens in all,
    /// seconds. Beyond the measured 128 sequences it grows in proportion to the sequences.
    public func decodeAttentionLayerSeconds(sequences: Int, contextTokens: Int) -> Double {
        guard sequences > 0 else { return 0 }
        let grid = decodeGrid
        let batch = Double(sequences)
        let context = Double(contextTokens) / batch * decodeContextScale
        let largest = grid.x[grid.x.count - 1]
        let micros = batch <= largest ? grid(batch, context) : grid(largest, context) * batch / largest
        return micros * 1e-6
    }

    /// One all-reduce of `bytes` across the replica's GPUs, seconds; zero at TP 1.
    public func allReduceSeconds(bytes: Double) -> Double {
        guard let curve = allReduceCurve, bytes > 0 else { return 0 }
        return curve(bytes) * 1e-6
    }

    /// The CPU side of a step with this many sequences, seconds.
    public static func cpuOverheadSeconds(sequences: Int) -> Double {
        let cpu = generatedCPUOverhead
        return (cpu.baseMicros + cpu.perSequenceMicros * Double(sequences)) * 1e-6
    }

    /// The parts of a step of this shape.
    public func breakdown(_ shape: StepShape) -> Breakdown {
        let tokens = shape.batchTokens
        let sequences = shape.decodeSequences + (shape.prefillTokens > 0 ? 1 : 0)
        return Breakdown(
            nonAttentionSeconds: layers * nonAttentionLayerSeconds(batchTokens: tokens),
            prefillAttentionSeconds: layers
                * prefillAttentionLayerSeconds(
                    chunkTokens: shape.prefillTokens, attentionPairs: shape.prefillAttentionPairs),
            decodeAttentionSeconds: layers
                * decodeAttentionLayerSeconds(
                    sequences: shape.decodeSequences, contextTokens: shape.decodeContextTokens),
            allReduceSeconds: 2 * layers * allReduceSeconds(bytes: allReduceBytesPerToken * Double(tokens)),
            cpuOverheadSeconds: (cpu.baseMicros + cpu.perSequenceMicros * Double(sequences)) * 1e-6)
    }

    /// The step's duration: zero for an empty step, otherwise at least 1 ns.
    public func stepDuration(_ shape: StepShape) -> SimTime {
        guard shape.batchTokens > 0 else { return .zero }
        let nanoseconds = breakdown(shape).totalSeconds * 1e9
        return SimTime(nanoseconds: max(1, Int64(nanoseconds.rounded())))
    }
}

// MARK: - Tables (filled in by FittedProfiles.generated.swift)

extension FittedProfileTiming {
    /// A measured per-layer curve: knots of batch tokens and the fitted time there, µs.
    struct LayerTable: Sendable {
        var gpu: String
        var model: String
        var tensorParallelSize: Int
        var tokens: [Double]
        var micros: [Double]
    }

    /// A curve not measured on its GPU: `source`'s curve on the same GPU and TP, times `scale`.
    struct DerivedLayerTable: Sendable {
        var gpu: String
        var model: String
        var tensorParallelSize: Int
        var source: String
        var scale: Double
    }

    /// One all-reduce's time, µs, at knots of message bytes.
    struct AllReduceTable: Sendable {
        var gpu: String
        var tensorParallelSize: Int
        var bytes: [Double]
        var micros: [Double]
    }

    /// The model shape and GPU the attention grids were measured on.
    struct AttentionReference: Sendable {
        var gpu: String
        var heads: Int
        var kvHeads: Int
        var headDim: Int
        var tensorParallelSize: Int
    }

    /// CPU time per step: `baseMicros + perSequenceMicros × sequences`.
    struct CPUOverhead: Sendable {
        var baseMicros: Double
        var perSequenceMicros: Double
    }
}

/// A piecewise-linear curve through knots: flat before the first knot, proportional to x after the last.
struct PiecewiseLinear: Sendable {
    let x: [Double]
    let y: [Double]

    func callAsFunction(_ value: Double) -> Double {
        let last = x.count - 1
        if value <= x[0] { return y[0] }
        if value >= x[last] { return y[last] * value / x[last] }
        let j = Grid2D.segment(x, value)
        return y[j] + (value - x[j]) / (x[j + 1] - x[j]) * (y[j + 1] - y[j])
    }
}

/// Values on a grid of knots, read bilinearly: clamped before the first knot of each axis, extended linearly
/// (with the last cell's slope) after the last.
struct Grid2D: Sendable {
    /// Knots of the first axis.
    let x: [Double]
    /// Knots of the second axis.
    let y: [Double]
    /// Values, µs, `x`-major: the value at (x[i], y[j]) is `micros[i * y.count + j]`.
    let micros: [Double]

    /// The index j of the cell [knots[j], knots[j + 1]] to use for `value` (the last cell beyond the end).
    static func segment(_ knots: [Double], _ value: Double) -> Int {
        var low = 0
        var high = knots.count - 1
        while high - low > 1 {
            let mid = (low + high) / 2
            if knots[mid] <= value { low = mid } else { high = mid }
        }
        return low
    }

    func callAsFunction(_ u: Double, _ v: Double) -> Double {
        let u = max(u, x[0])
        let v = max(v, y[0])
        let i = Self.segment(x, u)
        let j = Self.segment(y, v)
        let s = (u - x[i]) / (x[i + 1] - x[i])
        let t = (v - y[j]) / (y[j + 1] - y[j])
        let n = y.count
        let low = micros[i * n + j] + t * (micros[i * n + j + 1] - micros[i * n + j])
        let high = micros[(i + 1) * n + j] + t * (micros[(i + 1) * n + j + 1] - micros[(i + 1) * n + j])
        return low + s * (high - low)
    }
}
