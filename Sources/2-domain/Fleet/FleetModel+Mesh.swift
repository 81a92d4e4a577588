/// The mesh on the request path: candidates the router may use, connections, path delays, the east-west
/// gateway's streams, failed attempts and their retries, outlier detection, and faults.
extension FleetModel {
    /// The replicas of `pool` the router may send `request` to: not ejected by outlier detection, not removed
    /// from the endpoints, not already failed for this request; with the mesh's PreferClose balancing, only
    /// the closest locality that has any.
    func meshCandidates(_ pool: PoolID, request: RequestID, origin: Int, meshBalanced: Bool) -> [ReplicaID] {
        guard let mesh else { return poolReplicas[pool.index] }
        let slots = poolSlots[pool.index]
        let tried = mesh.tried[request] ?? []
        var candidates = poolReplicas[pool.index].filter { replica in
            !mesh.endpointRemoved[replica.index] && !tried.contains(replica)
                && !(mesh.detectors[pool.index]?.isEjected(replica.index - slots[0].index) ?? false)
        }
        if candidates.isEmpty && !tried.isEmpty {
            // Every healthy replica already failed this request: retry among them rather than give up.
            candidates = poolReplicas[pool.index].filter { !mesh.endpointRemoved[$0.index] }
        }
        if meshBalanced && mesh.spec.trafficDistribution == .preferClose {
            let tiers = mesh.tiers[origin]
            if let closest = candidates.lazy.map({ tiers[mesh.replicaCluster[$0.index]] }).min() {
                candidates = candidates.filter { tiers[mesh.replicaCluster[$0.index]] == closest }
            }
        }
        return candidates
    }

    /// Fills each view's locality tier and round trip from `origin`.
    mutating func fillLocality(origin: Int) {
        guard let mesh else { return }
        for index in views.indices {
            let cluster = mesh.replicaCluster[views[index].id.index]
            views[index].localityTier = mesh.tiers[origin][cluster]
            views[index].networkRoundTrip = mesh.paths[origin][cluster].roundTrip.seconds
        }
    }

    /// Opens or reuses a connection to `chosen` (for a mesh-balanced pick across clusters, the pooled
    /// connection decides the backend), and returns the replica the request goes to and the delay before it
    /// gets there. Records the request's path.
    mutating func meshPath(
        _ pending: PendingRequest, chosen: ReplicaID, meshBalanced: Bool, now: SimTime
    ) -> (replica: ReplicaID, forward: SimTime) {
        guard let mesh else { return (chosen, .zero) }
        let index = pending.id.index
        let origin = Int(mesh.requestOrigin[index])
        let target = mesh.replicaCluster[chosen.index]
        let pinned = meshBalanced && origin != target
        let key = mesh.poolKey(origin: origin, replica: pinned ? nil : chosen, cluster: target)
        // In place: copying the pool out and back would copy its connections on every request.
        let outcome = mesh.connectionPools[key, default: ConnectionPool(spec: mesh.spec.connectionPool)].acquire(
            backend: chosen.index, pinned: pinned, now: now)
        mesh.connection[index] = (key, outcome.id)
        let replica = ReplicaID(outcome.backend)
        let destination = mesh.replicaCluster[replica.index]
        let path = mesh.paths[origin][destination]
        var forward =
            path.oneWay + mesh.jitterDraw(origin, destination)
            + mesh.serialization(tokens: pending.input, origin, destination)
        if case .opened = outcome {
            mesh.counts.connectionsOpened += 1
            forward += path.handshake
        } else {
            mesh.counts.connectionsReused += 1
        }
        let back = path.oneWay + mesh.jitterDraw(destination, origin)
        mesh.returnDelay[index] = back
        mesh.network[index] += (forward + back).nanoseconds
        mesh.crossCluster[index] = origin != destination
        return (replica, forward)
    }

    /// Sends a routed request on its way: through the destination's east-west gateway when it crosses
    /// clusters (waiting for a stream if the gateway is full), then after the path's delay to the replica.
    mutating func meshSend(
        _ pending: PendingRequest, to replica: ReplicaID, after delay: SimTime, in sim: inout Simulator<FleetEvent>
    ) {
        guard let mesh else { return }
        let index = pending.id.index
        let destination = mesh.replicaCluster[replica.index]
        if let perTry = mesh.spec.retries.perTryTimeout {
            mesh.perTryTimer[index] = sim.schedule(.perTryTimeout(pending.id, Int(mesh.attempt[index])), after: perTry)
        }
        inDecision[pending.id] = pending
        mesh.pending[pending.id] = pending
        if mesh.crossCluster[index] {
            if mesh.gatewayActive[destination] >= mesh.spec.eastWestGateway.concurrency {
                mesh.gatewayQueue[destination].append((pending.id, mesh.attempt[index]))
                mesh.gatewayQueued += 1
                return
            }
            mesh.touchGateway(destination, at: sim.now)
            mesh.gatewayActive[destination] += 1
            mesh.viaGateway[index] = Int32(destination)
        }
        sim.schedule(.deliver(pending.id, replica, attempt: mesh.attempt[index]), after: delay)
    }

