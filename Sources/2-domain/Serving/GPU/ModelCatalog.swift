/// A decoder-only LLM's architecture, as the timing models and the KV cache need it: dense or mixture-of-experts,
/// with grouped-query or multi-head latent attention, optionally with sliding-window layers.
///
/// The built-ins take their numbers from each model's published `config.json` (`ModelConfig` reads such a file for
/// any other model). The parameter count follows from the architecture; a test checks it against the published
/// checkpoints (exactly for the dense models, within 2% of the rounded figures the MoE models are announced with).
public struct LLMSpec: Sendable, Equatable {
    /// The canonical name, such as `Llama-3-8B`.
    public var name: String
    /// Transformer layers (`num_hidden_layers`).
    public var layers: Int
    /// Model width (`hidden_size`).
    public var hiddenSize: Int
    /// Query heads (`num_attention_heads`).
    public var attentionHeads: Int
    /// Key/value heads (`num_key_value_heads`; fewer than the query heads under grouped-query attention). Unused
    /// under multi-head latent attention, whose cache holds one latent vector per token and layer.
    public var kvHeads: Int
    /// Width of one head (`head_dim`; `hidden_size / num_attention_heads` when the config omits it).
    public var headDim: Int
    /// Width of the gated MLP of a dense layer (`intermediate_size`).
    public var intermediateSize: Int
    /// Vocabulary size (`vocab_size`).
    public var vocabSize: Int
    /// Bytes per weight and per KV element of the model's dtype: 2 for BF16/FP16.
    public var dtypeBytes: Int
    /// Whether the output projection shares the input embedding's weights (`tie_word_embeddings`).
    public var tiedEmbeddings: Bool
    /// Per-head RMS norms of queries and keys (Qwen3): 2 × head dim weights per layer.
    public var qkNorm: Bool
    /// DeepSeek's multi-head latent attention, replacing the Q, K, V and O projections and the KV layout.
    public var latentAttention: LatentAttention?
    /// Routed experts in place of the dense MLP (in every layer but the first `denseLayers`).
    public var moe: MixtureOfExperts?
    /// Layers that attend only to the last `tokens` tokens.
    public var slidingWindow: SlidingWindow?
    /// How the published checkpoint is quantized, if it is (DeepSeek-V3: FP8; gpt-oss: MXFP4 experts).
    public var checkpointQuantization: CheckpointQuantization?

    public init(
        name: String, layers: Int, hiddenSize: Int, attentionHeads: Int, kvHeads: Int, headDim: Int,
        intermediateSize: Int, vocabSize: Int, dtypeBytes: Int = 2, tiedEmbeddings: Bool = false, qkNorm: Bool = false,
        latentAttention: LatentAttention? = nil, moe: MixtureOfExperts? = nil, slidingWindow: SlidingWindow? = nil,
        checkpointQuantization: CheckpointQuantization? = nil
    ) {
        self.name = name
        self.layers = layers
        self.hiddenSize = hiddenSize
        self.attentionHeads = attentionHeads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.intermediateSize = intermediateSize
        self.vocabSize = vocabSize
        self.dtypeBytes = dtypeBytes
        self.tiedEmbeddings = tiedEmbeddings
        self.qkNorm = qkNorm
        self.latentAttention = latentAttention
        self.moe = moe
        self.slidingWindow = slidingWindow
        self.checkpointQuantization = checkpointQuantization
    }

    /// Multi-head latent attention (DeepSeek-V2/V3): keys and values are compressed into one latent vector of
    /// `kvLoraRank` elements per token and layer, cached with a shared `qkRopeHeadDim`-wide rotary key.
    public struct LatentAttention: Sendable, Equatable {
        /// Width of the compressed KV latent (`kv_lora_rank`).
        public var kvLoraRank: Int
        /// Width of the compressed query (`q_lora_rank`); nil when queries are projected directly.
        public var qLoraRank: Int?
        /// Per-head query/key width without rotary embedding (`qk_nope_head_dim`).
        public var qkNopeHeadDim: Int
        /// Per-head (and shared key) width with rotary embedding (`qk_rope_head_dim`).
        public var qkRopeHeadDim: Int
        /// Per-head value width (`v_head_dim`).
        public var vHeadDim: Int

