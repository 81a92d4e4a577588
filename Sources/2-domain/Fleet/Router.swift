/// The router component: the gateway's endpoint pickers and what they see. It scrapes each replica's metrics
/// on its own ticker, keeps its own count of requests outstanding per replica, builds the views a policy
/// decides over (metrics, prefix matches from the approximate index or the replicas' caches, locality), runs
/// session affinity and the policy, holds requests on their way to a replica, and runs flow control.
///
/// Events it owns: `.scrape(replica)`, `.deliver(request, replica, attempt)` (scheduled here or by the mesh)
/// and, through ``FlowControl``, `.gatewayDeadline(request)`.
struct Router {
    let spec: RouterSpec
    private var policies: [any RoutingPolicy]
    /// What each policy needs prepared, by policy slot (``slot(_:origin:)``).
    private let needs: [PolicyNeeds]
    /// Policies per pool: 1, or the number of clusters with a gateway per cluster.
    private let gatewaysPerPool: Int
    /// Session affinity, when some session workload asks for it.
    let affinity: SessionAffinityFilter?
    /// Whether the router scrapes on a timer: something reads metrics, and they are not read live.
    let scrapes: Bool
    /// The last scrape of each replica's metrics, and when it was taken.
    private var scraped: [ReplicaGauges]
    private var scrapedAt: [SimTime]
    /// Requests this router sent to each replica that have not ended.
    private(set) var outstanding: [Int]
    /// Uncached prompt tokens this router sent to each replica, of requests without a first token yet.
    private(set) var prefillBacklog: [Int]
    /// The approximate prefix indexes of each policy slot whose policy uses one: one per endpoint-picker
    /// replica, at `slot × spec.endpointPickers + picker`.
    private var prefixIndexes: [ApproximatePrefixIndex?]
    /// Per policy slot, the endpoint-picker replica that takes its next decision (the gateway hands them
    /// requests in turn).
    private var nextPicker: [Int]
    /// When each replica's endpoint left the pool, while it is out (for the index's periodic check).
    private var endpointRemovedAt: [SimTime?]
    /// Requests routed whose delivery to their replica is pending (decision time, the network).
    private var inTransit = Set<RequestID>()
    var flowControl: FlowControl
    // Scratch reused per decision, so routing does not allocate.
    private var views: [ReplicaView] = []
    private var hashes: [UInt64] = []
    private var uniqueBlocks = 0
    private var matchedScratch: [Int] = []
    /// Tokens per matched block in the current decision's views (0 when they carry no prefix matches).
    private var matchedBlockSize = 0

    init(spec fleet: FleetSpec, policy: PolicyEntry, streams: RandomStreams, replicas: ReplicaSet) {
        self.spec = fleet.router
        // One policy per pool, or with a gateway per cluster one per (pool, cluster), each with its own stream.
        let gatewayClusters =
            fleet.mesh.map { $0.gateways == .perCluster ? $0.clusters.map(\.name) : [""] } ?? [""]
        self.gatewaysPerPool = gatewayClusters.count
        self.policies = fleet.pools.flatMap { pool in
            gatewayClusters.map { cluster in
                policy.make(
                    PolicyContext(
                        streams: streams, pool: cluster.isEmpty ? pool.name : "\(pool.name)@\(cluster)",
                        policy: policy.name, saturation: fleet.router.saturation))
            }
        }
        let needs = policies.map(\.needs)
        self.needs = needs
        self.nextPicker = Array(repeating: 0, count: needs.count)
        self.prefixIndexes = needs.flatMap { need in
            repeatElement(
                need.prefix.flatMap {
                    $0.knowledge == .approximate
                        ? ApproximatePrefixIndex(capacityPerReplica: $0.lruCapacityPerServer) : nil
                }, count: fleet.router.endpointPickers)
        }
        let affinity =
            fleet.workloads.contains { $0.session?.affinity == true }
            ? SessionAffinityFilter(saturation: fleet.router.saturation) : nil
        self.affinity = affinity
        let readsMetrics =
            fleet.router.flowControl != nil || needs.contains { $0.metrics }
            || (affinity != nil && SessionAffinityFilter.needs.metrics)
        self.scrapes = fleet.router.refreshInterval > .zero && readsMetrics
        self.scraped = replicas.models.map { $0.gauges(now: .zero) }
        self.scrapedAt = Array(repeating: .zero, count: replicas.count)
        self.outstanding = Array(repeating: 0, count: replicas.count)
        self.prefillBacklog = Array(repeating: 0, count: replicas.count)
        self.endpointRemovedAt = Array(repeating: nil, count: replicas.count)
        self.flowControl = FlowControl(spec: fleet.router.flowControl, pools: fleet.pools.count)
    }

