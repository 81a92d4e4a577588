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
/// Streams: `traffic/<name>/arrivals` for gaps and `traffic/<name>/tokens` for sizes, so changing one workload
/// never shifts another's draws.
public final class WorkloadGenerator {
    public let spec: WorkloadSpec
    /// The workload's shared system prompt, if it has one (its key is a stable hash of the workload's name).
    public let sharedPrefix: PromptPrefix?
    private let gap: Distribution
    private let arrivals: RandomStream
    private let tokens: RandomStream

    public init(spec: WorkloadSpec, streams: RandomStreams) {
        self.spec = spec
        self.gap = spec.arrival.gapSeconds(ratePerSecond: spec.ratePerSecond)
        self.arrivals = streams.stream("traffic/\(spec.name)/arrivals")
        self.tokens = streams.stream("traffic/\(spec.name)/tokens")
        self.sharedPrefix =
            spec.sharedPrefixTokens > 0
            ? PromptPrefix(
                key: StableHash.fnv1a("workload/\(spec.name)/system-prompt"), tokens: spec.sharedPrefixTokens)
            : nil
    }

    /// The time to the next arrival.
    @inlinable public func nextGap() -> SimTime { SimTime.seconds(arrivalsSample()) }

    @usableFromInline func arrivalsSample() -> Double { arrivals.sample(gap) }

    /// The next request's prompt (shared prefix included) and output token counts.
    public func nextShape() -> (input: Int, output: Int) {
        (
            spec.sharedPrefixTokens + Self.count(tokens.sample(spec.inputTokens), atLeast: 0),
            Self.count(tokens.sample(spec.outputTokens), atLeast: 1)
        )
    }

    /// Rounds a draw to a token count; heavy tails are bounded at 10⁹ so a count always fits an `Int`.
    static func count(_ draw: Double, atLeast minimum: Int) -> Int {
        guard draw.isFinite else { return minimum }
        return Swift.max(minimum, Int(Swift.min(draw, 1e9).rounded()))
    }
}