        public init(kvLoraRank: Int, qLoraRank: Int?, qkNopeHeadDim: Int, qkRopeHeadDim: Int, vHeadDim: Int) {
            self.kvLoraRank = kvLoraRank
            self.qLoraRank = qLoraRank
            self.qkNopeHeadDim = qkNopeHeadDim
            self.qkRopeHeadDim = qkRopeHeadDim
            self.vHeadDim = vHeadDim
        }
    }

    /// A mixture-of-experts MLP: each token goes through `expertsPerToken` of `experts` routed experts, plus the
    /// shared experts every token goes through.
    public struct MixtureOfExperts: Sendable, Equatable {
        /// Routed experts per MoE layer (`num_local_experts`, `num_experts`, `n_routed_experts`).
        public var experts: Int
        /// Routed experts each token goes through (`num_experts_per_tok`).
        public var expertsPerToken: Int
        /// Width of one routed expert's gated MLP (`moe_intermediate_size`; Mixtral and gpt-oss use
        /// `intermediate_size`).
        public var expertIntermediateSize: Int
        /// Experts every token goes through (`n_shared_experts`; Qwen2-MoE's single shared expert).
        public var sharedExperts: Int
        /// Width of one shared expert (DeepSeek: `moe_intermediate_size`; Qwen2-MoE:
        /// `shared_expert_intermediate_size`).
        public var sharedExpertIntermediateSize: Int
        /// Layers with a dense MLP of `intermediate_size` instead (DeepSeek's `first_k_dense_replace`, Qwen's
        /// `mlp_only_layers`).
        public var denseLayers: Int

        public init(
            experts: Int, expertsPerToken: Int, expertIntermediateSize: Int, sharedExperts: Int = 0,
            sharedExpertIntermediateSize: Int = 0, denseLayers: Int = 0
        ) {
            self.experts = experts
            self.expertsPerToken = expertsPerToken
            self.expertIntermediateSize = expertIntermediateSize
            self.sharedExperts = sharedExperts
            self.sharedExpertIntermediateSize = sharedExpertIntermediateSize
            self.denseLayers = denseLayers
        }

        /// The expected number of distinct routed experts `tokens` tokens go through in one layer, each choosing
        /// `expertsPerToken` of `experts` uniformly and independently of the others: E·(1 − (1 − k/E)^B). This is
        /// the count of experts whose weights a step must read. Real routers are not uniform (some experts are
        /// hot), which makes the true count smaller at mid-size batches.
        public func expectedExpertsTouched(byTokens tokens: Int) -> Double {
            guard tokens > 0 else { return 0 }
            let untouched = 1 - Double(expertsPerToken) / Double(experts)
            return Double(experts) * (1 - Self.power(untouched, tokens))
        }

        /// `base` to a non-negative integer power by repeated squaring: plain IEEE multiplications, so the same on
        /// every platform (a libm `pow` need not be).
        static func power(_ base: Double, _ exponent: Int) -> Double {
            var result = 1.0
            var square = base
            var remaining = exponent
            while remaining > 0 {
                if remaining & 1 == 1 { result *= square }
                square *= square
                remaining >>= 1
            }
            return result
        }
    }

    /// Sliding-window attention: `layers` of the model's layers attend only to the last `tokens` tokens.
    public struct SlidingWindow: Sendable, Equatable {
        /// The window (`sliding_window`).
        public var tokens: Int
        /// How many layers use it (`layer_types` entries `sliding_attention`; every layer without `layer_types`).
        public var layers: Int

        public init(tokens: Int, layers: Int) {
            self.tokens = tokens
            self.layers = layers
        }
    }

    // MARK: Parameters

    /// Weights of one layer's attention projections (Q, K, V and O; under MLA the down- and up-projections).
    public var attentionParametersPerLayer: Int {
        guard let mla = latentAttention else {
            return hiddenSize * attentionHeads * headDim * 2 + hiddenSize * kvHeads * headDim * 2
        }
        let qHead = mla.qkNopeHeadDim + mla.qkRopeHeadDim
        let query =
            mla.qLoraRank.map { hiddenSize * $0 + $0 * attentionHeads * qHead } ?? hiddenSize * attentionHeads * qHead
        let kvDown = hiddenSize * (mla.kvLoraRank + mla.qkRopeHeadDim)
        let kvUp = mla.kvLoraRank * attentionHeads * (mla.qkNopeHeadDim + mla.vHeadDim)
        let output = attentionHeads * mla.vHeadDim * hiddenSize
        return query + kvDown + kvUp + output
    }

