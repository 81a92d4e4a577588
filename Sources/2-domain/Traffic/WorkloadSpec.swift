/// A named source of requests: when they arrive, how large they are, and what they expect.
public struct WorkloadSpec: Sendable, Equatable {
    /// The workload's name, unique in the scenario (it names its random streams).
    public var name: String
    /// Mean arrival rate, requests per second.
    public var ratePerSecond: Double
    /// The arrival process.
    public var arrival: ArrivalProcess
    /// Prompt length in tokens (drawn, rounded, at least 0).
    public var inputTokens: Distribution
    /// Output length in tokens (drawn, rounded, at least 1).
    public var outputTokens: Distribution
    /// The pool this workload's requests go to.
    public var pool: String
    /// A request not completed this long after arrival ends `timed_out`; nil waits forever.
    public var timeout: SimTime?
    /// Criticality, as in the inference extension.
    public var criticality: Criticality
    /// Objectives overriding the scenario-wide ones.
    public var slo: SLO
    /// Stop after this many requests (even before the horizon); nil generates until the horizon.
    public var maxRequests: Int?
    /// A system prompt of this many tokens that every request of the workload starts with; the prompt is
    /// these tokens plus the drawn `inputTokens`. 0 means none.
    public var sharedPrefixTokens: Int = 0
    /// Shared prefixes drawn per request: each request starts with the prefix of one of `count` groups, chosen
    /// uniformly, of `tokens` tokens (documents or long system prompts that groups of users share).
    public var prefixGroups: PrefixGroups?
    /// With Poisson arrivals, the rate rises linearly from `ratePerSecond` at time 0 to this at the horizon
    /// (a non-homogeneous Poisson process, drawn exactly by inverting its cumulative rate).
    public var rampToRatePerSecond: Double?
    /// Longest prompt and output drawn: larger draws are redrawn, so the lengths follow their distribution
    /// truncated at the cap (as benchmarks filter ShareGPT to a maximum length).
    public var maxInputTokens: Int?
    public var maxOutputTokens: Int?
    /// Agent sessions: when set, the arrival process and `rate` are those of sessions, each of which runs
    /// closed-loop turns (``AgentSessionSpec``); the token distributions above are not used.
    public var session: AgentSessionSpec?

    /// `count` prefix groups of `tokens` tokens each.
    public struct PrefixGroups: Sendable, Equatable {
        public var count: Int
        public var tokens: Int

        public init(count: Int, tokens: Int) {
            self.count = count
            self.tokens = tokens
        }
    }

    public init(
        name: String, ratePerSecond: Double, arrival: ArrivalProcess = .poisson,
        inputTokens: Distribution = .constant(0), outputTokens: Distribution = .constant(1),
        pool: String, timeout: SimTime? = nil, criticality: Criticality = .standard, slo: SLO = SLO(),
        maxRequests: Int? = nil
    ) {
        self.name = name
        self.ratePerSecond = ratePerSecond
        self.arrival = arrival
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.pool = pool
        self.timeout = timeout
        self.criticality = criticality
        self.slo = slo
        self.maxRequests = maxRequests
    }
}

/// Draws one workload's arrivals and request sizes from its own named streams.
///
/// Streams: `traffic/<name>/arrivals` for gaps, `traffic/<name>/tokens` for sizes and
/// `traffic/<name>/prefix-groups` for group choices, so changing one workload, or one aspect of it, never
/// shifts another's draws.
public final class WorkloadGenerator {
    public let spec: WorkloadSpec
    /// The workload's shared system prompt, if it has one (its key is a stable hash of the workload's name).
    public let sharedPrefix: PromptPrefix?
    private let gap: Distribution
    private let arrivals: RandomStream
    private let tokens: RandomStream
    private let groups: RandomStream
    private let groupKeyBase: UInt64
    private let horizonSeconds: Double

    public init(spec: WorkloadSpec, streams: RandomStreams, horizon: SimTime = .max) {
        self.spec = spec
        self.gap = spec.arrival.gapSeconds(ratePerSecond: spec.ratePerSecond)
        self.arrivals = streams.stream("traffic/\(spec.name)/arrivals")
        self.tokens = streams.stream("traffic/\(spec.name)/tokens")
        self.groups = streams.stream("traffic/\(spec.name)/prefix-groups")
        self.groupKeyBase = StableHash.fnv1a("workload/\(spec.name)/prefix-group")
        self.horizonSeconds = horizon.seconds
        self.sharedPrefix =
            spec.sharedPrefixTokens > 0
            ? PromptPrefix(
                key: StableHash.fnv1a("workload/\(spec.name)/system-prompt"), tokens: spec.sharedPrefixTokens)
            : nil
    }

    /// The time from `now` to the next arrival.
    public func nextGap(at now: SimTime = .zero) -> SimTime {
        guard let target = spec.rampToRatePerSecond else { return SimTime.seconds(arrivals.sample(gap)) }
        // Rate a + (b − a) t / T has cumulative rate Λ(t) = a t + c t², c = (b − a) / 2T. The next arrival is
        // where Λ has grown by an Exp(1) draw: the root of c t² + a t − (Λ(now) + E) = 0.
        let a = spec.ratePerSecond, c = (target - a) / (2 * horizonSeconds), t0 = now.seconds
        let goal = a * t0 + c * t0 * t0 + arrivals.exponential(mean: 1)
        let t1: Double
        if abs(c) < 1e-15 {
            t1 = goal / a
        } else {
            let discriminant = a * a + 4 * c * goal
            guard discriminant >= 0 else { return .max }  // a falling rate reached zero: no more arrivals
            t1 = (-a + discriminant.squareRoot()) / (2 * c)
        }
        return t1 > t0 ? SimTime.seconds(Swift.min(t1 - t0, 1e9)) : .zero
    }

    /// The next request's prompt (shared prefix included), output token counts, and the prompt's shared prefix.
    public func nextRequest() -> (input: Int, output: Int, prefix: PromptPrefix?) {
        var input = Self.draw(tokens, spec.inputTokens, atLeast: 0, atMost: spec.maxInputTokens)
        let output = Self.draw(tokens, spec.outputTokens, atLeast: 1, atMost: spec.maxOutputTokens)
        var prefix = sharedPrefix
        input += spec.sharedPrefixTokens
        if let prefixGroups = spec.prefixGroups {
            let group = groups.integer(below: prefixGroups.count)
            prefix = PromptPrefix(key: groupKeyBase ^ StableHash.mix(UInt64(group)), tokens: prefixGroups.tokens)
            input += prefixGroups.tokens
        }
        return (input, output, prefix)
    }

    /// A count from `distribution`, redrawn while above `cap` (truncation, not clipping); after 1,000 draws
    /// above it, the cap itself.
    private static func draw(
        _ stream: RandomStream, _ distribution: Distribution, atLeast minimum: Int, atMost cap: Int?
    )
        -> Int
    {
        for _ in 0..<1_000 {
            let value = count(stream.sample(distribution), atLeast: minimum)
            if value <= cap ?? .max { return value }
        }
        return cap!
    }

    /// Rounds a draw to a token count; heavy tails are bounded at 10⁹ so a count always fits an `Int`.
    static func count(_ draw: Double, atLeast minimum: Int) -> Int {
        guard draw.isFinite else { return minimum }
        return Swift.max(minimum, Int(Swift.min(draw, 1e9).rounded()))
    }
}