    /// Starts each replica's scrape ticker, when the router scrapes.
    func start(replicas: Int, streams: RandomStreams, in sim: inout Simulator<FleetEvent>) {
        guard scrapes else { return }
        // Each replica is scraped on its own ticker, as the extension runs one refresh loop per endpoint,
        // started when the endpoint was discovered: the phases are spread over the interval, so between
        // two scrapes of one replica others are refreshed.
        let phases = streams.stream("router/scrape-phase")
        let interval = spec.refreshInterval.nanoseconds
        for index in 0..<replicas {
            let phase = SimTime(nanoseconds: Int64(phases.uniform() * Double(interval)))
            sim.schedule(.scrape(ReplicaID(index)), at: phase)
        }
    }

    /// Scrapes one replica and schedules its next scrape: up to the horizon while generating, and past it
    /// while requests wait at the gateway, so the queue can drain.
    mutating func scrape(
        _ replica: ReplicaID, gauges: ReplicaGauges, generating: Bool, horizon: SimTime,
        in sim: inout Simulator<FleetEvent>
    ) {
        scraped[replica.index] = gauges
        scrapedAt[replica.index] = sim.now
        let next = sim.now + spec.refreshInterval
        if (generating && next < horizon) || flowControl.hasWaiting { sim.schedule(.scrape(replica), at: next) }
    }

    /// The policy slot that routes `pool`'s requests from clients in cluster `origin`.
    func slot(_ pool: PoolID, origin: Int) -> Int {
        pool.index * gatewaysPerPool + (gatewaysPerPool > 1 ? origin : 0)
    }

    /// Whether the policy of `slot` leaves the endpoint to the mesh's pooled connections.
    func meshBalanced(_ slot: Int) -> Bool { policies[slot].meshBalanced }

    /// Picks among two or more candidates: session affinity first, then the slot's policy over views of
    /// what it needs. The approximate prefix index learns where the request went. Returns the replica and the
    /// prompt tokens the decision expects it to hold (its prefix match), so the backlog counts only the rest.
    mutating func decide(
        _ shape: RequestShape, prefix: PromptPrefix?, slot: Int, candidates: [ReplicaID], previous: ReplicaID?,
        origin: Int,
        replicas: ReplicaSet, mesh: Mesh, now: SimTime
    ) -> (replica: ReplicaID, cachedTokens: Int) {
        var request = RoutingRequest(
            id: shape.id, workload: shape.workload, inputTokens: shape.input, outputTokens: shape.output,
            criticality: shape.criticality, session: shape.session.map { UInt64($0.session) })
        request.adapter = shape.adapter
        // The endpoint-picker replica the gateway hands this request to; only its own index is read and taught.
        let index = slot * spec.endpointPickers + nextPicker[slot]
        nextPicker[slot] = nextPicker[slot] + 1 == spec.endpointPickers ? 0 : nextPicker[slot] + 1
        prepareViews(for: &request, prefix: prefix, slot: slot, index: index, candidates, replicas: replicas, now: now)
        mesh.fillLocality(&views, origin: origin)
        let pinned = affinity?.pin(previous: previous, candidates: candidates) { replica in
            view(of: replica, replicas: replicas, now: now)
        }
        let chosen = pinned ?? policies[slot].pick(request, from: views)
        policies[slot].routed(request, to: chosen)
        if !hashes.isEmpty || uniqueBlocks > 0 {
            prefixIndexes[index]?.record(
                hashes, uniqueBlocks: uniqueBlocks, key: StableHash.mix(UInt64(shape.id.index) ^ 0x756e_6971_7565),
                on: chosen)
        }
        let cached =
            matchedBlockSize == 0 ? 0 : (views.first { $0.id == chosen }?.prefixMatchedBlocks ?? 0) * matchedBlockSize
        return (chosen, cached)
    }

    /// A request's attempt now counts against `replica`, with `prefillTokens` still to prefill there.
    mutating func attemptStarted(on replica: ReplicaID, prefillTokens: Int) {
        outstanding[replica.index] += 1
        prefillBacklog[replica.index] += prefillTokens
    }

    /// A request on `replica` produced its first token: its prefill leaves the backlog.
    mutating func prefillDone(on replica: ReplicaID, tokens: Int) { prefillBacklog[replica.index] -= tokens }

    /// A request's attempt on `replica` ended (with `unsettledPrefill` tokens if before its first token); returns
    /// the requests still outstanding there.
    mutating func attemptEnded(on replica: ReplicaID, unsettledPrefill: Int) -> Int {
        outstanding[replica.index] -= 1
        prefillBacklog[replica.index] -= unsettledPrefill
        return outstanding[replica.index]
    }

