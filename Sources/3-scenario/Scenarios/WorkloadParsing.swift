import Fleet

extension NodeReader {
    /// One entry of `workloads`. `pools` are the pool names, to resolve and check `pool`; `clusters` the cluster
    /// names, to check `cluster` (nil: none declared).
    func workload(pools: [String], clusters: [String]? = nil) throws(ScenarioError) -> WorkloadSpec {
        let fields = try mapping(keys: ScenarioKeys.workload, what: "a workload mapping with `name` and `rate`")
        let name = try fields.required("name", expecting: "a name of letters, digits, `.`, `_` and `-`").name()
        if let trace = fields["trace"] {
            var spec = try traceWorkload(name: name, trace: trace, fields, pools: pools)
            spec.cluster = try Self.cluster(fields, among: clusters)
            spec.lora = try fields["lora"]?.loraWorkload()
            return spec
        }
        // A closed-loop workload's pace is its clients': it has no rate and no arrival process.
        let clients = try fields["concurrency"].map { reader throws(ScenarioError) in
            try reader.closedLoopClients(fields)
        }
        if clients == nil, let think = fields.keyReader("think-time") {
            throw think.error("`think-time` is a closed-loop client's pause; it needs `concurrency`")
        }
        var rate = 0.0
        var arrival = ArrivalProcess.poisson
        if clients == nil {
            let rateReader = try fields.required(
                "rate",
                expecting: "a rate > 0, like 20/s, a `concurrency` of closed-loop clients, or a `trace` to replay")
            rate = try rateReader.rate()
            arrival = try fields["arrival"]?.arrival() ?? .poisson
            // A tiny rate or an extreme CV can make the gap law's parameters overflow; catch it here, not mid-run.
            if let gaps = arrival.gapSeconds(ratePerSecond: rate), !NodeReader.isWellFormed(gaps) {
                throw (fields["arrival"] ?? rateReader).error(
                    "this process at rate \(rateReader.scalarText ?? "?") gives a degenerate gap distribution: \(gaps)")
            }
        }
        let pool = try Self.pool(fields, among: pools)
        let input = try fields["input-tokens"]?.distribution(of: .tokens) ?? .constant(0)
        let sharedPrefix = try fields["shared-prefix-tokens"]?.integer(in: 0...10_000_000) ?? 0
        let output = try fields["output-tokens"]?.distribution(of: .tokens) ?? .constant(1)
        let timeout = try fields["timeout"]?.duration(allowZero: false)
        let criticality = try fields["criticality"]?.criticality() ?? .standard
        let slo = try fields["slo"]?.slo() ?? SLO()
        var spec = WorkloadSpec(
            name: name, ratePerSecond: rate, arrival: arrival, inputTokens: input,
            outputTokens: output, pool: pool, timeout: timeout, criticality: criticality, slo: slo)
        spec.sharedPrefixTokens = sharedPrefix
        spec.cluster = try Self.cluster(fields, among: clusters)
        if let rampReader = fields["ramp-to"] {
            guard arrival == .poisson else {
                throw rampReader.error(
                    "`ramp-to` needs poisson arrivals; for other processes write the ramp as a `schedule`")
            }
            spec.rampToRatePerSecond = try rampReader.rate()
        }
        if let scheduleReader = fields["schedule"] {
            if let ramp = fields.keyReader("ramp-to") {
                throw ramp.error(
                    "a workload takes `ramp-to` or `schedule`, not both; write the ramp as "
                        + "schedule: {ramp: {from: .., to: .., start: 0s, end: ..}}")
            }
            spec.schedule = try scheduleReader.schedule(baseRate: rate)
            // Under a schedule a renewal process runs at unit rate in operational time: its law there must be sound.
            if let unitGaps = arrival.gapSeconds(ratePerSecond: 1), !NodeReader.isWellFormed(unitGaps) {
                throw (fields["arrival"] ?? scheduleReader).error(
                    "this process at unit rate (under a schedule) gives a degenerate gap distribution: \(unitGaps)")
            }
        }
        if let groupsReader = fields["prefix-groups"] {
            if let shared = fields["shared-prefix-tokens"] {
                throw shared.error("a workload takes `shared-prefix-tokens` or `prefix-groups`, not both")
            }
            spec.prefixGroups = try groupsReader.prefixGroups()
        }
        spec.maxRequests = try fields["requests"]?.integer(in: 1...1_000_000_000)
        spec.maxInputTokens = try fields["max-input-tokens"]?.integer(in: 0...1_000_000_000)
        spec.maxOutputTokens = try fields["max-output-tokens"]?.integer(in: 1...1_000_000_000)
        if let session = fields["session"] {
            // A session draws its own prompts and outputs; workload-level shapes would be silently unused.
            for key in [
                "input-tokens", "output-tokens", "shared-prefix-tokens", "prefix-groups", "max-input-tokens",
                "max-output-tokens", "timeout",
            ] {
                if let reader = fields.keyReader(key) {
                    throw reader.error(
                        "`\(key)` does not apply to a session workload; set prompt and output sizes under `session` "
                            + "(and the turn timeout as session.connection.request-timeout)")
                }
            }
            spec.session = try session.agentSession()
        }
        if let loraReader = fields["lora"] {
            // A session's turns are drawn by the sessions component, which names no adapter.
            if let session = fields.keyReader("session") {
                throw session.error("`lora` does not apply to a session workload (its turns use the base model)")
            }
            spec.lora = try loraReader.loraWorkload()
        }
        spec.concurrency = clients
        spec.thinkTimeSeconds = try fields["think-time"]?.distribution(of: .duration)
        return spec
    }

