/// How a request ended. Every request generated ends in exactly one of these.
public enum RequestStatus: String, Sendable, CaseIterable {
    /// Served to the last token.
    case completed
    /// Refused on arrival (a full queue, or no replica to serve it).
    case rejected
    /// Its deadline (the workload's `timeout`) passed before it completed.
    case timedOut = "timed_out"
    /// Lost to a fault.
    case failed
    /// Still in flight when the run stopped (at the horizon without drain, or at the drain limit).
    case unfinished
}

extension RequestStatus {
    /// The position in `allCases`, computed without building the array (used on the hot path).
    @inlinable public var index: Int {
        switch self {
        case .completed: return 0
        case .rejected: return 1
        case .timedOut: return 2
        case .failed: return 3
        case .unfinished: return 4
        }
    }

    /// The status at `index` in `allCases`.
    @inlinable public init(index: Int) {
        self = [.completed, .rejected, .timedOut, .failed, .unfinished][index]
    }
}

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

/// The shared head of a prompt: its first `tokens` tokens are the same for every request with this `key`
/// (a system prompt, a document, the earlier turns of a session). Prefix caches reuse its full blocks.
public struct PromptPrefix: Sendable, Equatable {
    /// Identifies the shared content (requests with equal keys share it).
    public var key: UInt64
    /// How many leading prompt tokens are shared.
    public var tokens: Int

    public init(key: UInt64, tokens: Int) {
        self.key = key
        self.tokens = tokens
    }
}

/// What a replica is told about a request it must serve.
public struct ServingRequest: Sendable {
    public let id: RequestID
    public let inputTokens: Int
    public let outputTokens: Int
    /// The prompt's shared head, if any.
    public let prefix: PromptPrefix?

    @inlinable public init(id: RequestID, inputTokens: Int, outputTokens: Int, prefix: PromptPrefix? = nil) {
        self.id = id
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.prefix = prefix
    }
}
