import DequeModule

/// The simulated fleet: workloads generate requests, a router per pool picks replicas, replicas serve.
///
/// It is the single `SimulationModel` of a run. Components address each other by ids that index arrays.
struct FleetModel: SimulationModel {
    let spec: FleetSpec
    let generators: [WorkloadGenerator]
    /// The pool each workload sends to.
    let workloadPool: [PoolID]
    /// Replica ids of each pool, in id order.
    /// The replicas of each pool that take requests now, in id order (all of them without an autoscaler).
    var poolReplicas: [[ReplicaID]]
    /// Every replica slot of each pool, in id order.
    let poolSlots: [[ReplicaID]]
    /// Each replica's place in its lifecycle (all `ready` without autoscalers).
    var replicaStates: [ReplicaState]
    /// When each provisioning replica's latest order makes it ready.
    var readyDue: [SimTime]
    /// Each autoscaled pool's recent recommendations, for scale-down stabilization.
    var recommendations: [[(time: SimTime, replicas: Int)]]
    var scalingEvents: [ScalingEvent] = []
    /// The pool of each replica.
    let replicaPool: [PoolID]
    var policies: [any RoutingPolicy]
    let streams: RandomStreams
    /// What each policy needs prepared, by policy slot (``policySlot(_:origin:)``).
    let needs: [PolicyNeeds]
    /// Policies per pool: 1, or the number of clusters with a gateway per cluster.
    let gatewaysPerPool: Int
    /// The router's last scrape of each replica's metrics, and when it was taken.
    var scraped: [ReplicaGauges]
    var scrapedAt: [SimTime]
    /// The approximate prefix index of each pool whose policy uses one.
    var prefixIndexes: [ApproximatePrefixIndex?]
    /// The current request's shared prefix blocks as the approximate index hashes them, and how many more
    /// blocks of its prompt are its own.
    var hashes: [UInt64] = []
    /// Under flow control: each pool's gateway queue, the waiting requests with their deadlines, and counts.
    var gatewayQueues: [GatewayQueue]
    var waiting: [RequestID: (request: PendingRequest, deadline: EventID)] = [:]
    var gatewayCounts = GatewayCounts()
    /// Requests routed but still in the router's decision time.
    var inDecision: [RequestID: PendingRequest] = [:]
    var uniqueBlocks = 0
    var matchedScratch: [Int] = []
    let replicas: [any ReplicaModel]
    var outstanding: [Int]
    /// The requests not yet handed to the sinks, by request index (see FleetModel+Retire.swift).
    var records = SlidingArray<RequestRecord>(dropped: .retired)
    /// The most requests held at once.
    var peakRequestsHeld = 0
    /// Each request's pending deadline; kept only when some workload has a timeout.
    var timeouts = SlidingArray<EventID?>(dropped: nil)
    let hasTimeouts: Bool
    /// Where ended requests and samples go, and what of them the digest has seen.
    let sinks: [any RunSink]
    var requestDigest = RunDigest()
    var sampleDigest = RunDigest()
    /// Requests handed out, per terminal status (`RequestStatus.allCases` order).
    var statusTotals = Array(repeating: 0, count: RequestStatus.allCases.count)
    var lastSampleIntegrals: [ReplicaIntegrals]
    var warmupIntegrals: [ReplicaIntegrals]
    var horizonIntegrals: [ReplicaIntegrals] = []
    var invariantViolations: [String] = []
    var effects = ReplicaEffects()
    var views: [ReplicaView] = []
    var generating = true
    /// Requests generated so far, per workload.
    var generated: [Int]
    /// Agent sessions: started per workload, each workload's shared system-prompt key, every session's
    /// record, the live ones, and which session each request in flight belongs to.
    var sessionCounts: [Int]
    let sessionSystemKeys: [UInt64]
    var sessionRecords: [SessionRecord] = []
    var liveSessions: [Int: LiveSession] = [:]
    /// Links of session requests not yet handed out, in request order.
    var pendingLinks = Deque<SessionLink>()
    var requestSession: [RequestID: (session: Int, subagent: Bool)] = [:]
    /// Clusters, links and the path of each request; nil without a mesh.
    var mesh: MeshState?
    /// Trace workloads: each one's reader and the request it will send next.
    let traceReaders: [TraceReader?]
    var nextTraced: [TraceRequest?]

    let replicaInfo: [(pool: String, name: String, kind: String, capacity: Int)]

    /// What each replica reports about itself that is not a time integral.
    var replicaFacts: [(countsTokens: Bool, hasPrefixCache: Bool, kvCacheBlocks: Int?)] {
        replicas.map { ($0.countsTokens, $0.hasPrefixCache, $0.kvCacheBlocks) }
    }