    /// `concurrency: N` of a closed-loop workload: N clients, each sending its next request when it has the
    /// response to its previous one, after an optional `think-time`, as serving benchmarks run. Its pace is its
    /// clients', so the keys of an arrival process (and of sessions) do not apply.
    func closedLoopClients(_ fields: MappingReader) throws(ScenarioError) -> Int {
        for key in ["rate", "arrival", "ramp-to", "schedule", "session"] {
            if let reader = fields.keyReader(key) {
                throw reader.error(
                    "`\(key)` does not apply to a closed-loop workload: its \(scalarText ?? "") clients "
                        + "send when they have their responses (drop `concurrency` for an open-loop workload)")
            }
        }
        return try integer(in: 1...1_000_000)
    }

    /// `prefix-groups: {count: N, tokens: T, zipf: S}`.
    func prefixGroups() throws(ScenarioError) -> WorkloadSpec.PrefixGroups {
        let group = try mapping(
            keys: ScenarioKeys.prefixGroups, what: "a mapping like {count: 150, tokens: 6000, zipf: 1.1}")
        return WorkloadSpec.PrefixGroups(
            count: try group.required("count", expecting: "an integer in 1...10000000").integer(in: 1...10_000_000),
            tokens: try group.required("tokens", expecting: "an integer in 1...10000000").integer(in: 1...10_000_000),
            zipf: try group["zipf"]?.number(.positive))
    }

    /// `lora: {adapters: 50, zipf: 1.0}` or `lora: {adapters: [support, legal]}`: `N` adapters named `adapter-00`
    /// ... or the names given, drawn uniformly or by Zipf popularity (the first most popular).
    func loraWorkload() throws(ScenarioError) -> WorkloadSpec.LoRAWorkload {
        let what = "a mapping like {adapters: 50, zipf: 1.0} or {adapters: [support, legal]}"
        let fields = try mapping(keys: ScenarioKeys.lora, what: what)
        let adaptersReader = try fields.required(
            "adapters", expecting: "a count of adapters in 1...10000, or a list of adapter names")
        var names: [String]
        if case .sequence = adaptersReader.node {
            names = []
            for item in try adaptersReader.sequence(nonEmpty: true, of: "adapter names") {
                let name = try item.name()
                if names.contains(name) { throw item.error("duplicate adapter name `\(name)`") }
                names.append(name)
            }
            if names.count > 10_000 { throw adaptersReader.error("at most 10000 adapters, found \(names.count)") }
        } else {
            names = WorkloadSpec.LoRAWorkload.names(count: try adaptersReader.integer(in: 1...10_000))
        }
        return WorkloadSpec.LoRAWorkload(adapters: names, zipf: try fields["zipf"]?.number(.positive))
    }

