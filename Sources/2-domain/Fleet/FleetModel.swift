/// The simulated fleet: workloads generate requests, a router per pool picks replicas, replicas serve.
///
/// It is the single `SimulationModel` of a run. Components address each other by ids that index arrays.
struct FleetModel: SimulationModel {
    let spec: FleetSpec
    private let generators: [WorkloadGenerator]
    /// The pool each workload sends to.
    private let workloadPool: [PoolID]
    /// Replica ids of each pool, in id order.
    private let poolReplicas: [[ReplicaID]]
    private var policies: [any RoutingPolicy]
    private let replicas: [any ReplicaModel]
    private var outstanding: [Int]
    private(set) var records: [RequestRecord] = []
    /// Each request's pending deadline; kept only when some workload has a timeout.
    private var timeouts: [EventID?] = []
    private let hasTimeouts: Bool
    private(set) var samples: [GaugeSample] = []
    private var lastSampleIntegrals: [ReplicaIntegrals]
    private(set) var warmupIntegrals: [ReplicaIntegrals]
    private(set) var horizonIntegrals: [ReplicaIntegrals] = []
    private(set) var invariantViolations: [String] = []
    private var effects = ReplicaEffects()
    private var views: [ReplicaView] = []
    private var generating = true
    /// Requests generated so far, per workload.
    private var generated: [Int]

    let replicaInfo: [(pool: String, name: String, kind: String, capacity: Int)]

    /// What each replica reports about itself that is not a time integral.
    var replicaFacts: [(countsTokens: Bool, hasPrefixCache: Bool, kvCacheBlocks: Int?)] {
        replicas.map { ($0.countsTokens, $0.hasPrefixCache, $0.kvCacheBlocks) }
    }

    /// Each replica's inter-token latencies over the window, by replica index (nil for kinds without them).
    var interTokenLatencies: [InterTokenLatencyStats?] { replicas.map { $0.interTokenLatencies() } }

    init(spec: FleetSpec, policy: PolicyEntry, streams: RandomStreams) {
        self.spec = spec
        var poolReplicas: [[ReplicaID]] = []
        var replicas: [any ReplicaModel] = []
        var info: [(String, String, String, Int)] = []
        for pool in spec.pools {
            var ids: [ReplicaID] = []
            for index in 0..<pool.replicas {
                let name = "\(pool.name)/\(index)"
                let replica = pool.replica.makeReplica(name: name, streams: streams)
                ids.append(ReplicaID(replicas.count))
                replicas.append(replica)
                info.append((pool.name, name, replica.kind, replica.capacity))
            }
            poolReplicas.append(ids)
        }
        self.poolReplicas = poolReplicas
        self.replicas = replicas
        self.replicaInfo = info
        self.outstanding = Array(repeating: 0, count: replicas.count)
        self.lastSampleIntegrals = Array(repeating: ReplicaIntegrals(), count: replicas.count)
        self.warmupIntegrals = Array(repeating: ReplicaIntegrals(), count: replicas.count)
        self.policies = spec.pools.map {
            policy.make(PolicyContext(streams: streams, pool: $0.name, policy: policy.name))
        }
        self.generated = Array(repeating: 0, count: spec.workloads.count)
        self.hasTimeouts = spec.workloads.contains { $0.timeout != nil }
        // Reserve for the expected number of requests (capped) so the record array rarely regrows mid-run.
        let expected = spec.workloads.reduce(0.0) { total, workload in
            total + Swift.min(Double(workload.maxRequests ?? .max), workload.ratePerSecond * spec.horizon.seconds)
        }
        records.reserveCapacity(Int(Swift.min(expected * 1.05 + 16, 50_000_000)))
        self.generators = spec.workloads.map { WorkloadGenerator(spec: $0, streams: streams) }
        self.workloadPool = spec.workloads.map { workload in
            PoolID(spec.pools.firstIndex { $0.name == workload.pool } ?? 0)
        }
    }

    /// Schedules the first arrivals, samples and the warm-up mark.
    mutating func start(in sim: inout Simulator<FleetEvent>) {
        for (index, generator) in generators.enumerated() {
            let first = generator.nextGap()
            if first < spec.horizon && generator.spec.maxRequests ?? 1 > 0 {
                sim.schedule(.arrival(WorkloadID(index)), at: first)
            }
        }
        if spec.warmup > .zero && spec.warmup < spec.horizon {
            sim.schedule(.warmupEnd, at: spec.warmup)
        } else if spec.warmup == .zero {
            for replica in replicas { replica.setMeasuring(true) }
        }
        if let interval = spec.sampleInterval { sim.schedule(.sample, at: interval) }
    }

    mutating func handle(_ event: FleetEvent, in sim: inout Simulator<FleetEvent>) {
        switch event {
        case .arrival(let workload): arrive(workload, in: &sim)
        case .replicaTimer(let replica, let timer):
            replicas[replica.index].fire(timer, now: sim.now, effects: &effects)
            apply(replica: replica, in: &sim)
        case .timeout(let request): expire(request, in: &sim)
        case .sample: sample(in: &sim)
        case .warmupEnd:
            warmupIntegrals = replicas.map { $0.integrals(now: sim.now) }
            for replica in replicas { replica.setMeasuring(true) }
        }
    }

    mutating func horizonReached(in sim: inout Simulator<FleetEvent>) {
        generating = false
        horizonIntegrals = replicas.map { $0.integrals(now: sim.now) }
        for replica in replicas { replica.setMeasuring(false) }
    }