    /// The request is on its way to its replica.
    mutating func send(_ id: RequestID) { inTransit.insert(id) }
    /// The request reached its replica (or will not): true if it was on its way.
    mutating func arrived(_ id: RequestID) -> Bool { inTransit.remove(id) != nil }
    /// Whether a request is still named by a delivery on its way or a gateway wait (so not yet handed out).
    func holds(_ id: RequestID) -> Bool {
        (!inTransit.isEmpty && inTransit.contains(id)) || flowControl.isWaiting(id)
    }
    /// Whether any request is on its way to a replica.
    var hasInTransit: Bool { !inTransit.isEmpty }

    /// Whether every ready replica of `pool` is saturated by the detector's rule, on the router's metrics.
    func isSaturated(_ pool: PoolID, replicas: ReplicaSet, now: SimTime) -> Bool {
        replicas.ready[pool.index].allSatisfy { replica in
            spec.saturation.isSaturated(view(of: replica, replicas: replicas, now: now))
        }
    }

    /// The router's view of one replica: its own count and the metrics it last scraped.
    private func view(of replica: ReplicaID, replicas: ReplicaSet, now: SimTime) -> ReplicaView {
        var view = ReplicaView(id: replica, outstanding: outstanding[replica.index])
        view.prefillBacklogTokens = prefillBacklog[replica.index]
        fillMetrics(&view, replicas: replicas, now: now)
        return view
    }

    /// What the router knows of `view`'s replica now: the last scrape (or live gauges with a zero refresh
    /// interval), and whether that scrape is within the staleness limit.
    private func fillMetrics(_ view: inout ReplicaView, replicas: ReplicaSet, now: SimTime, adapter: Int32 = -1) {
        let live = spec.refreshInterval == .zero
        let gauges = live ? replicas[view.id].gauges(now: now) : scraped[view.id.index]
        view.waiting = gauges.numRequestsWaiting
        view.running = gauges.numRequestsRunning
        view.kvCacheUsage = gauges.kvCacheUsagePerc ?? 0
        if adapter >= 0 { view.loraAffinity = LoRAAffinity(adapter: adapter, gauges.lora) }
        view.fresh = live || now - scrapedAt[view.id.index] <= spec.metricsStaleness
    }

    // MARK: Replicas leaving and rejoining the pool

    /// `replica`'s endpoint left the pool (Kubernetes removed it).
    mutating func endpointRemoved(_ replica: ReplicaID, at now: SimTime) {
        if endpointRemovedAt[replica.index] == nil { endpointRemovedAt[replica.index] = now }
    }

    /// `replica` is back, restarted with an empty cache. The approximate indexes forget it only if their
    /// periodic check of the pool ran while it was out; otherwise they still list what it held before.
    mutating func endpointRestored(_ replica: ReplicaID, at now: SimTime) {
        guard let removed = endpointRemovedAt[replica.index] else { return }
        endpointRemovedAt[replica.index] = nil
        guard ApproximatePrefixIndex.inactiveCheckDrops(removed: removed, restored: now) else { return }
        for index in prefixIndexes.indices { prefixIndexes[index]?.remove(replica) }
    }

    /// Fills `views` with what the slot's policy needs: the router's own counts always; the metrics; and each
    /// candidate's prefix match, from the approximate index or the replicas' caches.
    private mutating func prepareViews(
        for request: inout RoutingRequest, prefix: PromptPrefix?, slot: Int, index indexSlot: Int,
        _ candidates: [ReplicaID], replicas: ReplicaSet, now: SimTime
    ) {
        let need = needs[slot]
        views.removeAll(keepingCapacity: true)
        for replica in candidates {
            var view = ReplicaView(id: replica, outstanding: outstanding[replica.index])
            view.prefillBacklogTokens = prefillBacklog[replica.index]
            if need.metrics { fillMetrics(&view, replicas: replicas, now: now, adapter: request.adapter) }
            views.append(view)
        }
        hashes.removeAll(keepingCapacity: true)
        uniqueBlocks = 0
        matchedBlockSize = 0
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
            matchedBlockSize = matching.blockSize
            guard shared > 0, let index = prefixIndexes[indexSlot] else { return }
            matchedScratch.removeAll(keepingCapacity: true)
            matchedScratch.append(contentsOf: repeatElement(0, count: views.count))
            index.matchedBlocks(hashes, candidates: candidates, into: &matchedScratch)
            for position in views.indices { views[position].prefixMatchedBlocks = matchedScratch[position] }
        case .precise:
            guard let blockSize = replicas[candidates[0]].prefixBlockSize else { return }
            let blocks = min(matching.maxBlocks, request.inputTokens / blockSize)
            request.prefixBlocks = blocks
            matchedBlockSize = blockSize
            guard let prefix, blocks > 0 else { return }
            for position in views.indices {
                views[position].prefixMatchedBlocks = replicas[views[position].id].cachedPrefixBlocks(
                    prefix, limit: blocks)
            }
        }
    }
}