    /// The workload's `pool`, which may be left out when there is one.
    static func pool(_ fields: MappingReader, among pools: [String]) throws(ScenarioError) -> String {
        if let poolReader = fields["pool"] {
            let pool = try poolReader.string("the name of a pool")
            guard pools.contains(pool) else {
                throw poolReader.error("unknown pool `\(pool)`" + Suggestions.hint(for: pool, among: pools))
            }
            return pool
        } else if pools.count == 1 {
            return pools[0]
        }
        throw fields.reader.error(
            "missing required key `pool` (with \(pools.count) pools, say which: \(pools.joined(separator: ", ")))")
    }

    /// A workload that replays a trace: arrivals and sizes come from the file, so the keys that draw them do not
    /// apply.
    func traceWorkload(
        name: String, trace: NodeReader, _ fields: MappingReader, pools: [String]
    )
        throws(ScenarioError) -> WorkloadSpec
    {
        for key in [
            "rate", "ramp-to", "schedule", "arrival", "input-tokens", "output-tokens", "max-input-tokens",
            "max-output-tokens", "shared-prefix-tokens", "prefix-groups", "session", "concurrency", "think-time",
        ] {
            if let reader = fields.keyReader(key) {
                throw reader.error("`\(key)` does not apply to a workload that replays a `trace`: the trace sets it")
            }
        }
        let (replay, stats) = try trace.scannedTraceReplay()
        let reader: TraceReader
        do { reader = try TraceReader(spec: replay, stats: stats) } catch { throw trace.error("\(error)") }
        var spec = WorkloadSpec(
            name: name, ratePerSecond: max(reader.ratePerSecond, 1e-9), pool: try Self.pool(fields, among: pools),
            timeout: try fields["timeout"]?.duration(allowZero: false),
            criticality: try fields["criticality"]?.criticality() ?? .standard, slo: try fields["slo"]?.slo() ?? SLO())
        spec.trace = TraceWorkload(replay: replay, stats: stats)
        spec.maxRequests = try fields["requests"]?.integer(in: 1...1_000_000_000)
        return spec
    }