    /// Each replica's inter-token latencies over the window, by replica index (nil for kinds without them).
    var interTokenLatencies: [InterTokenLatencyStats?] { replicas.map { $0.interTokenLatencies() } }

    init(spec: FleetSpec, policy: PolicyEntry, streams: RandomStreams, sinks: [any RunSink]) {
        self.spec = spec
        self.sinks = sinks
        self.streams = streams
        var poolReplicas: [[ReplicaID]] = []
        var replicas: [any ReplicaModel] = []
        var info: [(String, String, String, Int)] = []
        for pool in spec.pools {
            var ids: [ReplicaID] = []
            for index in 0..<pool.replicaSlots {
                let name = "\(pool.name)/\(index)"
                let replica = pool.replica.makeReplica(name: name, streams: streams)
                ids.append(ReplicaID(replicas.count))
                replicas.append(replica)
                info.append((pool.name, name, replica.kind, replica.capacity))
            }
            poolReplicas.append(ids)
        }
        self.poolSlots = poolReplicas
        var states: [ReplicaState] = []
        for (pool, ids) in poolReplicas.enumerated() {
            let initial = spec.pools[pool].replicas
            states += ids.indices.map { $0 < initial ? .ready : .off }
        }
        self.replicaStates = states
        self.readyDue = Array(repeating: .zero, count: states.count)
        self.poolReplicas = poolReplicas.map { ids in ids.filter { states[$0.index] == .ready } }
        self.recommendations = Array(repeating: [], count: spec.pools.count)
        self.replicaPool = poolReplicas.enumerated().flatMap { pool, ids in ids.map { _ in PoolID(pool) } }
        self.replicas = replicas
        self.replicaInfo = info
        self.outstanding = Array(repeating: 0, count: replicas.count)
        self.lastSampleIntegrals = Array(repeating: ReplicaIntegrals(), count: replicas.count)
        self.warmupIntegrals = Array(repeating: ReplicaIntegrals(), count: replicas.count)
        // One policy per pool, or with a gateway per cluster one per (pool, cluster), each with its own stream.
        let gatewayClusters = spec.mesh.map { $0.gateways == .perCluster ? $0.clusters.map(\.name) : [""] } ?? [""]
        self.gatewaysPerPool = gatewayClusters.count
        self.policies = spec.pools.flatMap { pool in
            gatewayClusters.map { cluster in
                policy.make(
                    PolicyContext(
                        streams: streams, pool: cluster.isEmpty ? pool.name : "\(pool.name)@\(cluster)",
                        policy: policy.name, saturation: spec.router.saturation))
            }
        }
        self.needs = policies.map(\.needs)
        self.prefixIndexes = needs.map { need in
            need.prefix.flatMap {
                $0.knowledge == .approximate ? ApproximatePrefixIndex(capacityPerReplica: $0.lruCapacityPerServer) : nil
            }
        }
        self.scraped = replicas.map { $0.gauges(now: .zero) }
        self.gatewayQueues = Array(repeating: GatewayQueue(), count: spec.pools.count)
        self.scrapedAt = Array(repeating: .zero, count: replicas.count)
        self.generated = Array(repeating: 0, count: spec.workloads.count)
        self.sessionCounts = Array(repeating: 0, count: spec.workloads.count)
        self.sessionSystemKeys = spec.workloads.map { StableHash.fnv1a("workload/\($0.name)/agent-system-prompt") }
        self.hasTimeouts = spec.workloads.contains { $0.timeout != nil || $0.session?.connection.requestTimeout != nil }
        self.generators = spec.workloads.map { WorkloadGenerator(spec: $0, streams: streams, horizon: spec.horizon) }
        // The loader has read each trace through once, so opening it again fails only if the file changed.
        var traceFailures: [String] = []
        self.traceReaders = spec.workloads.map { workload in
            guard let trace = workload.trace else { return nil }
            do { return try TraceReader(spec: trace.replay, stats: trace.stats) } catch {
                traceFailures.append("trace of workload \(workload.name): \(error)")
                return nil
            }
        }
        self.invariantViolations = traceFailures
        self.nextTraced = Array(repeating: nil, count: spec.workloads.count)
        self.mesh = spec.mesh.map { MeshState(spec: $0, fleet: spec, replicaCount: replicas.count, streams: streams) }
        self.workloadPool = spec.workloads.map { workload in
            PoolID(spec.pools.firstIndex { $0.name == workload.pool } ?? 0)
        }
    }

