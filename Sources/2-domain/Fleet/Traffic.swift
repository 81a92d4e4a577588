/// The traffic component: each workload's arrival process or trace, and how many requests it has sent.
///
/// Events it owns: `.arrival(workload)`. Each arrival of an open-loop workload schedules its next one and tells
/// the fleet what arrived: a request's sizes and prefix, or the start of an agent session. A closed-loop
/// workload's clients (`concurrency`) all send at time zero; each sends again when it has the response of its
/// previous request (``responseReceived(_:at:generating:in:)``), after its think time.
struct Traffic {
    /// What one arrival brings.
    enum Arrival {
        /// A request with these sizes and prefix, for this LoRA adapter (an index into the run's adapter table, or
        /// -1 for the base model).
        case request(input: Int, output: Int, prefix: PromptPrefix?, adapter: Int32)
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
    /// Closed-loop workloads' arrivals scheduled so far (sent, or a client thinking), and their think times.
    private var scheduled: [Int]
    private let thinkTimes: [RandomStream?]
    /// Whether any workload is closed-loop (read at every request's end).
    let hasClosedLoop: Bool
    /// Traces that could not be opened again (the file changed since the loader read it).
    private(set) var failures: [String] = []
    /// Per workload, its adapters' indices in the run's adapter table (empty for a workload without adapters).
    private let adapterIndices: [[Int32]]

    init(spec: FleetSpec, streams: RandomStreams) {
        self.horizon = spec.horizon
        self.generators = spec.workloads.map { WorkloadGenerator(spec: $0, streams: streams, horizon: spec.horizon) }
        var failures: [String] = []
        self.traceReaders = spec.workloads.map { workload in
            guard let trace = workload.trace else { return nil }
            let spread = streams.stream("traffic/\(workload.name)/trace-spread")
            do { return try TraceReader(spec: trace.replay, stats: trace.stats, spreadStream: spread) } catch {
                failures.append("trace of workload \(workload.name): \(error)")
                return nil
            }
        }
        self.failures = failures
        self.nextTraced = Array(repeating: nil, count: spec.workloads.count)
        self.generated = Array(repeating: 0, count: spec.workloads.count)
        self.scheduled = generated
        self.thinkTimes = spec.workloads.map { workload in
            workload.thinkTimeSeconds == nil ? nil : streams.stream("traffic/\(workload.name)/think-time")
        }
        self.hasClosedLoop = spec.workloads.contains { $0.concurrency != nil }
        let adapterNames = spec.adapterNames
        self.adapterIndices = spec.workloads.map { workload in
            (workload.lora?.adapters ?? []).map { Int32(adapterNames.firstIndex(of: $0)!) }
        }
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
            if let clients = generator.spec.concurrency {
                scheduled[index] = Swift.min(clients, generator.spec.maxRequests ?? .max)
                for _ in 0..<scheduled[index] { sim.schedule(.arrival(WorkloadID(index)), at: .zero) }
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
            return .request(
                input: traced.inputTokens, output: traced.outputTokens, prefix: traced.prefix,
                adapter: adapter(generator, workload: index))
        }
        if generator.spec.concurrency != nil {
            let shape = generator.nextRequest()
            return .request(
                input: shape.input, output: shape.output, prefix: shape.prefix,
                adapter: adapter(generator, workload: index))
        }
        let gap = generator.nextGap(at: sim.now)
        let next = gap == .max ? SimTime.max : sim.now + gap
        if generating && next < horizon && generated[index] < limit { sim.schedule(.arrival(workload), at: next) }
        if generator.spec.session != nil { return .session }
        let shape = generator.nextRequest()
        return .request(
            input: shape.input, output: shape.output, prefix: shape.prefix, adapter: adapter(generator, workload: index)
        )
    }

    /// The next request's adapter in the run's table, or -1 (no draw) for a workload without adapters.
    private func adapter(_ generator: WorkloadGenerator, workload: Int) -> Int32 {
        guard let local = generator.nextAdapter() else { return -1 }
        return adapterIndices[workload][local]
    }

    /// A closed-loop workload's client has the response of its request at `time`: it sends its next one after its
    /// think time, while the horizon is ahead and the workload has requests left.
    mutating func responseReceived(
        _ workload: WorkloadID, at time: SimTime, generating: Bool, in sim: inout Simulator<FleetEvent>
    ) {
        let index = workload.index
        let spec = generators[index].spec
        guard spec.concurrency != nil, generating, scheduled[index] < spec.maxRequests ?? .max else { return }
        let think = thinkTimes[index].map { stream in
            SimTime.seconds(Swift.max(0, stream.sample(spec.thinkTimeSeconds!)))
        }
        let next = time + (think ?? .zero)
        guard next < horizon else { return }
        scheduled[index] += 1
        sim.schedule(.arrival(workload), at: next)
    }

    /// Whether every workload has sent all its requests (only workloads with `maxRequests` ever have).
    var allSent: Bool {
        generators.indices.allSatisfy { index in
            generators[index].spec.maxRequests.map { generated[index] >= $0 } ?? false
        }
    }
}
