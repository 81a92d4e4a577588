/// One agent session's content, drawn turn by turn from the session's own stream.
///
/// Every draw of a turn happens when the turn is planned, in a fixed order, and the stream is the session's
/// (`traffic/<workload>/session/<n>`), so session n sends the same turns under every policy, whatever the
/// timing: policies are compared on common random numbers.
public final class AgentSession {
    /// One planned turn: the request to send, then what follows its response.
    public struct Turn: Sendable, Equatable {
        public var inputTokens: Int
        public var outputTokens: Int
        public var prefix: PromptPrefix
        /// Tokens of the prompt that the previous turn's prompt and output already held (0 on a fresh context).
        public var reusedTokens: Int
        /// Sub-agent calls the response spawns; empty for none.
        public var subagents: [SubagentCall]
        /// The gap after the response (or after the sub-agents join) before the next turn.
        public var thinkTime: SimTime
    }

    /// One sub-agent call: its prompt (the shared system prompt plus its own task), output and prefix.
    public struct SubagentCall: Sendable, Equatable {
        public var input: Int
        public var output: Int
        public var prefix: PromptPrefix
    }

    public let spec: AgentSessionSpec
    /// Turns this session will run.
    public let turns: Int
    /// Turns planned so far.
    public private(set) var planned = 0
    /// Times the context was compacted.
    public private(set) var compactions = 0
    private let stream: RandomStream
    private let systemKey: UInt64
    private let sessionKey: UInt64
    /// Context after the system prompt, including the last turn's output.
    private var context = 0

    /// Session `index` of the workload `workload`; `systemKey` names the workload's shared system prompt.
    public init(spec: AgentSessionSpec, workload: String, index: Int, systemKey: UInt64, streams: RandomStreams) {
        self.spec = spec
        // Not cached in `streams`: the stream (a few KB of generator state) goes with the session.
        self.stream = RandomStream(name: "traffic/\(workload)/session/\(index)", runSeed: streams.runSeed)
        self.systemKey = systemKey
        self.sessionKey = StableHash.fnv1a("workload/\(workload)/session/\(index)")
        self.turns = WorkloadGenerator.count(stream.sample(spec.turns), atLeast: 1)
    }

    /// Plans the next turn; `joined` is the output of the sub-agents that joined since the last turn.
    public func nextTurn(joined: Int) -> Turn {
        let fresh = planned == 0
        planned += 1
        let new =
            WorkloadGenerator.count(stream.sample(fresh ? spec.firstTurnTokens : spec.newTokensPerTurn), atLeast: 1)
            + joined
        let output = WorkloadGenerator.count(stream.sample(spec.outputTokens), atLeast: 1)
        var reused = fresh ? 0 : spec.systemPromptTokens + context
        if spec.systemPromptTokens + context + new > spec.maxContextTokens {
            compactions += 1
            context = min(spec.compactedTokens, max(0, spec.maxContextTokens - spec.systemPromptTokens - new))
            reused = spec.systemPromptTokens
        }
        context += new
        let key = sessionKey ^ StableHash.mix(UInt64(compactions))
        let input = spec.systemPromptTokens + context
        let prefix = PromptPrefix(
            base: systemKey, baseTokens: spec.systemPromptTokens, key: key, tokens: input, outputExtendsPrefix: true)
        context += output

        var subagents: [SubagentCall] = []
        if stream.uniform() < spec.fanOutProbability {
            let size = WorkloadGenerator.count(stream.sample(spec.fanOutSize), atLeast: 1)
            for call in 0..<size {
                let callInput =
                    spec.systemPromptTokens
                    + WorkloadGenerator.count(stream.sample(spec.subagentInputTokens), atLeast: 1)
                let callKey = key ^ StableHash.mix(UInt64(planned) << 20 | UInt64(call))
                subagents.append(
                    SubagentCall(
                        input: callInput,
                        output: WorkloadGenerator.count(stream.sample(spec.subagentOutputTokens), atLeast: 1),
                        prefix: PromptPrefix(
                            base: systemKey, baseTokens: spec.systemPromptTokens, key: callKey, tokens: callInput)))
            }
        }
        let think = SimTime.seconds(max(0, stream.sample(spec.thinkTimeSeconds)))
        return Turn(
            inputTokens: input, outputTokens: output, prefix: prefix, reusedTokens: min(reused, input),
            subagents: subagents, thinkTime: think)
    }
}
