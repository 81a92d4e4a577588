/// A GPU replica's LoRA settings (vLLM's `--enable-lora` engine arguments) and the costs derived from its model
/// and hardware. A replica without them serves the base model only.
///
/// docs/gpu-replica.md, "LoRA adapters", gives the sources and the assumptions behind the costs.
public struct LoRASettings: Sendable, Equatable {
    /// `max-loras`: the most adapters held on the GPUs at once, and so the most distinct adapters in one batch.
    public var maxLoras: Int
    /// `max-lora-rank`: vLLM sizes every adapter slot at this rank, so an adapter's load and its share of a
    /// step are those of this rank.
    public var maxLoraRank: Int
    /// Bytes of one adapter (every GPU of the replica together).
    public var adapterBytes: Int
    /// Host-to-device bandwidth an adapter is copied at, bytes/s (`lora-load-bandwidth`).
    public var loadBytesPerSecond: Double
    /// What each distinct adapter in a step adds to the step: reading its weights once from device memory.
    public var stepCostPerAdapter: SimTime

    public init(
        maxLoras: Int = 1, maxLoraRank: Int = 16, adapterBytes: Int, loadBytesPerSecond: Double = 25e9,
        stepCostPerAdapter: SimTime = .zero
    ) {
        self.maxLoras = maxLoras
        self.maxLoraRank = maxLoraRank
        self.adapterBytes = adapterBytes
        self.loadBytesPerSecond = loadBytesPerSecond
        self.stepCostPerAdapter = stepCostPerAdapter
    }

    /// vLLM's defaults: one adapter at a time, rank 16.
    public static let defaultMaxLoras = 1
    public static let defaultMaxLoraRank = 16
    /// PCIe 4.0 ×16 moves about 25 GB/s from pinned host memory in practice (32 GB/s raw); the adapter is
    /// assumed to be in host memory already (vLLM's CPU cache of `max-cpu-loras`), not read from disk.
    public static let defaultLoadBytesPerSecond = 25e9

    /// The settings for `deployment`: the adapter's size from the model at `maxLoraRank`, its load time at
    /// `loadBytesPerSecond`, and its step cost from the GPUs' memory bandwidth.
    public static func derived(
        for deployment: ModelDeployment, maxLoras: Int = defaultMaxLoras, maxLoraRank: Int = defaultMaxLoraRank,
        loadBytesPerSecond: Double = defaultLoadBytesPerSecond
    ) -> LoRASettings {
        let bytes = adapterBytes(deployment.model, rank: maxLoraRank)
        // Tensor parallelism splits the adapter with its layers, so each GPU reads its share at once.
        let bandwidth = deployment.gpu.memoryBandwidthBytesPerSecond * Double(deployment.tensorParallelSize)
        return LoRASettings(
            maxLoras: maxLoras, maxLoraRank: maxLoraRank, adapterBytes: bytes, loadBytesPerSecond: loadBytesPerSecond,
            stepCostPerAdapter: .seconds(Double(bytes) / bandwidth))
    }

    /// Bytes of a rank-`rank` adapter on every linear projection of every layer, as PEFT's `all-linear` targets
    /// them: q, k, v, o, and the gated MLP's gate, up and down. A projection from width `in` to `out` gets
    /// A (in × r) and B (r × out), so r × (in + out) weights, in the model's dtype. A mixture-of-experts model's
    /// experts are not adapted (the dense MLP width stands for its MLP).
    public static func adapterBytes(_ model: LLMSpec, rank: Int) -> Int {
        let hidden = model.hiddenSize
        let queries = model.attentionHeads * model.headDim
        let keysValues = model.kvHeads * model.headDim
        let attention = (hidden + queries) + 2 * (hidden + keysValues) + (queries + hidden)
        let mlp = 3 * (hidden + model.intermediateSize)
        return rank * (attention + mlp) * model.layers * model.dtypeBytes
    }

    /// How long copying one adapter to the GPUs takes.
    public var loadTime: SimTime { .seconds(Double(adapterBytes) / loadBytesPerSecond) }
}