    /// Whether the request can still reach `replica` now (the link, the gateway and the replica are up, and
    /// the link did not lose it).
    mutating func meshDeliverable(_ id: RequestID, to replica: ReplicaID) -> Bool {
        guard let mesh else { return true }
        let origin = Int(mesh.requestOrigin[id.index]), destination = mesh.replicaCluster[replica.index]
        guard !mesh.replicaDown[replica.index], mesh.reachable(from: origin, to: destination) else { return false }
        let lossRate = origin == destination ? 0 : mesh.linkLoss[origin][destination]
        return lossRate == 0 || mesh.loss.uniform() >= lossRate
    }

    /// Frees what a request held on its path: its connection stream, its gateway stream (letting the next
    /// waiting request through), its place on its replica, its per-try timer.
    mutating func meshRelease(_ id: RequestID, replica: ReplicaID?, in sim: inout Simulator<FleetEvent>) {
        guard let mesh else { return }
        let index = id.index
        if let (key, connection) = mesh.connection[index] {
            mesh.connectionPools[key]?.release(id: connection, now: sim.now)
            mesh.connection[index] = nil
        }
        if let timer = mesh.perTryTimer[index] {
            sim.cancel(timer)
            mesh.perTryTimer[index] = nil
        }
        if let replica { mesh.onReplica[replica.index].removeAll { $0 == id } }
        var admitted: [RequestID] = []
        let gateway = Int(mesh.viaGateway[index])
        if gateway >= 0 {
            mesh.viaGateway[index] = -1
            mesh.touchGateway(gateway, at: sim.now)
            mesh.gatewayActive[gateway] -= 1
            // The next waiting request takes the freed stream (if it is still waiting).
            while mesh.gatewayActive[gateway] < mesh.spec.eastWestGateway.concurrency,
                let (next, attempt) = mesh.gatewayQueue[gateway].popFirst()
            {
                // Skip requests that ended, and attempts that failed while they waited.
                guard records[next.index].status == nil, mesh.attempt[next.index] == attempt else { continue }
                // The wait for a stream is network time too.
                mesh.network[next.index] += (sim.now - (records[next.index].routed ?? sim.now)).nanoseconds
                mesh.gatewayActive[gateway] += 1
                mesh.viaGateway[next.index] = Int32(gateway)
                admitted.append(next)
            }
        }
        for next in admitted {
            guard let replica = records[next.index].replica else { continue }
            let path = mesh.paths[Int(mesh.requestOrigin[next.index])][mesh.replicaCluster[replica.index]]
            sim.schedule(.deliver(next, replica, attempt: mesh.attempt[next.index]), after: path.oneWay)
        }
    }

    /// A request reached its terminal status: its path's resources are freed, outlier detection hears of a
    /// success.
    mutating func meshEnded(_ id: RequestID, status: RequestStatus, in sim: inout Simulator<FleetEvent>) {
        let replica = records[id.index].replica
        meshRelease(id, replica: replica, in: &sim)
        mesh!.pending[id] = nil
        mesh!.tried[id] = nil
        if status == .completed, let replica {
            let pool = replicaPool[replica.index]
            mesh!.detectors[pool.index]?.success(replica.index - poolSlots[pool.index][0].index)
        }
    }

