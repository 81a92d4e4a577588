/// The model families whose Hugging Face `config.json` InferMesh reads, by the class name in its `architectures`
/// list (or, without one, its `model_type`). docs/gpu-replica.md ("Bring your own model") lists the same names; a
/// test checks that it does.
public enum ModelArchitecture: String, CaseIterable, Sendable {
    case llama = "LlamaForCausalLM"
    case mistral = "MistralForCausalLM"
    case qwen2 = "Qwen2ForCausalLM"
    case qwen3 = "Qwen3ForCausalLM"
    case mixtral = "MixtralForCausalLM"
    case qwen2MoE = "Qwen2MoeForCausalLM"
    case qwen3MoE = "Qwen3MoeForCausalLM"
    case deepSeekV2 = "DeepseekV2ForCausalLM"
    case deepSeekV3 = "DeepseekV3ForCausalLM"
    case gptOSS = "GptOssForCausalLM"

    /// The `model_type` of configs of this architecture.
    public var modelType: String {
        switch self {
        case .llama: return "llama"
        case .mistral: return "mistral"
        case .qwen2: return "qwen2"
        case .qwen3: return "qwen3"
        case .mixtral: return "mixtral"
        case .qwen2MoE: return "qwen2_moe"
        case .qwen3MoE: return "qwen3_moe"
        case .deepSeekV2: return "deepseek_v2"
        case .deepSeekV3: return "deepseek_v3"
        case .gptOSS: return "gpt_oss"
        }
    }

    /// The architecture's shape in one phrase, for the docs and `infermesh list`.
    public var summary: String {
        switch self {
        case .llama, .qwen2: return "dense, grouped-query attention"
        case .mistral: return "dense, grouped-query attention, optional sliding window"
        case .qwen3: return "dense, grouped-query attention with Q/K norms"
        case .mixtral: return "mixture of experts (`num_local_experts`), grouped-query attention"
        case .qwen2MoE: return "mixture of experts with a shared expert, grouped-query attention"
        case .qwen3MoE: return "mixture of experts (`num_experts`), grouped-query attention with Q/K norms"
        case .deepSeekV2, .deepSeekV3:
            return "multi-head latent attention, routed and shared experts, leading dense layers"
        case .gptOSS: return "mixture of experts, alternating sliding-window and full attention"
        }
    }

    /// The architecture a config names: `architectures[0]`, else `model_type`.
    public static func named(architecture: String?, modelType: String?) -> ModelArchitecture? {
        if let architecture { return ModelArchitecture(rawValue: architecture) }
        return allCases.first { $0.modelType == modelType }
    }
}

/// The fields of a Hugging Face `config.json` that decide a model's memory and step times, under their own names.
/// Every field is optional here; ``LLMSpec/init(huggingFace:name:)`` says which are required and why.
public struct HuggingFaceConfig: Decodable, Sendable, Equatable {
    public var architectures: [String]?
    public var modelType: String?
    public var hiddenSize: Int?
    public var numHiddenLayers: Int?
    public var numAttentionHeads: Int?
    public var numKeyValueHeads: Int?
    public var headDim: Int?
    public var intermediateSize: Int?
    public var vocabSize: Int?
    public var tieWordEmbeddings: Bool?
    // Mixture of experts, under each family's names.
    public var numLocalExperts: Int?
    public var numExperts: Int?
    public var nRoutedExperts: Int?
    public var numExpertsPerTok: Int?
    public var moeIntermediateSize: Int?
    public var nSharedExperts: Int?
    public var sharedExpertIntermediateSize: Int?
    public var firstKDenseReplace: Int?
    public var moeLayerFreq: Int?
    public var decoderSparseStep: Int?
    public var mlpOnlyLayers: [Int]?
    // Multi-head latent attention.
    public var kvLoraRank: Int?
    public var qLoraRank: Int?
    public var qkNopeHeadDim: Int?
    public var qkRopeHeadDim: Int?
    public var vHeadDim: Int?
    // Sliding window.
    public var slidingWindow: Int?
    public var useSlidingWindow: Bool?
    public var maxWindowLayers: Int?
    public var layerTypes: [String]?
    public var quantizationConfig: QuantizationConfig?
    /// A multimodal wrapper's language model, which is not read.
    public var textConfig: Ignored?

    /// `quantization_config`: only its method matters here.
    public struct QuantizationConfig: Decodable, Sendable, Equatable {
        public var quantMethod: String?
        enum CodingKeys: String, CodingKey { case quantMethod = "quant_method" }
    }

    /// A value whose presence matters, not its content.
    public struct Ignored: Decodable, Sendable, Equatable {
        public init(from decoder: any Decoder) throws {}
    }

