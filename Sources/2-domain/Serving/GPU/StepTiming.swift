/// What one engine step computes, as the timing model needs it.
///
/// A vLLM-style step batches decode tokens of running sequences with prefill chunks of others
/// (chunked prefill). The linear layers cost by the step's total tokens; attention costs by how much
/// KV each token attends to.
public struct StepShape: Sendable, Equatable {
    /// New prompt tokens processed this step (the sum of the prefill chunks).
    public var prefillTokens: Int
    /// Σ over prefill chunks of `chunk × (tokens already in KV + chunk / 2)`: the attention pairs of the
    /// prefill part (causal attention over the cached context plus the chunk itself).
    public var prefillAttentionPairs: Double
    /// Sequences decoding one token each this step.
    public var decodeSequences: Int
    /// Σ over decoding sequences of their KV length: the tokens decode attention reads.
    public var decodeContextTokens: Int

    public init(
        prefillTokens: Int = 0, prefillAttentionPairs: Double = 0, decodeSequences: Int = 0,
        decodeContextTokens: Int = 0
    ) {
        self.prefillTokens = prefillTokens
        self.prefillAttentionPairs = prefillAttentionPairs
        self.decodeSequences = decodeSequences
        self.decodeContextTokens = decodeContextTokens
    }

    /// Tokens through the linear layers: every prefill token plus one per decoding sequence.
    public var batchTokens: Int { prefillTokens + decodeSequences }
}

/// A model of how long one engine step takes on one replica (all its tensor-parallel GPUs).
///
/// Implementations must be pure functions of the shape: the same shape always takes the same time.
public protocol StepTimingModel: Sendable {
    /// The step's duration, at least 1 ns for a non-empty step.
    func stepDuration(_ shape: StepShape) -> SimTime
}

extension StepShape {
    /// A step that prefills `tokens` prompt tokens of one sequence after `context` tokens already cached: each new
    /// token attends to the cached ones and, causally, to the new ones up to itself.
    public static func prefill(tokens: Int, context: Int = 0) -> StepShape {
        let t = Double(tokens)
        return StepShape(prefillTokens: tokens, prefillAttentionPairs: t * Double(context) + t * (t + 1) / 2)
    }

    /// A step that decodes one token for each of `batch` sequences holding `context` tokens each.
    public static func decode(batch: Int, context: Int) -> StepShape {
        StepShape(decodeSequences: batch, decodeContextTokens: batch * context)
    }
}
