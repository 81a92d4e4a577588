/// Routing one request: the views its policy needs, the decision, and the hand-off to the replica.
extension FleetModel {
    /// Picks the replica for `pending` and sends it there, now or after the router's decision time.
    mutating func route(_ pending: PendingRequest, pool: PoolID, in sim: inout Simulator<FleetEvent>) {
        let id = pending.id
        let origin = mesh.map { Int($0.requestOrigin[id.index]) } ?? 0
        let slot = policySlot(pool, origin: origin)
        let meshBalanced = policies[slot].meshBalanced
        let candidates =
            mesh == nil
            ? poolReplicas[pool.index]
            : meshCandidates(pool, request: id, origin: origin, meshBalanced: meshBalanced)
        guard !candidates.isEmpty else {
            // With a mesh, no healthy upstream is a failure (Envoy's 503); without one, nothing to serve it.
            end(id, as: mesh == nil ? .rejected : .failed, at: sim.now, in: &sim)
            return
        }
        let chosen: ReplicaID
        if candidates.count == 1 {
            chosen = candidates[0]  // Nothing to decide; policies are not consulted.
        } else {
            var request = RoutingRequest(
                id: id, workload: pending.workload, inputTokens: pending.input, outputTokens: pending.output,
                criticality: pending.criticality, session: pending.session >= 0 ? UInt64(pending.session) : nil)
            prepareViews(for: &request, prefix: pending.prefix, slot: slot, candidates, now: sim.now)
            if mesh != nil { fillLocality(origin: origin) }
            let pinned =
                pending.session >= 0 ? affinityReplica(for: pending, candidates: candidates, now: sim.now) : nil
            chosen = pinned ?? policies[slot].pick(request, from: views)
            policies[slot].routed(request, to: chosen)
            if !hashes.isEmpty || uniqueBlocks > 0 {
                prefixIndexes[slot]?.record(
                    hashes, uniqueBlocks: uniqueBlocks, key: StableHash.mix(UInt64(id.index) ^ 0x756e_6971_7565),
                    on: chosen)
            }
        }
        if mesh != nil {
            let (target, forward) = meshPath(pending, chosen: chosen, meshBalanced: meshBalanced, now: sim.now)
            records[id.index].replica = target
            records[id.index].routed = records[id.index].routed ?? sim.now
            outstanding[target.index] += 1
            meshSend(pending, to: target, after: spec.router.decisionTime + forward, in: &sim)
            return
        }
        records[id.index].replica = chosen
        records[id.index].routed = sim.now
        outstanding[chosen.index] += 1
        if spec.router.decisionTime > .zero {
            inDecision[id] = pending
            sim.schedule(.deliver(id, chosen, attempt: 0), after: spec.router.decisionTime)
        } else {
            deliver(pending, to: chosen, in: &sim)
        }
    }

    /// Hands a routed request to its replica (unless it ended on the way, by a workload timeout).
    mutating func deliver(_ pending: PendingRequest, to replica: ReplicaID, in sim: inout Simulator<FleetEvent>) {
        guard records[pending.id.index].status == nil else { return }
        mesh?.onReplica[replica.index].append(pending.id)
        replicas[replica.index].enqueue(
            ServingRequest(
                id: pending.id, inputTokens: pending.input, outputTokens: pending.output, prefix: pending.prefix),
            now: sim.now, effects: &effects)
        apply(replica: replica, in: &sim)
    }

    /// The policy that routes `pool`'s requests from clients in cluster `origin`.
    func policySlot(_ pool: PoolID, origin: Int) -> Int {
        pool.index * gatewaysPerPool + (gatewaysPerPool > 1 ? origin : 0)
    }

    /// What the router knows of `view`'s replica now: the last scrape (or live gauges with a zero refresh
    /// interval), and whether that scrape is within the staleness limit.
    func fillMetrics(_ view: inout ReplicaView, now: SimTime) {
        let live = spec.router.refreshInterval == .zero
        let gauges = live ? replicas[view.id.index].gauges(now: now) : scraped[view.id.index]
        view.waiting = gauges.numRequestsWaiting
        view.running = gauges.numRequestsRunning
        view.kvCacheUsage = gauges.kvCacheUsagePerc ?? 0
        view.fresh = live || now - scrapedAt[view.id.index] <= spec.router.metricsStaleness
    }

    /// Fills `views` with what the pool's policy needs: the router's own counts always; the last scrape (or
    /// live gauges with a zero refresh interval); and each candidate's prefix match, from the approximate
    /// index or the replicas' caches.
    mutating func prepareViews(
        for request: inout RoutingRequest, prefix: PromptPrefix?, slot: Int, _ candidates: [ReplicaID],
        now: SimTime
    ) {
        let need = needs[slot]
        views.removeAll(keepingCapacity: true)
        for replica in candidates {
            var view = ReplicaView(id: replica, outstanding: outstanding[replica.index])
            if need.metrics { fillMetrics(&view, now: now) }
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
            guard shared > 0, let index = prefixIndexes[slot] else { return }
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
}
