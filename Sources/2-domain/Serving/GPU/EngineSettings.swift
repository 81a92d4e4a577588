/// A vLLM-style engine's scheduler and cache settings, under vLLM's names.
public struct EngineSettings: Sendable, Equatable {
    /// `max-num-seqs`: the most sequences running (prefilling or decoding) at once.
    public var maxNumSeqs: Int
    /// `max-num-batched-tokens`: the token budget of one step (decode tokens plus prefill chunks).
    public var maxNumBatchedTokens: Int
    /// `block-size`: tokens per KV block.
    public var blockSize: Int
    /// `enable-prefix-caching`: reuse full, hashed prompt blocks across requests.
    public var enablePrefixCaching: Bool
    /// `enable-chunked-prefill`: split long prompts across steps and mix them with decodes. When off, a
    /// prompt is prefilled whole in one step and a step never mixes prefill with decode.
    public var enableChunkedPrefill: Bool

    /// vLLM V1's defaults for online serving.
    public init(
        maxNumSeqs: Int = 256, maxNumBatchedTokens: Int = 8192, blockSize: Int = 16,
        enablePrefixCaching: Bool = true, enableChunkedPrefill: Bool = true
    ) {
        self.maxNumSeqs = maxNumSeqs
        self.maxNumBatchedTokens = maxNumBatchedTokens
        self.blockSize = blockSize
        self.enablePrefixCaching = enablePrefixCaching
        self.enableChunkedPrefill = enableChunkedPrefill
    }
}
