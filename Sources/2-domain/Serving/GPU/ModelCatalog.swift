/// A dense decoder-only LLM's architecture, as the timing models and the KV cache need it.
///
/// The built-ins take their numbers from each model's published `config.json` (layers, hidden size, heads, KV
/// heads, head dim, MLP size, vocabulary) and their parameter counts from the published checkpoints; a test checks
/// that the counts follow from the architecture.
public struct LLMSpec: Sendable, Equatable {
    /// The canonical name, such as `Llama-3-8B`.
    public var name: String
    /// Total parameters, embeddings included.
    public var parameters: Int
    /// Transformer layers (`num_hidden_layers`).
    public var layers: Int
    /// Model width (`hidden_size`).
    public var hiddenSize: Int
    /// Query heads (`num_attention_heads`).
    public var attentionHeads: Int
    /// Key/value heads (`num_key_value_heads`; fewer than the query heads under grouped-query attention).
    public var kvHeads: Int
    /// Width of one head (`head_dim`; `hidden_size / num_attention_heads` when the config omits it).
    public var headDim: Int
    /// Width of the gated MLP (`intermediate_size`).
    public var intermediateSize: Int
    /// Vocabulary size (`vocab_size`).
    public var vocabSize: Int
    /// Bytes per weight and per KV element: 2 for BF16/FP16.
    public var dtypeBytes: Int
    /// Whether the output projection shares the input embedding's weights (`tie_word_embeddings`).
    public var tiedEmbeddings: Bool

    public init(
        name: String, parameters: Int, layers: Int, hiddenSize: Int, attentionHeads: Int, kvHeads: Int,
        headDim: Int, intermediateSize: Int, vocabSize: Int, dtypeBytes: Int = 2, tiedEmbeddings: Bool = false
    ) {
        self.name = name
        self.parameters = parameters
        self.layers = layers
        self.hiddenSize = hiddenSize
        self.attentionHeads = attentionHeads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.intermediateSize = intermediateSize
        self.vocabSize = vocabSize
        self.dtypeBytes = dtypeBytes
        self.tiedEmbeddings = tiedEmbeddings
    }

    /// Bytes of all the weights: what a replica's GPUs must hold before any KV cache.
    public var weightBytes: Int { parameters * dtypeBytes }

    /// Bytes of KV cache one token takes across all layers: layers × KV heads × head dim × 2 (K and V) × dtype.
    public var kvBytesPerToken: Int { layers * kvHeads * headDim * 2 * dtypeBytes }

    /// Weights of the input embedding table: a row look-up per token, not a matrix multiply.
    public var embeddingParameters: Int { vocabSize * hiddenSize }

    /// Weights of the output projection (LM head) when it is its own matrix; with tied embeddings it reuses the
    /// embedding table, which is then read by the multiply.
    public var lmHeadParameters: Int { vocabSize * hiddenSize }

    /// Weights of the transformer layers (attention projections, MLP, norms): everything but the embeddings,
    /// the LM head and the final norm.
    public var layerParameters: Int {
        parameters - embeddingParameters - (tiedEmbeddings ? 0 : lmHeadParameters) - hiddenSize
    }

    /// The parameter count a Llama-style architecture implies: per layer the Q, K, V and O projections, the three
    /// MLP matrices and two RMS norms; then the embeddings, the LM head unless tied, and the final norm.
    /// `qkNormDim` adds Qwen3's per-head query and key norms.
    public func architectureParameterCount(qkNormDim: Int = 0) -> Int {
        let attention = hiddenSize * attentionHeads * headDim * 2 + hiddenSize * kvHeads * headDim * 2
        let perLayer = attention + 3 * hiddenSize * intermediateSize + 2 * hiddenSize + 2 * qkNormDim
        return layers * perLayer + embeddingParameters * (tiedEmbeddings ? 1 : 2) + hiddenSize
    }

    /// Meta Llama 2 7B (multi-head attention).
    public static let llama2_7B = LLMSpec(
        name: "Llama-2-7B", parameters: 6_738_415_616, layers: 32, hiddenSize: 4096, attentionHeads: 32,
        kvHeads: 32, headDim: 128, intermediateSize: 11008, vocabSize: 32000)

    /// Meta Llama 3 8B; Llama 3.1 8B has the same architecture.
    public static let llama3_8B = LLMSpec(
        name: "Llama-3-8B", parameters: 8_030_261_248, layers: 32, hiddenSize: 4096, attentionHeads: 32,
        kvHeads: 8, headDim: 128, intermediateSize: 14336, vocabSize: 128_256)

    /// Meta Code Llama 34B: the model of Vidur's attention and CPU-overhead profiles.
    public static let codeLlama34B = LLMSpec(
        name: "CodeLlama-34B", parameters: 33_743_970_304, layers: 48, hiddenSize: 8192, attentionHeads: 64,
        kvHeads: 8, headDim: 128, intermediateSize: 22016, vocabSize: 32000)

    /// Meta Llama 2 70B.
    public static let llama2_70B = LLMSpec(
        name: "Llama-2-70B", parameters: 68_976_648_192, layers: 80, hiddenSize: 8192, attentionHeads: 64,
        kvHeads: 8, headDim: 128, intermediateSize: 28672, vocabSize: 32000)

    /// Meta Llama 3 70B; Llama 3.1 70B has the same architecture.
    public static let llama3_70B = LLMSpec(
        name: "Llama-3-70B", parameters: 70_553_706_496, layers: 80, hiddenSize: 8192, attentionHeads: 64,
        kvHeads: 8, headDim: 128, intermediateSize: 28672, vocabSize: 128_256)

    /// Alibaba Qwen3 32B (dense). Its heads are wider than its hidden size: 64 × 128 = 8192 against 5120.
    public static let qwen3_32B = LLMSpec(
        name: "Qwen3-32B", parameters: 32_762_123_264, layers: 64, hiddenSize: 5120, attentionHeads: 64,
        kvHeads: 8, headDim: 128, intermediateSize: 25600, vocabSize: 151_936)

    /// The built-in models, in a fixed order.
    public static let builtIns: [LLMSpec] = [llama2_7B, llama3_8B, codeLlama34B, llama2_70B, llama3_70B, qwen3_32B]

    /// Other names accepted by ``named(_:)``, each with the canonical name it stands for.
    public static let aliases: [(alias: String, name: String)] = [
        ("Llama-3.1-8B", "Llama-3-8B"), ("Llama-3.1-8B-Instruct", "Llama-3-8B"), ("Llama-3-8B-Instruct", "Llama-3-8B"),
        ("Meta-Llama-3-8B", "Llama-3-8B"), ("Meta-Llama-3.1-8B", "Llama-3-8B"),
        ("Llama-3.1-70B", "Llama-3-70B"), ("Llama-3.1-70B-Instruct", "Llama-3-70B"),
        ("Llama-3-70B-Instruct", "Llama-3-70B"), ("Meta-Llama-3-70B", "Llama-3-70B"),
        ("Meta-Llama-3.1-70B", "Llama-3-70B"), ("CodeLlama-34B-Instruct", "CodeLlama-34B"),
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
