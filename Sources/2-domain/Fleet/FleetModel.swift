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
    /// The pool of each replica.
    private let replicaPool: [PoolID]
    private var policies: [any RoutingPolicy]
    private let streams: RandomStreams
    /// What each pool's policy needs prepared, by pool.
    private let needs: [PolicyNeeds]
    /// The router's last scrape of each replica's metrics, and when it was taken.
    private var scraped: [ReplicaGauges]
    private var scrapedAt: [SimTime]
    /// The approximate prefix index of each pool whose policy uses one.
    private var prefixIndexes: [ApproximatePrefixIndex?]
    /// The current request's shared prefix blocks as the approximate index hashes them, and how many more
    /// blocks of its prompt are its own.
    private var hashes: [UInt64] = []
    /// Under flow control: each pool's gateway queue, the waiting requests with their deadlines, and counts.
    private var gatewayQueues: [GatewayQueue]
    private var waiting: [RequestID: (request: PendingRequest, deadline: EventID)] = [:]
    private(set) var gatewayCounts = GatewayCounts()
    /// Requests routed but still in the router's decision time.
    private var inDecision: [RequestID: PendingRequest] = [:]
    private var uniqueBlocks = 0
    private var matchedScratch: [Int] = []
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
        self.streams = streams
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
        self.replicaPool = poolReplicas.enumerated().flatMap { pool, ids in ids.map { _ in PoolID(pool) } }
        self.replicas = replicas
        self.replicaInfo = info
        self.outstanding = Array(repeating: 0, count: replicas.count)
        self.lastSampleIntegrals = Array(repeating: ReplicaIntegrals(), count: replicas.count)
        self.warmupIntegrals = Array(repeating: ReplicaIntegrals(), count: replicas.count)
        self.policies = spec.pools.map {
            policy.make(PolicyContext(streams: streams, pool: $0.name, policy: policy.name))
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
        self.hasTimeouts = spec.workloads.contains { $0.timeout != nil }
        // Reserve for the expected number of requests (capped) so the record array rarely regrows mid-run.
        let expected = spec.workloads.reduce(0.0) { total, workload in
            total + Swift.min(Double(workload.maxRequests ?? .max), workload.ratePerSecond * spec.horizon.seconds)
        }
        records.reserveCapacity(Int(Swift.min(expected * 1.05 + 16, 50_000_000)))
        self.generators = spec.workloads.map { WorkloadGenerator(spec: $0, streams: streams, horizon: spec.horizon) }
        self.workloadPool = spec.workloads.map { workload in
            PoolID(spec.pools.firstIndex { $0.name == workload.pool } ?? 0)
        }
    }

    /// Schedules the first arrivals, samples and the warm-up mark.
    mutating func start(in sim: inout Simulator<FleetEvent>) {
        for (index, generator) in generators.enumerated() {
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
    private var scrapes: Bool {
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
        case .deliver(let id, let replica):
            if let pending = inDecision.removeValue(forKey: id) { deliver(pending, to: replica, in: &sim) }
        case .gatewayDeadline(let id): expireWaiting(id, in: &sim)
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
        let gap = generator.nextGap(at: sim.now)
        let next = gap == .max ? SimTime.max : sim.now + gap
        if generating && next < spec.horizon && generated[workload.index] < generator.spec.maxRequests ?? .max {
            sim.schedule(.arrival(workload), at: next)
        }

        let id = RequestID(records.count)
        let shape = generator.nextRequest()
        records.append(
            RequestRecord(
                id: id, workload: workload, arrival: sim.now,
                inputTokens: shape.input, outputTokens: shape.output))
        if hasTimeouts { timeouts.append(generator.spec.timeout.map { sim.schedule(.timeout(id), after: $0) }) }

        let pending = PendingRequest(
            id: id, workload: workload, input: shape.input, output: shape.output, prefix: shape.prefix,
            criticality: generator.spec.criticality)
        admit(pending, pool: workloadPool[workload.index], in: &sim)
    }

    /// Routes `request` now, or under flow control, when its pool is saturated (or others already wait), sheds
    /// or queues it.
    private mutating func admit(_ request: PendingRequest, pool: PoolID, in sim: inout Simulator<FleetEvent>) {
        guard let flowControl = spec.router.flowControl, poolReplicas[pool.index].count > 0,
            !gatewayQueues[pool.index].isEmpty || isSaturated(pool, now: sim.now)
        else {
            route(request, pool: pool, in: &sim)
            return
        }
        if request.criticality == .sheddable {
            gatewayCounts.shed += 1
            end(request.id, as: .rejected, at: sim.now, in: &sim)
            return
        }
        if gatewayQueues[pool.index].count >= flowControl.maxQueue {
            guard request.criticality == .critical, let displaced = gatewayQueues[pool.index].displaceNewestStandard()
            else {
                gatewayCounts.overflowed += 1
                end(request.id, as: .rejected, at: sim.now, in: &sim)
                return
            }
            gatewayCounts.overflowed += 1
            waiting[displaced] = nil
            end(displaced, as: .rejected, at: sim.now, in: &sim)
        }
        gatewayCounts.queued += 1
        gatewayQueues[pool.index].append(request.id, critical: request.criticality == .critical)
        waiting[request.id] = (request, sim.schedule(.gatewayDeadline(request.id), after: flowControl.maxWait))
        dispatchWaiting(pool: pool, in: &sim)
    }

    /// Dispatches queued requests while the pool has room (called when metrics or load change).
    private mutating func dispatchWaiting(pool: PoolID, in sim: inout Simulator<FleetEvent>) {
        while !gatewayQueues[pool.index].isEmpty && !isSaturated(pool, now: sim.now) {
            guard let id = gatewayQueues[pool.index].popFirst(), let entry = waiting.removeValue(forKey: id) else {
                continue  // ended while it waited (its deadline or a workload timeout)
            }
            sim.cancel(entry.deadline)
            route(entry.request, pool: pool, in: &sim)
        }
    }

    /// A queued request waited its longest: it is rejected.
    private mutating func expireWaiting(_ id: RequestID, in sim: inout Simulator<FleetEvent>) {
        guard waiting.removeValue(forKey: id) != nil else { return }
        gatewayCounts.expired += 1
        end(id, as: .rejected, at: sim.now, in: &sim)
    }

    /// Whether every replica of `pool` is saturated by the detector's rule, on the router's metrics.
    private func isSaturated(_ pool: PoolID, now: SimTime) -> Bool {
        let detector = spec.router.saturation
        let live = spec.router.refreshInterval == .zero
        for replica in poolReplicas[pool.index] {
            let gauges = live ? replicas[replica.index].gauges(now: now) : scraped[replica.index]
            let fresh = live || now - scrapedAt[replica.index] <= spec.router.metricsStaleness
            if fresh && gauges.numRequestsWaiting < detector.queueDepthThreshold
                && (gauges.kvCacheUsagePerc ?? 0) < detector.kvCacheUtilThreshold
            {
                return false
            }
        }
        return true
    }

    /// Picks the replica for `pending` and sends it there, now or after the router's decision time.
    private mutating func route(_ pending: PendingRequest, pool: PoolID, in sim: inout Simulator<FleetEvent>) {
        let id = pending.id
        let candidates = poolReplicas[pool.index]
        guard !candidates.isEmpty else {
            end(id, as: .rejected, at: sim.now, in: &sim)
            return
        }
        let chosen: ReplicaID
        if candidates.count == 1 {
            chosen = candidates[0]  // Nothing to decide; policies are not consulted.
        } else {
            var request = RoutingRequest(
                id: id, workload: pending.workload, inputTokens: pending.input, outputTokens: pending.output,
                criticality: pending.criticality)
            prepareViews(for: &request, prefix: pending.prefix, pool: pool, candidates, now: sim.now)
            chosen = policies[pool.index].pick(request, from: views)
            policies[pool.index].routed(request, to: chosen)
            if !hashes.isEmpty || uniqueBlocks > 0 {
                prefixIndexes[pool.index]?.record(
                    hashes, uniqueBlocks: uniqueBlocks, key: StableHash.mix(UInt64(id.index) ^ 0x756e_6971_7565),
                    on: chosen)
            }
        }
        records[id.index].replica = chosen
        records[id.index].routed = sim.now
        outstanding[chosen.index] += 1
        if spec.router.decisionTime > .zero {
            inDecision[id] = pending
            sim.schedule(.deliver(id, chosen), after: spec.router.decisionTime)
        } else {
            deliver(pending, to: chosen, in: &sim)
        }
    }

    /// Hands a routed request to its replica (unless it ended on the way, by a workload timeout).
    private mutating func deliver(_ pending: PendingRequest, to replica: ReplicaID, in sim: inout Simulator<FleetEvent>)
    {
        guard records[pending.id.index].status == nil else { return }
        replicas[replica.index].enqueue(
            ServingRequest(
                id: pending.id, inputTokens: pending.input, outputTokens: pending.output, prefix: pending.prefix),
            now: sim.now, effects: &effects)
        apply(replica: replica, in: &sim)
    }

    /// Fills `views` with what the pool's policy needs: the router's own counts always; the last scrape (or
    /// live gauges with a zero refresh interval); and each candidate's prefix match, from the approximate
    /// index or the replicas' caches.
    private mutating func prepareViews(
        for request: inout RoutingRequest, prefix: PromptPrefix?, pool: PoolID, _ candidates: [ReplicaID],
        now: SimTime
    ) {
        let need = needs[pool.index]
        views.removeAll(keepingCapacity: true)
        for replica in candidates {
            var view = ReplicaView(id: replica, outstanding: outstanding[replica.index])
            if need.metrics {
                let live = spec.router.refreshInterval == .zero
                let gauges = live ? replicas[replica.index].gauges(now: now) : scraped[replica.index]
                view.waiting = gauges.numRequestsWaiting
                view.running = gauges.numRequestsRunning
                view.kvCacheUsage = gauges.kvCacheUsagePerc ?? 0
                view.fresh = live || now - scrapedAt[replica.index] <= spec.router.metricsStaleness
            }
            views.append(view)
        }
        hashes.removeAll(keepingCapacity: true)
        uniqueBlocks = 0
        guard let matching = need.prefix else { return }
        switch matching.knowledge {
        case .approximate:
            // The extension hashes the whole prompt; blocks past the shared prefix are the request's own, so
            // they can only occupy the index, never match.
            let blocks = min(matching.maxBlocks, request.inputTokens / matching.blockSize)
            let shared = prefix.map { min(blocks, $0.tokens / matching.blockSize) } ?? 0
            for index in 0..<shared { hashes.append(prefix!.blockHash(index, blockSize: matching.blockSize)) }
            uniqueBlocks = blocks - shared
            request.prefixBlocks = blocks
            guard shared > 0, let index = prefixIndexes[pool.index] else { return }
            matchedScratch.removeAll(keepingCapacity: true)
            matchedScratch.append(contentsOf: repeatElement(0, count: views.count))
            index.matchedBlocks(hashes, candidates: candidates, into: &matchedScratch)
            for position in views.indices { views[position].prefixMatchedBlocks = matchedScratch[position] }
        case .precise:
            guard let blockSize = replicas[candidates[0].index].prefixBlockSize else { return }
            let blocks = min(matching.maxBlocks, request.inputTokens / blockSize)
            request.prefixBlocks = blocks
            guard let prefix, blocks > 0 else { return }
            for position in views.indices {
                views[position].prefixMatchedBlocks = replicas[views[position].id.index].cachedPrefixBlocks(
                    prefix, limit: blocks)
            }
        }
    }

    private mutating func expire(_ id: RequestID, in sim: inout Simulator<FleetEvent>) {
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
        // Reading metrics live, the gateway sees a replica free up at once.
        if spec.router.flowControl != nil && spec.router.refreshInterval == .zero && !waiting.isEmpty {
            dispatchWaiting(pool: replicaPool[replica.index], in: &sim)
        }
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

/// A request between its arrival and its replica: what routing and the replica need to know of it.
struct PendingRequest {
    var id: RequestID
    var workload: WorkloadID
    var input: Int
    var output: Int
    var prefix: PromptPrefix?
    var criticality: Criticality
}
