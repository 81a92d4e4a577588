// `RequestStatus` lives in Vocabulary, shared with the results store; re-exported for users of this module.
@_exported public import Vocabulary

/// A request's criticality, as in the Gateway API Inference Extension's InferenceObjective.
public enum Criticality: String, Sendable, CaseIterable {
    case critical, standard, sheddable
}

/// Latency objectives. A nil target is not checked.
public struct SLO: Sendable, Equatable {
    /// Time to first token.
    public var ttft: SimTime?
    /// Mean time per output token after the first.
    public var tpot: SimTime?
    /// End-to-end latency.
    public var e2e: SimTime?

    public init(ttft: SimTime? = nil, tpot: SimTime? = nil, e2e: SimTime? = nil) {
        self.ttft = ttft
        self.tpot = tpot
        self.e2e = e2e
    }

    /// Whether no target is set.
    public var isEmpty: Bool { ttft == nil && tpot == nil && e2e == nil }

    /// Targets set here override those of `base`.
    public func overriding(_ base: SLO) -> SLO {
        SLO(ttft: ttft ?? base.ttft, tpot: tpot ?? base.tpot, e2e: e2e ?? base.e2e)
    }
}

/// The shared head of a prompt: its first `tokens` tokens are content other requests may share (a system
/// prompt, a document, the earlier turns of a session, or a trace's prefix blocks). Prefix caches reuse the
/// KV of its full blocks.
///
/// Block identities are prefix-chained, as vLLM's block hashes are: a block's identity stands for every token
/// up to the block's end, so two prompts share block `i` only if they share all blocks before it.
public struct PromptPrefix: Sendable, Equatable {
    /// Where the identities come from.
    public enum Content: Sendable, Equatable {
        /// Content named by `key`. Prefixes with the same key agree on every block they both cover, so a
        /// longer one extends a shorter one: a session's context grows turn by turn under one key.
        case keyed(UInt64)
        /// A trace's prefix-chained block hashes (Mooncake's `hash_ids`), each standing for `tokensPerHash`
        /// tokens (Mooncake uses 512). The engine's smaller blocks take the identity of the trace block that
        /// holds their last token, so a block is shared only if the trace says all its tokens are.
        case hashes([UInt64], tokensPerHash: Int)
        /// Content named by `key` that begins with the first `baseTokens` tokens of the content named `base`: an
        /// agent session's context after a system prompt that every session of its workload shares. Blocks
        /// that lie wholly within the base take the base's identities, so sessions share them.
        case layered(base: UInt64, baseTokens: Int, key: UInt64)
    }

    public var content: Content
    /// How many leading prompt tokens the identities cover.
    public var tokens: Int
    /// Whether the request's output continues the shared content (a session turn, whose reply is part of the
    /// next turn's prompt): the engine then caches the full blocks of the output as well, as vLLM does.
    public var outputExtendsPrefix: Bool

    /// Keyed content: the first `tokens` tokens of the content named `key`.
    public init(key: UInt64, tokens: Int, outputExtendsPrefix: Bool = false) {
        self.content = .keyed(key)
        self.tokens = tokens
        self.outputExtendsPrefix = outputExtendsPrefix
    }

    /// Content named `key` whose first `baseTokens` tokens are those of the content named `base`.
    public init(base: UInt64, baseTokens: Int, key: UInt64, tokens: Int, outputExtendsPrefix: Bool = false) {
        self.content = .layered(base: base, baseTokens: baseTokens, key: key)
        self.tokens = tokens
        self.outputExtendsPrefix = outputExtendsPrefix
    }

    /// A trace's block hashes, covering `hashes.count × tokensPerHash` tokens.
    public init(hashes: [UInt64], tokensPerHash: Int) {
        precondition(tokensPerHash > 0, "a trace block holds at least one token")
        self.content = .hashes(hashes, tokensPerHash: tokensPerHash)
        self.tokens = hashes.count * tokensPerHash
        self.outputExtendsPrefix = false
    }

    /// The identity of block `index` (tokens `index × blockSize ..< (index + 1) × blockSize`), for a block that
    /// lies within the first `tokens` tokens.
    @inlinable public func blockHash(_ index: Int, blockSize: Int) -> UInt64 {
        switch content {
        case .keyed(let key):
            return StableHash.mix(key ^ StableHash.mix(UInt64(index)))
        case .layered(let base, let baseTokens, let key):
            let owner = (index + 1) * blockSize <= baseTokens ? base : key
            return StableHash.mix(owner ^ StableHash.mix(UInt64(index)))
        case .hashes(let hashes, let tokensPerHash):
            let holder = min(((index + 1) * blockSize - 1) / tokensPerHash, hashes.count - 1)
            // Salted so that a trace's hash ids and a key never name the same block by accident.
            return StableHash.mix(StableHash.mix(hashes[holder] &+ 0x7472_6163_6568_6173) ^ UInt64(index))
        }
    }
}

/// What a replica is told about a request it must serve.
public struct ServingRequest: Sendable {
    public let id: RequestID
    public let inputTokens: Int
    public let outputTokens: Int
    /// The prompt's shared head, if any.
    public let prefix: PromptPrefix?
    /// Only the prompt is computed here, and its KV is held for a decode replica (disaggregated serving).
    public var prefillOnly = false
    /// The LoRA adapter it names, as an index into the run's adapter table; -1 for the base model.
    public let adapter: Int32

    @inlinable public init(
        id: RequestID, inputTokens: Int, outputTokens: Int, prefix: PromptPrefix? = nil, adapter: Int32 = -1
    ) {
        self.id = id
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.prefix = prefix
        self.adapter = adapter
    }
}