    /// The JSON names.
    public enum CodingKeys: String, CodingKey {
        case architectures
        case modelType = "model_type"
        case hiddenSize = "hidden_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case intermediateSize = "intermediate_size"
        case vocabSize = "vocab_size"
        case tieWordEmbeddings = "tie_word_embeddings"
        case numLocalExperts = "num_local_experts"
        case numExperts = "num_experts"
        case nRoutedExperts = "n_routed_experts"
        case numExpertsPerTok = "num_experts_per_tok"
        case moeIntermediateSize = "moe_intermediate_size"
        case nSharedExperts = "n_shared_experts"
        case sharedExpertIntermediateSize = "shared_expert_intermediate_size"
        case firstKDenseReplace = "first_k_dense_replace"
        case moeLayerFreq = "moe_layer_freq"
        case decoderSparseStep = "decoder_sparse_step"
        case mlpOnlyLayers = "mlp_only_layers"
        case kvLoraRank = "kv_lora_rank"
        case qLoraRank = "q_lora_rank"
        case qkNopeHeadDim = "qk_nope_head_dim"
        case qkRopeHeadDim = "qk_rope_head_dim"
        case vHeadDim = "v_head_dim"
        case slidingWindow = "sliding_window"
        case useSlidingWindow = "use_sliding_window"
        case maxWindowLayers = "max_window_layers"
        case layerTypes = "layer_types"
        case quantizationConfig = "quantization_config"
        case textConfig = "text_config"
    }
}

/// A `config.json` that does not describe a model InferMesh can time, with the JSON key it is about.
public struct ModelConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The key, such as `num_experts_per_tok` or `quantization_config.quant_method`; empty for the whole file.
    public var key: String
    /// What is wrong.
    public var message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { key.isEmpty ? message : "at `\(key)`: \(message)" }
}

extension LLMSpec {
    /// Bounds on a config's sizes: far above any published model, low enough that no parameter or byte count of
    /// the model can overflow.
    static let configBounds: [HuggingFaceConfig.CodingKeys: ClosedRange<Int>] = [
        .hiddenSize: 1...65_536, .numHiddenLayers: 1...1_024, .numAttentionHeads: 1...1_024,
        .numKeyValueHeads: 1...1_024, .headDim: 1...1_024, .intermediateSize: 1...1_048_576,
        .vocabSize: 1...4_194_304, .numLocalExperts: 1...4_096, .numExperts: 1...4_096, .nRoutedExperts: 1...4_096,
        .numExpertsPerTok: 1...4_096, .moeIntermediateSize: 1...1_048_576, .nSharedExperts: 0...64,
        .sharedExpertIntermediateSize: 0...1_048_576, .firstKDenseReplace: 0...1_024, .moeLayerFreq: 1...1_024,
        .decoderSparseStep: 0...1_024, .kvLoraRank: 1...65_536, .qLoraRank: 1...65_536, .qkNopeHeadDim: 1...1_024,
        .qkRopeHeadDim: 0...1_024, .vHeadDim: 1...1_024, .slidingWindow: 1...100_000_000, .maxWindowLayers: 0...1_024,
    ]