    /// `arrival`: a process name, `{process: NAME, cv: C}` for the processes that take a CV,
    /// `{process: on-off, on: D, off: D}` or `{process: mmpp, states: [{rate: Mx, mean-duration: D}, ...]}`.
    func arrival() throws(ScenarioError) -> ArrivalProcess {
        let names = ArrivalProcess.names
        let what = "a process name (\(names.joined(separator: ", "))) or a mapping like {process: gamma, cv: 2.0}"
        if node.scalar != nil {
            let name = try string(what)
            guard let kind = ArrivalProcess.Kind(rawValue: name) else {
                throw error("unknown arrival process `\(name)`" + Suggestions.hint(for: name, among: names))
            }
            switch kind {
            case .poisson: return .poisson
            case .deterministic: return .deterministic
            case .gamma, .weibull: throw error("`\(name)` arrivals need a cv; write {process: \(name), cv: 2.0}")
            case .onOff: throw error("`on-off` arrivals need mean periods; write {process: on-off, on: 2s, off: 8s}")
            case .mmpp:
                throw error(
                    "`mmpp` arrivals need states; write {process: mmpp, states: [{rate: 3x, mean-duration: 5s}, ...]}")
            }
        }
        let fields = try mapping(keys: ScenarioKeys.arrival, what: what)
        let nameReader = try fields.required("process", expecting: "one of: \(names.joined(separator: ", "))")
        let name = try nameReader.string("one of: \(names.joined(separator: ", "))")
        guard let kind = ArrivalProcess.Kind(rawValue: name) else {
            throw nameReader.error("unknown arrival process `\(name)`" + Suggestions.hint(for: name, among: names))
        }
        let keys = ScenarioKeys.arrival(kind)
        if !keys.contains("cv"), let cv = fields.keyReader("cv") {
            let takingCV = ArrivalProcess.Kind.allCases.filter { ScenarioKeys.arrival($0).contains("cv") }
            throw cv.error(
                "`cv` applies only to \(takingCV.map(\.rawValue).joined(separator: " and ")) arrivals, not \(name)")
        }
        try fields.restrict(to: keys, subject: "`process: \(name)`")
        switch kind {
        case .poisson: return .poisson
        case .deterministic: return .deterministic
        case .gamma:
            return .gamma(cv: try fields.required("cv", expecting: "a number > 0").number(.positive))
        case .weibull:
            let cvReader = try fields.required("cv", expecting: "a number in 0.02...100")
            let cv = try cvReader.number(.positive)
            guard WeibullLimits.cvRange.contains(cv) else { throw cvReader.expected("a cv in 0.02...100 for weibull") }
            return .weibull(cv: cv)
        case .onOff:
            let on = try fields.required("on", expecting: "the mean on period, a duration > 0").duration(
                allowZero: false)
            let off = try fields.required("off", expecting: "the mean off period, a duration > 0").duration(
                allowZero: false)
            return .onOff(onSeconds: on.seconds, offSeconds: off.seconds)
        case .mmpp:
            return .mmpp(try mmppStates(fields.required("states", expecting: "a list of at least two states")))
        }
    }

    /// `states` of an MMPP: at least two `{rate: MULTIPLIER, mean-duration: D}`, some multiplier > 0.
    private func mmppStates(_ reader: NodeReader) throws(ScenarioError) -> ArrivalProcess.Modulation {
        let items = try reader.sequence(nonEmpty: true, of: "states like {rate: 3x, mean-duration: 5s}")
        guard items.count >= 2 else {
            throw reader.error("expected at least two states, found one (one state is a Poisson process)")
        }
        var states: [ArrivalProcess.Modulation.State] = []
        for item in items {
            let fields = try item.mapping(
                keys: ScenarioKeys.mmppState, what: "a state like {rate: 3x, mean-duration: 5s}")
            let multiplier = try fields.required("rate", expecting: "a multiplier of the rate, like 3x").multiplier()
            let mean = try fields.required("mean-duration", expecting: "a duration > 0").duration(allowZero: false)
            states.append(.init(multiplier: multiplier, meanSeconds: mean.seconds))
        }
        guard states.contains(where: { $0.multiplier > 0 }) else {
            throw reader.error("expected at least one state with a rate > 0x, found only 0x")
        }
        return ArrivalProcess.Modulation(states: states)
    }

    /// `criticality`: one of the inference extension's levels.
    func criticality() throws(ScenarioError) -> Criticality {
        let names = Criticality.allCases.map(\.rawValue)
        let name = try string("one of: \(names.joined(separator: ", "))")
        guard let value = Criticality(rawValue: name) else {
            throw error("unknown criticality `\(name)`" + Suggestions.hint(for: name, among: names))
        }
        return value
    }

    /// `slo`: optional `ttft`, `tpot` and `e2e` targets, each a duration > 0.
    func slo() throws(ScenarioError) -> SLO {
        let fields = try mapping(keys: ScenarioKeys.slo, what: "a mapping of targets, like {ttft: 500ms, e2e: 2s}")
        return SLO(
            ttft: try fields["ttft"]?.duration(allowZero: false),
            tpot: try fields["tpot"]?.duration(allowZero: false),
            e2e: try fields["e2e"]?.duration(allowZero: false))
    }
}