    /// An attempt failed on `replica` (refused, reset, cut by a fault or its per-try timeout): outlier
    /// detection hears of it, and the request is retried on another replica while attempts remain, else fails.
    mutating func attemptFailed(_ id: RequestID, on replica: ReplicaID, in sim: inout Simulator<FleetEvent>) {
        guard let mesh, records[id.index].status == nil, let pending = mesh.pending[id] else {
            return
        }
        inDecision[id] = nil
        if mesh.onReplica[replica.index].contains(id) {
            _ = replicas[replica.index].abort(id, now: sim.now, effects: &effects)
        }
        meshRelease(id, replica: replica, in: &sim)
        apply(replica: replica, in: &sim)
        outstanding[replica.index] -= 1
        records[id.index].replica = nil
        let pool = replicaPool[replica.index]
        let slot = replica.index - poolSlots[pool.index][0].index
        if mesh.detectors[pool.index]?.failure(slot, at: sim.now, poolSize: poolSlots[pool.index].count) == true {
            mesh.counts.ejections += 1
            mesh.log(.ejected, replicaInfo[replica.index].name, at: sim.now)
        }
        mesh.tried[id, default: []].append(replica)
        if Int(mesh.attempt[id.index]) < mesh.spec.retries.attempts {
            mesh.attempt[id.index] += 1
            mesh.counts.retries += 1
            route(pending, pool: pool, in: &sim)
        } else {
            end(id, as: .failed, at: sim.now, in: &sim)
            records[id.index].replica = replica
        }
    }

    /// Every request on `replica` fails its attempt (the replica or its path went down).
    mutating func failAll(
        on replica: ReplicaID, where condition: (RequestID) -> Bool = { _ in true }, in sim: inout Simulator<FleetEvent>
    ) {
        guard let mesh else { return }
        for id in mesh.onReplica[replica.index] where condition(id) { attemptFailed(id, on: replica, in: &sim) }
    }

    /// Requests waiting at `cluster`'s gateway fail their attempt.
    mutating func failGatewayQueue(_ cluster: Int, in sim: inout Simulator<FleetEvent>) {
        guard let mesh else { return }
        let waiting = Array(mesh.gatewayQueue[cluster])
        mesh.gatewayQueue[cluster].removeAll()
        for (id, attempt) in waiting where mesh.attempt[id.index] == attempt {
            if let replica = records[id.index].replica { attemptFailed(id, on: replica, in: &sim) }
        }
    }

    /// A fault begins or ends.
    mutating func fault(_ index: Int, starting: Bool, in sim: inout Simulator<FleetEvent>) {
        guard let mesh else { return }
        let fault = mesh.spec.faults[index]
        let name: String
        switch fault.kind {
        case .linkDown(let a, let b), .linkDegraded(let a, let b, _, _): name = "\(a)<->\(b)"
        case .clusterOutage(let c), .gatewayOutage(let c): name = c
        case .replicaCrash(let pool, let replica): name = "\(pool)/\(replica)"
        }
        mesh.log(starting ? .faultStart : .faultEnd, name, at: sim.now, detail: Self.describe(fault.kind))
        if starting, let duration = fault.duration { sim.schedule(.fault(index, starting: false), after: duration) }
        switch fault.kind {
        case .linkDown(let a, let b):
            guard let x = mesh.spec.clusterIndex(a), let y = mesh.spec.clusterIndex(b) else { return }
            self.mesh!.linkDown[x][y] = starting
            self.mesh!.linkDown[y][x] = starting
            if starting { cutPaths(between: x, y, in: &sim) }
        case .linkDegraded(let a, let b, let added, let loss):
            guard let x = mesh.spec.clusterIndex(a), let y = mesh.spec.clusterIndex(b) else { return }
            let base = mesh.spec.link(x, y)?.loss ?? 0
            for (p, q) in [(x, y), (y, x)] {
                self.mesh!.linkAdded[p][q] = starting ? added : .zero
                self.mesh!.linkLoss[p][q] = starting ? min(1, base + loss) : base
                self.mesh!.paths[p][q] = PathCost.of(mesh.spec, from: p, to: q, added: self.mesh!.linkAdded[p][q])
            }
        case .clusterOutage(let c):
            guard let cluster = mesh.spec.clusterIndex(c) else { return }
            self.mesh!.clusterDown[cluster] = starting
            self.mesh!.gatewayDown[cluster] = starting
            for replica in replicaInfo.indices where mesh.replicaCluster[replica] == cluster {
                setReplica(ReplicaID(replica), down: starting, in: &sim)
            }
            if starting { failGatewayQueue(cluster, in: &sim) }
            moveOrigins(in: &sim)
        case .replicaCrash(let pool, let index):
            guard let p = spec.pools.firstIndex(where: { $0.name == pool }), index < poolSlots[p].count else { return }
            setReplica(poolSlots[p][index], down: starting, in: &sim)
        case .gatewayOutage(let c):
            guard let cluster = mesh.spec.clusterIndex(c) else { return }
            self.mesh!.gatewayDown[cluster] = starting
            if starting {
                failGatewayQueue(cluster, in: &sim)
                for replica in replicaInfo.indices where mesh.replicaCluster[replica] == cluster {
                    let state = self.mesh!
                    failAll(on: ReplicaID(replica), where: { state.viaGateway[$0.index] >= 0 }, in: &sim)
                }
            }
        }
    }