    /// The architecture a Hugging Face `config.json` describes, named `name`. The model is served in a 2-byte dtype,
    /// as vLLM's `dtype: auto` serves BF16, FP16 and FP32 checkpoints.
    ///
    /// - Throws: ``ModelConfigError`` naming the key, for an architecture not in ``ModelArchitecture``, a missing
    ///   required size, a size out of bounds, or sizes that contradict each other (heads that do not divide the
    ///   width without a `head_dim`, more experts per token than experts, `layer_types` of the wrong length).
    public init(huggingFace config: HuggingFaceConfig, name: String) throws(ModelConfigError) {
        typealias Key = HuggingFaceConfig.CodingKeys
        func checked(_ value: Int?, _ key: Key) throws(ModelConfigError) -> Int? {
            guard let value else { return nil }
            if let bounds = Self.configBounds[key], !bounds.contains(value) {
                throw ModelConfigError(
                    key: key.rawValue,
                    message: "\(value) is out of range; expected \(bounds.lowerBound)...\(bounds.upperBound)")
            }
            return value
        }
        func required(_ value: Int?, _ key: Key, _ why: String) throws(ModelConfigError) -> Int {
            guard let value = try checked(value, key) else {
                throw ModelConfigError(key: key.rawValue, message: "missing; the \(why) is needed")
            }
            return value
        }

        if config.textConfig != nil {
            throw ModelConfigError(
                key: Key.textConfig.rawValue,
                message: "a multimodal config; give the config.json of its language model instead")
        }
        let written = config.architectures?.first
        guard let architecture = ModelArchitecture.named(architecture: written, modelType: config.modelType) else {
            let supported = ModelArchitecture.allCases.map(\.rawValue).joined(separator: ", ")
            if let written {
                throw ModelConfigError(
                    key: "architectures[0]", message: "unknown architecture `\(written)`; supported: \(supported)")
            }
            throw ModelConfigError(
                key: config.modelType == nil ? Key.architectures.rawValue : Key.modelType.rawValue,
                message: config.modelType.map { "unknown model_type `\($0)`; supported architectures: \(supported)" }
                    ?? "missing; the architecture (one of \(supported)) is needed")
        }

        let hidden = try required(config.hiddenSize, .hiddenSize, "model width")
        let layers = try required(config.numHiddenLayers, .numHiddenLayers, "layer count")
        let heads = try required(config.numAttentionHeads, .numAttentionHeads, "query head count")
        let vocab = try required(config.vocabSize, .vocabSize, "vocabulary size")
        let kvHeads = try checked(config.numKeyValueHeads, .numKeyValueHeads) ?? heads
        guard kvHeads <= heads, heads % kvHeads == 0 else {
            throw ModelConfigError(
                key: Key.numKeyValueHeads.rawValue,
                message: "\(kvHeads) KV heads do not divide the \(heads) query heads (num_attention_heads)")
        }
        let headDim: Int
        if let written = try checked(config.headDim, .headDim) {
            headDim = written
        } else {
            guard hidden % heads == 0 else {
                throw ModelConfigError(
                    key: Key.hiddenSize.rawValue,
                    message: "\(hidden) is not divisible by num_attention_heads (\(heads)), and there is no head_dim")
            }
            headDim = hidden / heads
        }

        // Mixture of experts: each family names its counts differently.
        var moe: MixtureOfExperts? = nil
        let expertsKey: Key?
        let expertsWritten: Int?
        switch architecture {
        case .mixtral, .gptOSS: (expertsKey, expertsWritten) = (.numLocalExperts, config.numLocalExperts)
        case .qwen2MoE, .qwen3MoE: (expertsKey, expertsWritten) = (.numExperts, config.numExperts)
        case .deepSeekV2, .deepSeekV3: (expertsKey, expertsWritten) = (.nRoutedExperts, config.nRoutedExperts)
        case .llama, .mistral, .qwen2, .qwen3: (expertsKey, expertsWritten) = (nil, nil)
        }
        if let expertsKey {
            let experts = try required(expertsWritten, expertsKey, "number of routed experts")
            let perToken = try required(config.numExpertsPerTok, .numExpertsPerTok, "number of experts per token")
            guard perToken <= experts else {
                throw ModelConfigError(
                    key: Key.numExpertsPerTok.rawValue,
                    message: "\(perToken) experts per token, but only \(experts) experts (\(expertsKey.rawValue))")
            }
            let width: Int
            var shared = 0
            var sharedWidth = 0
            var denseLayers = 0
            switch architecture {
            case .mixtral, .gptOSS:
                width = try required(config.intermediateSize, .intermediateSize, "width of an expert")
            case .qwen2MoE, .qwen3MoE:
                width = try required(config.moeIntermediateSize, .moeIntermediateSize, "width of an expert")
                if architecture == .qwen2MoE,
                    let written = try checked(config.sharedExpertIntermediateSize, .sharedExpertIntermediateSize),
                    written > 0
                {
                    (shared, sharedWidth) = (1, written)
                }
                let step = try checked(config.decoderSparseStep, .decoderSparseStep) ?? 1
                let denseOnly = Set(config.mlpOnlyLayers ?? [])
                if let outside = (config.mlpOnlyLayers ?? []).first(where: { $0 < 0 || $0 >= layers }) {
                    throw ModelConfigError(
                        key: Key.mlpOnlyLayers.rawValue, message: "layer \(outside) is not among the \(layers) layers")
                }
                // Qwen's rule: layer i has experts when it is not in mlp_only_layers and (i + 1) % step == 0.
                denseLayers = (0..<layers).filter { denseOnly.contains($0) || step <= 0 || ($0 + 1) % step != 0 }.count
            case .deepSeekV2, .deepSeekV3:
                width = try required(config.moeIntermediateSize, .moeIntermediateSize, "width of an expert")
                shared = try checked(config.nSharedExperts, .nSharedExperts) ?? 0
                sharedWidth = width
                let firstDense = try checked(config.firstKDenseReplace, .firstKDenseReplace) ?? 0
                let frequency = try checked(config.moeLayerFreq, .moeLayerFreq) ?? 1
                guard firstDense <= layers else {
                    throw ModelConfigError(
                        key: Key.firstKDenseReplace.rawValue,
                        message: "\(firstDense) dense layers, but only \(layers) layers (num_hidden_layers)")
                }
                // DeepSeek's rule: layer i has experts when i >= first_k_dense_replace and i % moe_layer_freq == 0.
                denseLayers = (0..<layers).filter { $0 < firstDense || $0 % frequency != 0 }.count
            case .llama, .mistral, .qwen2, .qwen3:
                width = 0
            }
            moe = MixtureOfExperts(
                experts: experts, expertsPerToken: perToken, expertIntermediateSize: width, sharedExperts: shared,
                sharedExpertIntermediateSize: sharedWidth, denseLayers: denseLayers)
        }
        // A dense MLP's width is needed only where some layer has one.
        let denseMLPLayers = moe?.denseLayers ?? layers
        let intermediate: Int
        if denseMLPLayers > 0 {
            intermediate = try required(config.intermediateSize, .intermediateSize, "width of the dense MLP")
        } else {
            intermediate = try checked(config.intermediateSize, .intermediateSize) ?? 0
        }

        var latent: LatentAttention? = nil
        if architecture == .deepSeekV2 || architecture == .deepSeekV3 {
            latent = LatentAttention(
                kvLoraRank: try required(config.kvLoraRank, .kvLoraRank, "width of the KV latent"),
                qLoraRank: try checked(config.qLoraRank, .qLoraRank),
                qkNopeHeadDim: try required(config.qkNopeHeadDim, .qkNopeHeadDim, "query/key width without RoPE"),
                qkRopeHeadDim: try required(config.qkRopeHeadDim, .qkRopeHeadDim, "rotary key width"),
                vHeadDim: try required(config.vHeadDim, .vHeadDim, "value head width"))
        }

        var window: SlidingWindow? = nil
        if let types = config.layerTypes {
            guard types.count == layers else {
                throw ModelConfigError(
                    key: Key.layerTypes.rawValue,
                    message: "\(types.count) entries for \(layers) layers (num_hidden_layers)")
            }
            if let index = types.firstIndex(where: { $0 != "sliding_attention" && $0 != "full_attention" }) {
                throw ModelConfigError(
                    key: "\(Key.layerTypes.rawValue)[\(index)]",
                    message: "unknown layer type `\(types[index])`; expected sliding_attention or full_attention")
            }
            let sliding = types.filter { $0 == "sliding_attention" }.count
            if sliding > 0 {
                let tokens = try required(config.slidingWindow, .slidingWindow, "window of the sliding layers")
                window = SlidingWindow(tokens: tokens, layers: sliding)
            }
        } else if config.useSlidingWindow != false, let tokens = try checked(config.slidingWindow, .slidingWindow) {
            // Qwen2's rule: with use_sliding_window, layers from max_window_layers on slide; Mistral's: all layers.
            var full = 0
            if config.useSlidingWindow == true {
                full = min(try checked(config.maxWindowLayers, .maxWindowLayers) ?? 0, layers)
            }
            if layers - full > 0 { window = SlidingWindow(tokens: tokens, layers: layers - full) }
        }

        var checkpoint: CheckpointQuantization? = nil
        if let method = config.quantizationConfig?.quantMethod {
            let names: [String: Quantization] = [
                "fp8": .fp8, "mxfp4": .mxfp4, "awq": .awq, "awq_marlin": .awq, "gptq": .gptq, "gptq_marlin": .gptq,
            ]
            guard let quantization = names[method] else {
                throw ModelConfigError(
                    key: "quantization_config.quant_method",
                    message: "`\(method)` checkpoints are not modelled (fp8, awq, gptq and mxfp4 are); leave "
                        + "quantization_config out and set `quantization` in the scenario")
            }
            // gpt-oss keeps attention in BF16 and stores only its experts in MXFP4.
            checkpoint = CheckpointQuantization(
                method: quantization, expertsOnly: quantization == .mxfp4 && moe != nil)
        }

        self.init(
            name: name, layers: layers, hiddenSize: hidden, attentionHeads: heads, kvHeads: kvHeads,
            // Under MLA the query and key heads are qk_nope + qk_rope wide; `head_dim` means something else there.
            headDim: latent.map { $0.qkNopeHeadDim + $0.qkRopeHeadDim } ?? headDim,
            intermediateSize: intermediate, vocabSize: vocab, tiedEmbeddings: config.tieWordEmbeddings ?? false,
            qkNorm: architecture == .qwen3 || architecture == .qwen3MoE, latentAttention: latent, moe: moe,
            slidingWindow: window, checkpointQuantization: checkpoint)
    }
}
