import Foundation

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
    /// Closed loop: this many clients, each sending its next request when it has received the previous one's
    /// response (whatever its status), after `thinkTimeSeconds`; as `vllm bench serve --max-concurrency` and
    /// AIPerf's concurrency mode do. Nil for an open-loop workload, whose arrivals follow `arrival` and the rate.
    public var concurrency: Int?
    /// A closed-loop client's pause between a response and its next request, seconds; nil for none.
    public var thinkTimeSeconds: Distribution?
    /// A system prompt of this many tokens that every request of the workload starts with; the prompt is
    /// these tokens plus the drawn `inputTokens`. 0 means none.
    public var sharedPrefixTokens: Int = 0
    /// Shared prefixes drawn per request: each request starts with the prefix of one of `count` groups, chosen
    /// uniformly or by Zipf popularity, of `tokens` tokens (documents or long system prompts that groups of users
    /// share).
    public var prefixGroups: PrefixGroups?
    /// With Poisson arrivals, the rate rises linearly from `ratePerSecond` at time 0 to this at the horizon
    /// (a non-homogeneous Poisson process, drawn exactly by inverting its cumulative rate).
    public var rampToRatePerSecond: Double?
    /// The rate over time, replacing the constant `ratePerSecond` (which the schedule's relative forms are built
    /// on). Arrivals follow it by a time change; see ``RateSchedule``. Not with `rampToRatePerSecond`.
    public var schedule: RateSchedule?
    /// Longest prompt and output drawn: larger draws are redrawn, so the lengths follow their distribution
    /// truncated at the cap (as benchmarks filter ShareGPT to a maximum length).
    public var maxInputTokens: Int?
    public var maxOutputTokens: Int?
    /// The cluster its clients are in (with a mesh); nil: the first cluster.
    public var cluster: String?
    /// A recorded trace to replay: when set, arrivals and sizes come from it, and `ratePerSecond` is its mean
    /// rate as replayed.
    public var trace: TraceWorkload?
    /// Agent sessions: when set, the arrival process and `rate` are those of sessions, each of which runs
    /// closed-loop turns (``AgentSessionSpec``); the token distributions above are not used.
    public var session: AgentSessionSpec?
    /// LoRA adapters its requests name, each request one drawn by popularity; nil: the base model.
    public var lora: LoRAWorkload?

    /// The adapters a workload's requests name: each request draws one, uniformly or, with `zipf` = s, adapter k
    /// (1-based, in list order) with probability k^−s / Σⱼ j^−s.
    public struct LoRAWorkload: Sendable, Equatable {
        /// The adapters' names, in popularity order (the most popular first under Zipf).
        public var adapters: [String]
        /// The Zipf exponent s > 0, or nil for uniform choice.
        public var zipf: Double?

        public init(adapters: [String], zipf: Double? = nil) {
            self.adapters = adapters
            self.zipf = zipf
        }

        /// `count` adapters named `adapter-00`, `adapter-01`, ... (zero-padded to the width of the last index, at
        /// least two digits), so that workloads giving the same count name the same adapters.
        public static func names(count: Int) -> [String] {
            let width = max(2, String(max(0, count - 1)).count)
            return (0..<count).map { index in
                let digits = String(index)
                return "adapter-" + String(repeating: "0", count: max(0, width - digits.count)) + digits
            }
        }

        /// Each adapter's probability, in list order.
        public var probabilities: [Double] {
            guard let s = zipf else { return Array(repeating: 1 / Double(adapters.count), count: adapters.count) }
            let weights = (1...adapters.count).map { pow(Double($0), -s) }
            let total = weights.reduce(0, +)
            return weights.map { $0 / total }
        }
    }

    /// `count` prefix groups of `tokens` tokens each; with `zipf` = s, group k (1-based) is chosen with
    /// probability k^−s / Σⱼ j^−s, otherwise uniformly.
    public struct PrefixGroups: Sendable, Equatable {
        public var count: Int
        public var tokens: Int
        /// The Zipf exponent s > 0, or nil for uniform choice.
        public var zipf: Double?

        public init(count: Int, tokens: Int, zipf: Double? = nil) {
            self.count = count
            self.tokens = tokens
            self.zipf = zipf
        }

        /// Each group's probability, by group index.
        public var probabilities: [Double] {
            guard let s = zipf else { return Array(repeating: 1 / Double(count), count: count) }
            let weights = (1...count).map { pow(Double($0), -s) }
            let total = weights.reduce(0, +)
            return weights.map { $0 / total }
        }
    }

    /// The expected number of arrivals in [0, `horizon`) (for sizing; renewal processes are approximate).
    public func expectedArrivals(before horizon: SimTime) -> Double {
        if let schedule { return schedule.cumulative(atSeconds: horizon.seconds) }
        if let target = rampToRatePerSecond { return (ratePerSecond + target) / 2 * horizon.seconds }
        return ratePerSecond * horizon.seconds
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

/// A trace replay and what the scenario loader measured of it in its checking pass.
public struct TraceWorkload: Sendable, Equatable {
    public var replay: TraceReplaySpec
    public var stats: TraceStats

    public init(replay: TraceReplaySpec, stats: TraceStats) {
        self.replay = replay
        self.stats = stats
    }
}

/// Draws one workload's arrivals and request sizes from its own named streams.
///
/// Streams: `traffic/<name>/arrivals` for gaps (one draw per arrival: the gap law's, or an Exp(1) of
/// operational time), `traffic/<name>/modulation` for an MMPP's initial state and sojourns (created only for
/// those), `traffic/<name>/tokens` for sizes and `traffic/<name>/prefix-groups` for group choices, so changing
/// one workload, or one aspect of it, never shifts another's draws.
///
/// The generator keeps state (operational time, an MMPP's state): call ``nextGap(at:)`` once per arrival, each
/// time with the previous arrival's time.
public final class WorkloadGenerator {
    public let spec: WorkloadSpec
    /// The workload's shared system prompt, if it has one (its key is a stable hash of the workload's name).
    public let sharedPrefix: PromptPrefix?
    private let gap: Distribution
    private let arrivals: RandomStream
    private let tokens: RandomStream
    private let groups: RandomStream
    private let groupTable: EmpiricalTable?
    /// The adapter draws, from `traffic/<name>/lora` (created only for a workload with adapters).
    private let adapterDraws: (stream: RandomStream, table: EmpiricalTable?)?
    private let groupKeyBase: UInt64
    private let horizonSeconds: Double
    /// With a schedule: the renewal gap law at unit mean rate, and the operational time Λ(t) of the last arrival.
    private let unitGap: Distribution
    private var operational = 0.0
    /// An MMPP's cumulative rate without modulation, normalized multipliers, mean sojourns and draws.
    private let modulated: (base: RateSchedule, multipliers: [Double], means: [Double], stream: RandomStream)?
    /// The exact (unrounded) time of the last modulated arrival, and the end of the current state.
    private var clockSeconds = 0.0
    private var stateEndSeconds = 0.0
    /// The MMPP state the generator is in (after ``nextGap(at:)``, the state of the arrival it placed).
    public private(set) var modulationState: Int?

    public init(spec: WorkloadSpec, streams: RandomStreams, horizon: SimTime = .max) {
        self.spec = spec
        // A closed-loop workload has no rate (its clients set its pace) and never draws a gap.
        self.gap =
            spec.ratePerSecond > 0
            ? spec.arrival.gapSeconds(ratePerSecond: spec.ratePerSecond) ?? .exponential(mean: 1)
            : .exponential(mean: 1)
        self.unitGap = spec.arrival.gapSeconds(ratePerSecond: 1) ?? .exponential(mean: 1)
        self.arrivals = streams.stream("traffic/\(spec.name)/arrivals")
        self.tokens = streams.stream("traffic/\(spec.name)/tokens")
        self.groups = streams.stream("traffic/\(spec.name)/prefix-groups")
        self.groupTable = spec.prefixGroups.flatMap { groups in
            groups.zipf == nil
                ? nil
                : EmpiricalTable(values: (0..<groups.count).map(Double.init), weights: groups.probabilities)
        }
        self.adapterDraws = spec.lora.map { lora in
            (
                streams.stream("traffic/\(spec.name)/lora"),
                lora.zipf == nil
                    ? nil
                    : EmpiricalTable(values: (0..<lora.adapters.count).map(Double.init), weights: lora.probabilities)
            )
        }
        self.groupKeyBase = StableHash.fnv1a("workload/\(spec.name)/prefix-group")
        self.horizonSeconds = horizon.seconds
        self.sharedPrefix =
            spec.sharedPrefixTokens > 0
            ? PromptPrefix(
                key: StableHash.fnv1a("workload/\(spec.name)/system-prompt"), tokens: spec.sharedPrefixTokens)
            : nil
        if case .mmpp(let modulation) = spec.arrival {
            let stream = streams.stream("traffic/\(spec.name)/modulation")
            let means = modulation.states.map(\.meanSeconds)
            modulated = (
                spec.schedule ?? .constant(spec.ratePerSecond), modulation.normalizedMultipliers, means, stream
            )
            // The stationary start: state i with probability dᵢ / Σ d, for a fresh exponential sojourn (memoryless).
            let draw = stream.uniform()
            var state = 0, cumulative = 0.0
            for (index, share) in modulation.timeShares.enumerated() {
                cumulative += share
                state = index
                if draw < cumulative { break }
            }
            modulationState = state
            stateEndSeconds = stream.exponential(mean: means[state])
        } else {
            modulated = nil
        }
    }

    /// The time from `now` (the previous arrival, or 0) to the next arrival; ``SimTime/max`` when none will come.
    public func nextGap(at now: SimTime = .zero) -> SimTime {
        if modulated != nil { return modulatedGap(at: now) }
        if let schedule = spec.schedule {
            // Time change: the renewal process at unit rate in operational time u, mapped back by t = Λ⁻¹(u).
            operational += arrivals.sample(unitGap)
            guard let t = schedule.inverseCumulative(operational) else { return .max }
            return Self.gap(to: t, from: now)
        }
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

    /// The next MMPP arrival: conditionally on the state path, a Poisson process of intensity
    /// multiplierᵢ × rate(t). An Exp(1) amount of intensity is consumed across states, so one arrival draw each.
    private func modulatedGap(at now: SimTime) -> SimTime {
        guard let (base, multipliers, means, stream) = modulated, var state = modulationState else { return .max }
        var work = arrivals.exponential(mean: 1)
        var t = clockSeconds
        while true {
            let u0 = base.cumulative(atSeconds: t)
            if u0 >= base.totalCumulative { return .max }  // the schedule's rate is zero from here on
            let multiplier = multipliers[state]
            if multiplier > 0 {
                if let t1 = base.inverseCumulative(u0 + work / multiplier), t1 < stateEndSeconds {
                    clockSeconds = t1
                    modulationState = state
                    return Self.gap(to: t1, from: now)
                }
                work = Swift.max(0, work - multiplier * (base.cumulative(atSeconds: stateEndSeconds) - u0))
            }
            t = stateEndSeconds
            state = (state + 1) % multipliers.count
            stateEndSeconds = t + stream.exponential(mean: means[state])
        }
    }

    /// The gap from `now` to `t` seconds, rounded at the arrival time (so rounding never accumulates).
    private static func gap(to t: Double, from now: SimTime) -> SimTime {
        let at = SimTime.seconds(t)
        return at > now ? at - now : .zero
    }

    /// The next request's prompt (shared prefix included), output token counts, and the prompt's shared prefix.
    public func nextRequest() -> (input: Int, output: Int, prefix: PromptPrefix?) {
        var input = Self.draw(tokens, spec.inputTokens, atLeast: 0, atMost: spec.maxInputTokens)
        let output = Self.draw(tokens, spec.outputTokens, atLeast: 1, atMost: spec.maxOutputTokens)
        var prefix = sharedPrefix
        input += spec.sharedPrefixTokens
        if let prefixGroups = spec.prefixGroups {
            let group =
                groupTable.map { Int(groups.sample(.empirical($0))) } ?? groups.integer(below: prefixGroups.count)
            prefix = PromptPrefix(key: groupKeyBase ^ StableHash.mix(UInt64(group)), tokens: prefixGroups.tokens)
            input += prefixGroups.tokens
        }
        return (input, output, prefix)
    }

    /// The next request's adapter, as an index into the workload's `lora.adapters`; nil without adapters. One draw
    /// from the workload's own `lora` stream, so adding adapters never shifts its sizes or arrivals.
    public func nextAdapter() -> Int? {
        guard let (stream, table) = adapterDraws, let lora = spec.lora else { return nil }
        return table.map { Int(stream.sample(.empirical($0))) } ?? stream.integer(below: lora.adapters.count)
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