    static func describe(_ kind: FaultSpec.Kind) -> String {
        switch kind {
        case .linkDown: return "link down"
        case .linkDegraded(_, _, let added, let loss): return "link +\(added) latency, \(loss) loss"
        case .clusterOutage: return "cluster outage"
        case .replicaCrash: return "replica crash"
        case .gatewayOutage: return "east-west gateway outage"
        }
    }

    /// Requests crossing the link between clusters `a` and `b` lose their path.
    private mutating func cutPaths(between a: Int, _ b: Int, in sim: inout Simulator<FleetEvent>) {
        guard let mesh else { return }
        for replica in replicaInfo.indices where mesh.replicaCluster[replica] == a || mesh.replicaCluster[replica] == b
        {
            let cluster = mesh.replicaCluster[replica]
            let other = cluster == a ? b : a
            let state = mesh
            failAll(on: ReplicaID(replica), where: { Int(state.requestOrigin[$0.index]) == other }, in: &sim)
        }
        // Pooled connections over the link are gone.
        let size = mesh.replicaCluster.count + mesh.spec.clusters.count
        for origin in [a, b] {
            for target in 0..<size {
                let cluster =
                    target < mesh.replicaCluster.count
                    ? mesh.replicaCluster[target] : target - mesh.replicaCluster.count
                if cluster == (origin == a ? b : a) { self.mesh!.connectionPools[origin * size + target]?.dropAll() }
            }
        }
    }

    /// A replica goes down (its requests fail; Kubernetes removes its endpoint after the removal delay) or
    /// comes back (its endpoint returns).
    private mutating func setReplica(_ replica: ReplicaID, down: Bool, in sim: inout Simulator<FleetEvent>) {
        guard mesh != nil, mesh!.replicaDown[replica.index] != down else { return }
        mesh!.replicaDown[replica.index] = down
        if down {
            failAll(on: replica, in: &sim)
            sim.schedule(.endpointRemoval(replica), after: mesh!.spec.endpointRemovalDelay)
        } else if mesh!.endpointRemoved[replica.index] {
            mesh!.endpointRemoved[replica.index] = false
            mesh!.log(.endpointRestored, replicaInfo[replica.index].name, at: sim.now)
        }
    }

    /// Kubernetes removes a replica's endpoint, if it is still down.
    mutating func endpointRemoval(_ replica: ReplicaID, at now: SimTime) {
        guard mesh != nil, mesh!.replicaDown[replica.index], !mesh!.endpointRemoved[replica.index] else { return }
        mesh!.endpointRemoved[replica.index] = true
        mesh!.log(.endpointRemoved, replicaInfo[replica.index].name, at: now)
    }

    /// Clients of a cluster that is down move to the closest cluster that is up; back home when it returns.
    private mutating func moveOrigins(in sim: inout Simulator<FleetEvent>) {
        guard let mesh else { return }
        for (workload, home) in mesh.homeOrigin.enumerated() {
            var target = home
            if mesh.clusterDown[home] {
                let up = mesh.spec.clusters.indices.filter { !mesh.clusterDown[$0] }
                target =
                    up.min { mesh.spec.localityTier(from: home, to: $0) < mesh.spec.localityTier(from: home, to: $1) }
                    ?? home
            }
            if target != mesh.origin[workload] {
                let from = mesh.spec.clusters[mesh.origin[workload]].name
                mesh.origin[workload] = target
                mesh.counts.failovers += 1
                mesh.log(
                    .failover, spec.workloads[workload].name, at: sim.now,
                    detail: "\(from) -> \(mesh.spec.clusters[target].name)")
            }
        }
    }

    /// Outlier detection's interval check: expired ejections end.
    mutating func outlierCheck(in sim: inout Simulator<FleetEvent>) {
        guard let mesh, let interval = mesh.spec.outlierDetection?.interval else { return }
        for pool in mesh.detectors.indices {
            for slot in mesh.detectors[pool]?.check(at: sim.now) ?? [] {
                mesh.log(.restored, replicaInfo[poolSlots[pool][slot].index].name, at: sim.now)
            }
        }
        if generating || !inDecision.isEmpty { sim.schedule(.outlierCheck, after: interval) }
    }
}