    /// Weights of one layer's norms: the two RMS norms, Qwen3's per-head Q and K norms, MLA's latent norms.
    public var normParametersPerLayer: Int {
        2 * hiddenSize + (qkNorm ? 2 * headDim : 0) + (latentAttention.map { ($0.qLoraRank ?? 0) + $0.kvLoraRank } ?? 0)
    }

    /// Layers with a dense MLP: all of them in a dense model.
    public var denseMLPLayers: Int { moe?.denseLayers ?? layers }

    /// Layers with routed experts.
    public var moeLayers: Int { layers - denseMLPLayers }

    /// Weights of one dense gated MLP (gate, up and down projections).
    public var denseMLPParameters: Int { 3 * hiddenSize * intermediateSize }

    /// Weights of one routed expert.
    public var expertParameters: Int { moe.map { 3 * hiddenSize * $0.expertIntermediateSize } ?? 0 }

    /// Weights of one MoE layer's shared experts.
    public var sharedExpertParametersPerLayer: Int {
        moe.map { $0.sharedExperts * 3 * hiddenSize * $0.sharedExpertIntermediateSize } ?? 0
    }

    /// Weights of one MoE layer's router (a linear map from the hidden state to one logit per expert).
    public var routerParametersPerLayer: Int { moe.map { hiddenSize * $0.experts } ?? 0 }

    /// Weights of all routed experts of all layers.
    public var routedExpertParameters: Int { moeLayers * (moe?.experts ?? 0) * expertParameters }

    /// Weights of the linear layers other than the routed experts: attention, dense MLPs, shared experts. What
    /// `--quantization` stores in its format besides the experts.
    public var nonExpertLinearParameters: Int {
        layers * attentionParametersPerLayer + denseMLPLayers * denseMLPParameters
            + moeLayers * sharedExpertParametersPerLayer
    }

    /// Weights of the transformer layers (attention, MLP or experts, router, norms): everything but the
    /// embeddings, the LM head and the final norm.
    public var layerParameters: Int {
        nonExpertLinearParameters + routedExpertParameters + layers * normParametersPerLayer
            + moeLayers * routerParametersPerLayer
    }

    /// Weights of the transformer layers one token goes through: all but the routed experts it is not sent to.
    public var activeLayerParameters: Int {
        layerParameters - moeLayers * ((moe?.experts ?? 0) - (moe?.expertsPerToken ?? 0)) * expertParameters
    }

    /// Weights of the input embedding table: a row look-up per token, not a matrix multiply.
    public var embeddingParameters: Int { vocabSize * hiddenSize }

    /// Weights of the output projection (LM head) when it is its own matrix; with tied embeddings it reuses the
    /// embedding table, which is then read by the multiply.
    public var lmHeadParameters: Int { vocabSize * hiddenSize }

    /// Total parameters, embeddings included: what sets the memory the weights take. Per layer the attention
    /// projections, the MLP (or every expert, the shared experts and the router) and the norms; then the
    /// embeddings, the LM head unless tied, and the final norm. Biases and gpt-oss's attention sinks are left out
    /// (under 0.05% of its weights).
    public var parameters: Int {
        layerParameters + embeddingParameters * (tiedEmbeddings ? 1 : 2) + hiddenSize
    }

    /// Parameters one token goes through, both embedding tables counted (as Mistral and Qwen count them; OpenAI and
    /// DeepSeek leave out the input embedding, a row look-up): what sets the FLOPs per token.
    public var activeParameters: Int {
        activeLayerParameters + embeddingParameters * (tiedEmbeddings ? 1 : 2) + hiddenSize
    }

    /// Bytes of all the weights in the model's dtype.
    public var weightBytes: Int { parameters * dtypeBytes }

    // MARK: KV cache

    /// KV elements one token takes in one layer: K and V of each KV head, or MLA's latent and rotary key.
    public var kvElementsPerTokenPerLayer: Int {
        latentAttention.map { $0.kvLoraRank + $0.qkRopeHeadDim } ?? 2 * kvHeads * headDim
    }

    /// Layers whose KV the cache keeps for every token of a sequence: all but the sliding-window layers, which
    /// keep only their window (vLLM's hybrid KV cache frees the blocks that leave it). When every layer slides,
    /// all are counted, which overstates what long sequences take.
    public var fullAttentionLayers: Int {
        guard let window = slidingWindow, window.layers < layers else { return layers }
        return layers - window.layers
    }

