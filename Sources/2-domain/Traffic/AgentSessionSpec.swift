/// Closed-loop AI-agent sessions: a session runs turns one after another, each turn's prompt is the whole
/// context so far plus new tokens, tool calls leave gaps between turns, and some turns fan out into parallel
/// sub-agent calls that join before the next turn.
///
/// The defaults follow public measurements of coding-agent traffic (docs/traffic.md, "Agent sessions", gives
/// the sources): gaps between turns with median 2 s and p90 24 s, about 100 turns per session, a ~21,000-token
/// shared tool-and-system prompt, prompts that grow by a few hundred tokens a turn (so about 96% of turns
/// reuse at least 90% of their prompt), and sub-agent groups of median 7 and p90 about 50 calls.
public struct AgentSessionSpec: Sendable, Equatable {
    /// Turns per session (rounded, at least 1).
    public var turns: Distribution
    /// Tokens every session of the workload starts with and shares (tool definitions and system prompt).
    public var systemPromptTokens: Int
    /// The first user message, in tokens.
    public var firstTurnTokens: Distribution
    /// Tokens a turn adds to the context before it is sent: tool results and user messages.
    public var newTokensPerTurn: Distribution
    /// Output tokens of a turn (at least 1).
    public var outputTokens: Distribution
    /// Seconds between a turn's response and the next turn: the tool call's run time, or the user's.
    public var thinkTimeSeconds: Distribution
    /// Chance that a turn's response spawns a group of parallel sub-agent calls.
    public var fanOutProbability: Double
    /// Calls in a sub-agent group (rounded, at least 1).
    public var fanOutSize: Distribution
    /// A sub-agent call's own prompt, after the shared system prompt.
    public var subagentInputTokens: Distribution
    /// A sub-agent call's output; the group's outputs join the context of the next turn.
    public var subagentOutputTokens: Distribution
    /// When a turn's prompt would exceed this, the agent compacts its context to the system prompt plus
    /// `compactedTokens` of summary (a new context: its prefix is no longer cached anywhere).
    public var maxContextTokens: Int
    public var compactedTokens: Int
    /// Send every turn of a session to the replica that served its previous turn while that replica is not
    /// saturated (by the router's saturation detector).
    public var affinity: Bool
    /// The gateway's limits on the session's long-lived connection.
    public var connection: GatewayConnectionLimits
    /// Times a turn that timed out or was cut is sent again before the session fails.
    public var turnRetries: Int
    /// Wait before a retry.
    public var retryBackoff: SimTime

    public init(
        turns: Distribution = .lognormal(mu: 4.605_170_186, sigma: 0.8),
        systemPromptTokens: Int = 21_000,
        firstTurnTokens: Distribution = .lognormal(mu: 5.991_464_547, sigma: 1.0),
        newTokensPerTurn: Distribution = .lognormal(mu: 5.703_782_475, sigma: 1.16),
        outputTokens: Distribution = .lognormal(mu: 5.298_317_367, sigma: 1.0),
        thinkTimeSeconds: Distribution = .lognormal(mu: 0.693_147_181, sigma: 1.939),
        fanOutProbability: Double = 0.05,
        fanOutSize: Distribution = .lognormal(mu: 1.945_910_149, sigma: 1.534),
        subagentInputTokens: Distribution = .lognormal(mu: 7.313_220_387, sigma: 1.0),
        subagentOutputTokens: Distribution = .lognormal(mu: 5.703_782_475, sigma: 1.0),
        maxContextTokens: Int = 131_072, compactedTokens: Int = 8_000, affinity: Bool = false,
        connection: GatewayConnectionLimits = GatewayConnectionLimits(), turnRetries: Int = 1,
        retryBackoff: SimTime = .seconds(1)
    ) {
        self.turns = turns
        self.systemPromptTokens = systemPromptTokens
        self.firstTurnTokens = firstTurnTokens
        self.newTokensPerTurn = newTokensPerTurn
        self.outputTokens = outputTokens
        self.thinkTimeSeconds = thinkTimeSeconds
        self.fanOutProbability = fanOutProbability
        self.fanOutSize = fanOutSize
        self.subagentInputTokens = subagentInputTokens
        self.subagentOutputTokens = subagentOutputTokens
        self.maxContextTokens = maxContextTokens
        self.compactedTokens = compactedTokens
        self.affinity = affinity
        self.connection = connection
        self.turnRetries = turnRetries
        self.retryBackoff = retryBackoff
    }
}

/// What the gateway allows one long-lived client connection, under Envoy's names. A request timeout built for
/// short HTTP requests cuts an agent's long turn; idle and duration limits close the connection under it.
public struct GatewayConnectionLimits: Sendable, Equatable {
    /// A turn not completed this long after it was sent is cut (`timed_out`); nil: no limit.
    public var requestTimeout: SimTime?
    /// A connection with no request in flight for this long is closed; the next turn reconnects.
    public var idleTimeout: SimTime?
    /// A connection is closed at this age; a turn in flight on it is cut (`failed`) and the agent reconnects.
    public var maxConnectionDuration: SimTime?

    public init(
        requestTimeout: SimTime? = nil, idleTimeout: SimTime? = .seconds(3600), maxConnectionDuration: SimTime? = nil
    ) {
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.maxConnectionDuration = maxConnectionDuration
    }
}