    /// Schedules the first arrivals, samples and the warm-up mark.
    mutating func start(in sim: inout Simulator<FleetEvent>) {
        for (index, generator) in generators.enumerated() {
            if let reader = traceReaders[index] {
                nextTraced[index] = reader.next()
                if let first = nextTraced[index], first.arrival < spec.horizon, generator.spec.maxRequests ?? 1 > 0 {
                    sim.schedule(.arrival(WorkloadID(index)), at: first.arrival)
                }
                continue
            }
            let first = generator.nextGap(at: .zero)
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
        for (index, pool) in spec.pools.enumerated() {
            if let autoscaler = pool.autoscaler { sim.schedule(.autoscale(PoolID(index)), at: autoscaler.syncPeriod) }
        }
        if let meshSpec = spec.mesh {
            for (index, fault) in meshSpec.faults.enumerated() {
                sim.schedule(.fault(index, starting: true), at: fault.at)
            }
            if let detection = meshSpec.outlierDetection { sim.schedule(.outlierCheck, at: detection.interval) }
        }
        if scrapes {
            // Each replica is scraped on its own ticker, as the extension runs one refresh loop per endpoint,
            // started when the endpoint was discovered: the phases are spread over the interval, so between
            // two scrapes of one replica others are refreshed.
            let phases = streams.stream("router/scrape-phase")
            let interval = spec.router.refreshInterval.nanoseconds
            for index in replicas.indices {
                let phase = SimTime(nanoseconds: Int64(phases.uniform() * Double(interval)))
                sim.schedule(.scrape(ReplicaID(index)), at: phase)
            }
        }
    }

    /// Whether the router scrapes on a timer: some policy reads metrics, and they are not read live.
    var scrapes: Bool {
        spec.router.refreshInterval > .zero && (spec.router.flowControl != nil || needs.contains { $0.metrics })
    }

    mutating func handle(_ event: FleetEvent, in sim: inout Simulator<FleetEvent>) {
        switch event {
        case .arrival(let workload): arrive(workload, in: &sim)
        case .replicaTimer(let replica, let timer):
            replicas[replica.index].fire(timer, now: sim.now, effects: &effects)
            apply(replica: replica, in: &sim)
        case .timeout(let request): expire(request, in: &sim)
        case .sample: sample(in: &sim)
        case .scrape(let replica):
            scraped[replica.index] = replicas[replica.index].gauges(now: sim.now)
            scrapedAt[replica.index] = sim.now
            let next = sim.now + spec.router.refreshInterval
            // Scrapes go on past the horizon while requests wait at the gateway, so the queue can drain.
            if (generating && next < spec.horizon) || !waiting.isEmpty { sim.schedule(.scrape(replica), at: next) }
            if spec.router.flowControl != nil { dispatchWaiting(pool: replicaPool[replica.index], in: &sim) }
        case .deliver(let id, let replica, let attempt):
            // A delivery of an attempt that has since failed (and been retried) is stale.
            guard attempt == mesh?.attempt[id.index] ?? 0, let pending = inDecision.removeValue(forKey: id) else {
                break
            }
            if meshDeliverable(id, to: replica) {
                deliver(pending, to: replica, in: &sim)
            } else {
                attemptFailed(id, on: replica, in: &sim)
            }
        case .perTryTimeout(let id, let attempt):
            guard let replica = records[id.index].replica, Int(mesh?.attempt[id.index] ?? -1) == attempt else { break }
            mesh?.perTryTimer[id.index] = nil
            attemptFailed(id, on: replica, in: &sim)
        case .fault(let index, let starting): fault(index, starting: starting, in: &sim)
        case .endpointRemoval(let replica): endpointRemoval(replica, at: sim.now)
        case .outlierCheck: outlierCheck(in: &sim)
        case .gatewayDeadline(let id): expireWaiting(id, in: &sim)
        case .autoscale(let pool): autoscale(pool, in: &sim)
        case .replicaReady(let replica): replicaReady(replica, in: &sim)
        case .sessionTurn(let session): sendTurn(session, in: &sim)
        case .subagents(let session): sendSubagents(session, in: &sim)
        case .connectionLimit(let session): connectionLimitReached(session, in: &sim)
        case .warmupEnd:
            warmupIntegrals = replicas.map { $0.integrals(now: sim.now) }
            for replica in replicas { replica.setMeasuring(true) }
        }
    }

    mutating func horizonReached(in sim: inout Simulator<FleetEvent>) {
        generating = false
        horizonIntegrals = replicas.map { $0.integrals(now: sim.now) }
        if mesh != nil { for cluster in mesh!.gatewayActive.indices { mesh!.touchGateway(cluster, at: sim.now) } }
        for replica in replicas { replica.setMeasuring(false) }
    }

    /// Marks every request still in flight `unfinished`; called once when the run stops.
    mutating func finish() {
        for index in records.indices where records[index].status == nil {
            records[index].status = .unfinished
        }
        finishSessions()
        retireFinished(all: true)
    }

    mutating func arrive(_ workload: WorkloadID, in sim: inout Simulator<FleetEvent>) {
        let generator = generators[workload.index]
        generated[workload.index] += 1
        if let reader = traceReaders[workload.index] {
            replayNext(workload, reader: reader, in: &sim)
            return
        }
        let gap = generator.nextGap(at: sim.now)
        let next = gap == .max ? SimTime.max : sim.now + gap
        if generating && next < spec.horizon && generated[workload.index] < generator.spec.maxRequests ?? .max {
            sim.schedule(.arrival(workload), at: next)
        }
        if generator.spec.session != nil {
            startSession(workload, in: &sim)
            return
        }

        let shape = generator.nextRequest()
        let id = newRequest(
            workload: workload, input: shape.input, output: shape.output, timeout: generator.spec.timeout, in: &sim)

        let pending = PendingRequest(
            id: id, workload: workload, input: shape.input, output: shape.output, prefix: shape.prefix,
            criticality: generator.spec.criticality)
        admit(pending, pool: workloadPool[workload.index], in: &sim)
    }

    /// Sends the trace's current request and schedules the next one.
    mutating func replayNext(_ workload: WorkloadID, reader: TraceReader, in sim: inout Simulator<FleetEvent>) {
        guard let traced = nextTraced[workload.index] else { return }
        let workloadSpec = generators[workload.index].spec
        nextTraced[workload.index] = reader.next()
        if let next = nextTraced[workload.index], generating, next.arrival < spec.horizon,
            generated[workload.index] < workloadSpec.maxRequests ?? .max
        {
            sim.schedule(.arrival(workload), at: next.arrival)
        }
        let id = newRequest(
            workload: workload, input: traced.inputTokens, output: traced.outputTokens,
            timeout: workloadSpec.timeout, in: &sim)
        admit(
            PendingRequest(
                id: id, workload: workload, input: traced.inputTokens, output: traced.outputTokens,
                prefix: traced.prefix, criticality: workloadSpec.criticality),
            pool: workloadPool[workload.index], in: &sim)
    }

    mutating func expire(_ id: RequestID, in sim: inout Simulator<FleetEvent>) {
        timeouts[id.index] = nil
        if let entry = waiting.removeValue(forKey: id) { sim.cancel(entry.deadline) }
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
    mutating func apply(replica: ReplicaID, in sim: inout Simulator<FleetEvent>) {
        for (at, timer) in effects.timers { sim.schedule(.replicaTimer(replica, timer), at: at) }
        for outcome in effects.outcomes {
            switch outcome {
            case .started(let id): records[id.index].start = sim.now
            case .firstToken(let id): records[id.index].firstToken = sim.now + (mesh?.returnDelay[id.index] ?? .zero)
            case .completed(let id):
                end(id, as: .completed, at: sim.now + (mesh?.returnDelay[id.index] ?? .zero), in: &sim)
            case .rejected(let id): end(id, as: .rejected, at: sim.now, in: &sim)
            case .prefixHit(let id, let tokens): records[id.index].cachedTokens = tokens
            case .preempted(let id): records[id.index].preemptions += 1
            case .maxInterTokenLatency(let id, let latency): records[id.index].maxInterTokenLatency = latency
            }
        }
        effects.removeAll()
        // Reading metrics live, the gateway sees a replica free up at once.
        if spec.router.flowControl != nil && spec.router.refreshInterval == .zero && !waiting.isEmpty {
            dispatchWaiting(pool: replicaPool[replica.index], in: &sim)
        }
    }

    /// Moves a request to its one terminal status.
    mutating func end(
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
        if mesh != nil { meshEnded(id, status: status, in: &sim) }
        if let replica = records[id.index].replica {
            outstanding[replica.index] -= 1
            if outstanding[replica.index] == 0 && replicaStates[replica.index] == .draining {
                stopReplica(replica, at: now)
            }
        }
        if hasTimeouts, let timeout = timeouts[id.index] {
            sim.cancel(timeout)
            timeouts[id.index] = nil
        }
        // Skip the hash lookup for every request of a run without sessions.
        if !requestSession.isEmpty, let link = requestSession.removeValue(forKey: id) {
            sessionRequestEnded(id, session: link.session, subagent: link.subagent, status: status, in: &sim)
        }
    }

    mutating func sample(in sim: inout Simulator<FleetEvent>) {
        guard let interval = spec.sampleInterval else { return }
        let seconds = interval.seconds
        for (index, replica) in replicas.enumerated() where replicaStates[index] != .off {
            let integrals = replica.integrals(now: sim.now)
            let delta = integrals - lastSampleIntegrals[index]
            let capacity = Double(replica.capacity) * Double(interval.nanoseconds)
            emit(
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

/// A request between its arrival and its replica: what routing and the replica need to know of it.
struct PendingRequest {
    var id: RequestID
    var workload: WorkloadID
    var input: Int
    var output: Int
    var prefix: PromptPrefix?
    var criticality: Criticality
    /// The agent session it belongs to (an index into the session records), or -1.
    var session = -1
}