    /// Layers that attend only to their window, as the timing model counts them.
    public var slidingWindowLayers: Int { slidingWindow?.layers ?? 0 }

    /// Bytes of KV cache one token takes across the layers that keep it, in the model's dtype:
    /// layers × KV heads × head dim × 2 (K and V) × dtype, or layers × (kv_lora_rank + qk_rope_head_dim) × dtype.
    public var kvBytesPerToken: Int { fullAttentionLayers * kvElementsPerTokenPerLayer * dtypeBytes }

    // MARK: Built-ins

    /// Meta Llama 2 7B (multi-head attention).
    public static let llama2_7B = LLMSpec(
        name: "Llama-2-7B", layers: 32, hiddenSize: 4096, attentionHeads: 32, kvHeads: 32, headDim: 128,
        intermediateSize: 11008, vocabSize: 32000)

    /// Meta Llama 3 8B; Llama 3.1 8B has the same architecture.
    public static let llama3_8B = LLMSpec(
        name: "Llama-3-8B", layers: 32, hiddenSize: 4096, attentionHeads: 32, kvHeads: 8, headDim: 128,
        intermediateSize: 14336, vocabSize: 128_256)

    /// Meta Code Llama 34B: the model of Vidur's attention and CPU-overhead profiles.
    public static let codeLlama34B = LLMSpec(
        name: "CodeLlama-34B", layers: 48, hiddenSize: 8192, attentionHeads: 64, kvHeads: 8, headDim: 128,
        intermediateSize: 22016, vocabSize: 32000)

    /// Meta Llama 2 70B.
    public static let llama2_70B = LLMSpec(
        name: "Llama-2-70B", layers: 80, hiddenSize: 8192, attentionHeads: 64, kvHeads: 8, headDim: 128,
        intermediateSize: 28672, vocabSize: 32000)

    /// Meta Llama 3 70B; Llama 3.1 70B and Llama 3.3 70B have the same architecture (and the same `config.json`
    /// numbers), so they are aliases of it.
    public static let llama3_70B = LLMSpec(
        name: "Llama-3-70B", layers: 80, hiddenSize: 8192, attentionHeads: 64, kvHeads: 8, headDim: 128,
        intermediateSize: 28672, vocabSize: 128_256)

    /// Alibaba Qwen3 32B (dense). Its heads are wider than its hidden size: 64 × 128 = 8192 against 5120.
    public static let qwen3_32B = LLMSpec(
        name: "Qwen3-32B", layers: 64, hiddenSize: 5120, attentionHeads: 64, kvHeads: 8, headDim: 128,
        intermediateSize: 25600, vocabSize: 151_936, qkNorm: true)

    /// Mistral AI Mixtral 8x7B (mistralai/Mixtral-8x7B-v0.1): 8 experts, top-2, no sliding window
    /// (`sliding_window: null`); 46.7B parameters, 12.9B active.
    public static let mixtral8x7B = LLMSpec(
        name: "Mixtral-8x7B", layers: 32, hiddenSize: 4096, attentionHeads: 32, kvHeads: 8, headDim: 128,
        intermediateSize: 14336, vocabSize: 32000,
        moe: MixtureOfExperts(experts: 8, expertsPerToken: 2, expertIntermediateSize: 14336))

    /// Alibaba Qwen3 30B-A3B (Qwen/Qwen3-30B-A3B): 128 experts of width 768, top-8, in every layer; 30.5B
    /// parameters, 3.3B active.
    public static let qwen3_30B_A3B = LLMSpec(
        name: "Qwen3-30B-A3B", layers: 48, hiddenSize: 2048, attentionHeads: 32, kvHeads: 4, headDim: 128,
        intermediateSize: 6144, vocabSize: 151_936, qkNorm: true,
        moe: MixtureOfExperts(experts: 128, expertsPerToken: 8, expertIntermediateSize: 768))

    /// Alibaba Qwen3 235B-A22B (Qwen/Qwen3-235B-A22B): 128 experts of width 1,536, top-8; 235B parameters, 22B
    /// active.
    public static let qwen3_235B_A22B = LLMSpec(
        name: "Qwen3-235B-A22B", layers: 94, hiddenSize: 4096, attentionHeads: 64, kvHeads: 4, headDim: 128,
        intermediateSize: 12288, vocabSize: 151_936, qkNorm: true,
        moe: MixtureOfExperts(experts: 128, expertsPerToken: 8, expertIntermediateSize: 1536))

