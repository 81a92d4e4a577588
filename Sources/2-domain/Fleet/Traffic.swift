/// The traffic component: each workload's arrival process or trace, and how many requests it has sent.
///
/// Events it owns: `.arrival(workload)`. Each arrival schedules the workload's next one and tells the fleet
/// what arrived: a request's sizes and prefix, or the start of an agent session.
struct Traffic {
    /// What one arrival brings.
    enum Arrival {
        /// A request with these sizes and prefix.
        case request(input: Int, output: Int, prefix: PromptPrefix?)
        /// An agent session's start (its turns are the sessions component's).
        case session
    }

    let generators: [WorkloadGenerator]
    /// The pool each workload sends to.
    let pool: [PoolID]
    private let horizon: SimTime
    /// Trace workloads: each one's reader and the request it will send next.
    private let traceReaders: [TraceReader?]
    private var nextTraced: [TraceRequest?]
    /// Requests (or sessions) generated so far, per workload.
    private var generated: [Int]
    /// Traces that could not be opened again (the file changed since the loader read it).
    private(set) var failures: [String] = []

    init(spec: FleetSpec, streams: RandomStreams) {
        self.horizon = spec.horizon
        self.generators = spec.workloads.map { WorkloadGenerator(spec: $0, streams: streams, horizon: spec.horizon) }
        var failures: [String] = []
        self.traceReaders = spec.workloads.map { workload in
            guard let trace = workload.trace else { return nil }
            do { return try TraceReader(spec: trace.replay, stats: trace.stats) } catch {
                failures.append("trace of workload \(workload.name): \(error)")
                return nil
            }
        }
        self.failures = failures
        self.nextTraced = Array(repeating: nil, count: spec.workloads.count)
        self.generated = Array(repeating: 0, count: spec.workloads.count)
        self.pool = spec.workloads.map { workload in
            PoolID(spec.pools.firstIndex { $0.name == workload.pool } ?? 0)
        }
    }

    /// A workload's requests' criticality and deadline (fields, not the whole spec: this is per request).
    func criticality(_ workload: WorkloadID) -> Criticality { generators[workload.index].spec.criticality }
    func timeout(_ workload: WorkloadID) -> SimTime? { generators[workload.index].spec.timeout }

    /// Schedules each workload's first arrival.
    mutating func start(in sim: inout Simulator<FleetEvent>) {
        for (index, generator) in generators.enumerated() {
            if let reader = traceReaders[index] {
                nextTraced[index] = reader.next()
                if let first = nextTraced[index], first.arrival < horizon, generator.spec.maxRequests ?? 1 > 0 {
                    sim.schedule(.arrival(WorkloadID(index)), at: first.arrival)
                }
                continue
            }
            let first = generator.nextGap(at: .zero)
            if first < horizon && generator.spec.maxRequests ?? 1 > 0 {
                sim.schedule(.arrival(WorkloadID(index)), at: first)
            }
        }
    }

    /// What arrives now for `workload`; schedules its next arrival while `generating`. Nil when a trace has
    /// nothing left.
    mutating func arrive(_ workload: WorkloadID, generating: Bool, in sim: inout Simulator<FleetEvent>) -> Arrival? {
        let index = workload.index
        let generator = generators[index]
        generated[index] += 1
        let limit = generator.spec.maxRequests ?? .max
        if let reader = traceReaders[index] {
            guard let traced = nextTraced[index] else { return nil }
            nextTraced[index] = reader.next()
            if let next = nextTraced[index], generating, next.arrival < horizon, generated[index] < limit {
                sim.schedule(.arrival(workload), at: next.arrival)
            }
            return .request(input: traced.inputTokens, output: traced.outputTokens, prefix: traced.prefix)
        }
        let gap = generator.nextGap(at: sim.now)
        let next = gap == .max ? SimTime.max : sim.now + gap
        if generating && next < horizon && generated[index] < limit { sim.schedule(.arrival(workload), at: next) }
        if generator.spec.session != nil { return .session }
        let shape = generator.nextRequest()
        return .request(input: shape.input, output: shape.output, prefix: shape.prefix)
    }
}