    /// Marks every request still in flight `unfinished`; called once when the run stops.
    mutating func finish() {
        for index in records.indices where records[index].status == nil {
            records[index].status = .unfinished
        }
    }

    private mutating func arrive(_ workload: WorkloadID, in sim: inout Simulator<FleetEvent>) {
        let generator = generators[workload.index]
        generated[workload.index] += 1
        let next = sim.now + generator.nextGap()
        if generating && next < spec.horizon && generated[workload.index] < generator.spec.maxRequests ?? .max {
            sim.schedule(.arrival(workload), at: next)
        }

        let id = RequestID(records.count)
        let shape = generator.nextShape()
        records.append(
            RequestRecord(
                id: id, workload: workload, arrival: sim.now,
                inputTokens: shape.input, outputTokens: shape.output))
        if hasTimeouts { timeouts.append(generator.spec.timeout.map { sim.schedule(.timeout(id), after: $0) }) }

        let pool = workloadPool[workload.index]
        let candidates = poolReplicas[pool.index]
        guard !candidates.isEmpty else {
            end(id, as: .rejected, at: sim.now, in: &sim)
            return
        }
        let chosen: ReplicaID
        if candidates.count == 1 {
            chosen = candidates[0]  // Nothing to decide; policies are not consulted.
        } else {
            views.removeAll(keepingCapacity: true)
            for replica in candidates {
                views.append(ReplicaView(id: replica, outstanding: outstanding[replica.index]))
            }
            let request = RoutingRequest(
                id: id, workload: workload, inputTokens: shape.input,
                outputTokens: shape.output, criticality: generator.spec.criticality)
            chosen = policies[pool.index].pick(request, from: views)
        }
        records[id.index].replica = chosen
        outstanding[chosen.index] += 1
        replicas[chosen.index].enqueue(
            ServingRequest(
                id: id, inputTokens: shape.input, outputTokens: shape.output, prefix: generator.sharedPrefix),
            now: sim.now, effects: &effects)
        apply(replica: chosen, in: &sim)
    }

    private mutating func expire(_ id: RequestID, in sim: inout Simulator<FleetEvent>) {
        timeouts[id.index] = nil
        guard records[id.index].status == nil else {
            invariantViolations.append("timeout fired for \(id), which had already ended")
            return
        }
        if let replica = records[id.index].replica {
            _ = replicas[replica.index].abort(id, now: sim.now, effects: &effects)
            end(id, as: .timedOut, at: sim.now, in: &sim)
            apply(replica: replica, in: &sim)
        } else {
            end(id, as: .timedOut, at: sim.now, in: &sim)
        }
    }

    /// Schedules the timers and records the outcomes a replica produced.
    private mutating func apply(replica: ReplicaID, in sim: inout Simulator<FleetEvent>) {
        for (at, timer) in effects.timers { sim.schedule(.replicaTimer(replica, timer), at: at) }
        for outcome in effects.outcomes {
            switch outcome {
            case .started(let id): records[id.index].start = sim.now
            case .firstToken(let id): records[id.index].firstToken = sim.now
            case .completed(let id): end(id, as: .completed, at: sim.now, in: &sim)
            case .rejected(let id): end(id, as: .rejected, at: sim.now, in: &sim)
            case .prefixHit(let id, let tokens): records[id.index].cachedTokens = tokens
            case .preempted(let id): records[id.index].preemptions += 1
            case .maxInterTokenLatency(let id, let latency): records[id.index].maxInterTokenLatency = latency
            }
        }
        effects.removeAll()
    }

    /// Moves a request to its one terminal status.
    private mutating func end(
        _ id: RequestID, as status: RequestStatus, at now: SimTime,
        in sim: inout Simulator<FleetEvent>
    ) {
        guard records[id.index].status == nil else {
            invariantViolations.append(
                "\(id) ended twice: \(records[id.index].status!.rawValue), then \(status.rawValue)")
            return
        }
        records[id.index].status = status
        records[id.index].end = now
        if let replica = records[id.index].replica { outstanding[replica.index] -= 1 }
        if hasTimeouts, let timeout = timeouts[id.index] {
            sim.cancel(timeout)
            timeouts[id.index] = nil
        }
    }

    private mutating func sample(in sim: inout Simulator<FleetEvent>) {
        guard let interval = spec.sampleInterval else { return }
        let seconds = interval.seconds
        for (index, replica) in replicas.enumerated() {
            let integrals = replica.integrals(now: sim.now)
            let delta = integrals - lastSampleIntegrals[index]
            let capacity = Double(replica.capacity) * Double(interval.nanoseconds)
            samples.append(
                GaugeSample(
                    time: sim.now, replica: ReplicaID(index), gauges: replica.gauges(now: sim.now),
                    busyFraction: delta.busy / capacity,
                    tokensPerSecond: replica.countsTokens
                        ? Double(delta.promptTokens + delta.generationTokens) / seconds : nil,
                    generationTokensPerSecond: replica.countsTokens ? Double(delta.generationTokens) / seconds : nil,
                    prefixCacheHitRate: replica.hasPrefixCache && delta.prefixCacheQueries > 0
                        ? Double(delta.prefixCacheHits) / Double(delta.prefixCacheQueries) : nil))
            lastSampleIntegrals[index] = integrals
        }
        let next = sim.now + interval
        if generating && next <= spec.horizon { sim.schedule(.sample, at: next) }
    }
}