    /// DeepSeek-V3 (deepseek-ai/DeepSeek-V3): multi-head latent attention (KV latent 512 + rotary key 64 per token
    /// and layer), 256 routed experts top-8 plus 1 shared, the first 3 layers dense; published in block-wise FP8
    /// (`quant_method: fp8`, 128 × 128 blocks). 671B parameters, 37B active, without the multi-token-prediction
    /// module (`num_nextn_predict_layers`), which vLLM loads only for speculative decoding.
    public static let deepSeekV3 = LLMSpec(
        name: "DeepSeek-V3", layers: 61, hiddenSize: 7168, attentionHeads: 128, kvHeads: 128, headDim: 192,
        intermediateSize: 18432, vocabSize: 129_280,
        latentAttention: LatentAttention(
            kvLoraRank: 512, qLoraRank: 1536, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128),
        moe: MixtureOfExperts(
            experts: 256, expertsPerToken: 8, expertIntermediateSize: 2048, sharedExperts: 1,
            sharedExpertIntermediateSize: 2048, denseLayers: 3),
        checkpointQuantization: CheckpointQuantization(method: .fp8))

    /// OpenAI gpt-oss-120b (openai/gpt-oss-120b): 128 experts top-4, attention alternating between a 128-token
    /// sliding window and the full context (18 layers each), experts published in MXFP4 (attention, router,
    /// embeddings and LM head in BF16). 116.8B parameters, 5.1B active.
    public static let gptOSS120B = LLMSpec(
        name: "gpt-oss-120b", layers: 36, hiddenSize: 2880, attentionHeads: 64, kvHeads: 8, headDim: 64,
        intermediateSize: 2880, vocabSize: 201_088,
        moe: MixtureOfExperts(experts: 128, expertsPerToken: 4, expertIntermediateSize: 2880),
        slidingWindow: SlidingWindow(tokens: 128, layers: 18),
        checkpointQuantization: CheckpointQuantization(method: .mxfp4, expertsOnly: true))

    /// The built-in models, in a fixed order.
    public static let builtIns: [LLMSpec] = [
        llama2_7B, llama3_8B, codeLlama34B, llama2_70B, llama3_70B, qwen3_32B, mixtral8x7B, qwen3_30B_A3B,
        qwen3_235B_A22B, deepSeekV3, gptOSS120B,
    ]

    /// Other names accepted by ``named(_:)``, each with the canonical name it stands for.
    public static let aliases: [(alias: String, name: String)] = [
        ("Llama-3.1-8B", "Llama-3-8B"), ("Llama-3.1-8B-Instruct", "Llama-3-8B"), ("Llama-3-8B-Instruct", "Llama-3-8B"),
        ("Meta-Llama-3-8B", "Llama-3-8B"), ("Meta-Llama-3.1-8B", "Llama-3-8B"),
        ("Llama-3.1-70B", "Llama-3-70B"), ("Llama-3.1-70B-Instruct", "Llama-3-70B"),
        ("Llama-3-70B-Instruct", "Llama-3-70B"), ("Meta-Llama-3-70B", "Llama-3-70B"),
        ("Meta-Llama-3.1-70B", "Llama-3-70B"), ("Llama-3.3-70B", "Llama-3-70B"),
        ("Llama-3.3-70B-Instruct", "Llama-3-70B"), ("CodeLlama-34B-Instruct", "CodeLlama-34B"),
        ("Mixtral-8x7B-v0.1", "Mixtral-8x7B"), ("Mixtral-8x7B-Instruct-v0.1", "Mixtral-8x7B"),
        ("DeepSeek-R1", "DeepSeek-V3"),
    ]

    /// The built-in model with this name or alias, ignoring case; nil if there is none.
    public static func named(_ name: String) -> LLMSpec? {
        let key = name.lowercased()
        let canonical = aliases.first { $0.alias.lowercased() == key }?.name.lowercased() ?? key
        return builtIns.first { $0.name.lowercased() == canonical }
    }

    /// Every name ``named(_:)`` accepts, canonical names first, for error messages.
    public static var knownNames: [String] { builtIns.map(\.name) + aliases.map(\.alias) }
}
