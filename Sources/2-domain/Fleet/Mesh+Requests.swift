/// The mesh on a request's path: the candidates the router may use, the connection and path delays, the
/// east-west gateway's streams, and what a request frees when its attempt ends.
extension Mesh {
    /// The status of a request that finds no replica to serve it: with a mesh no healthy upstream is a
    /// failure (Envoy's 503); without one, nothing could serve it.
    @inline(__always)
    var noCandidateStatus: RequestStatus { isActive ? .failed : .rejected }

    /// The replicas of a pool the router may send `request` to: not ejected by outlier detection, not removed
    /// from the endpoints, not already failed for this request; with PreferClose balancing, only the closest
    /// locality that has any. Without a mesh, the pool's ready replicas as they are.
    @inline(__always)
    func candidates(
        _ replicas: ReplicaSet, pool: PoolID, request: RequestID, origin: Int, meshBalanced: Bool
    ) -> [ReplicaID] {
        guard isActive else { return replicas.ready[pool.index] }
        return activeCandidates(replicas, pool: pool, request: request, origin: origin, meshBalanced: meshBalanced)
    }

    private func activeCandidates(
        _ replicas: ReplicaSet, pool: PoolID, request: RequestID, origin: Int, meshBalanced: Bool
    ) -> [ReplicaID] {
        let ready = replicas.ready[pool.index]
        let firstSlot = replicas.poolSlots[pool.index][0].index
        let tried = self.tried[request] ?? []
        var candidates = ready.filter { replica in
            !endpointRemoved[replica.index] && !tried.contains(replica)
                && !(detectors[pool.index]?.isEjected(replica.index - firstSlot) ?? false)
        }
        if candidates.isEmpty && !tried.isEmpty {
            // Every healthy replica already failed this request: retry among them rather than give up.
            candidates = ready.filter { !endpointRemoved[$0.index] }
        }
        if meshBalanced && spec.trafficDistribution == .preferClose {
            let tiers = self.tiers[origin]
            if let closest = candidates.lazy.map({ tiers[self.replicaCluster[$0.index]] }).min() {
                candidates = candidates.filter { tiers[self.replicaCluster[$0.index]] == closest }
            }
        }
        return candidates
    }

    /// Fills each view's locality tier and round trip from `origin`.
    @inline(__always)
    func fillLocality(_ views: inout [ReplicaView], origin: Int) {
        guard isActive else { return }
        for index in views.indices {
            let cluster = replicaCluster[views[index].id.index]
            views[index].localityTier = tiers[origin][cluster]
            views[index].networkRoundTrip = paths[origin][cluster].roundTrip.seconds
        }
    }

    /// Opens or reuses a connection to `chosen` (for a mesh-balanced pick across clusters, the pooled
    /// connection decides the backend), and returns the replica the request goes to and the delay before it
    /// gets there. Records the request's leg. Without a mesh: `chosen`, at once.
    @inline(__always)
    func connect(
        _ id: RequestID, input: Int, chosen: ReplicaID, meshBalanced: Bool, now: SimTime
    ) -> (replica: ReplicaID, forward: SimTime) {
        guard isActive else { return (chosen, .zero) }
        return activeConnect(id, input: input, chosen: chosen, meshBalanced: meshBalanced, now: now)
    }

    private func activeConnect(
        _ id: RequestID, input: Int, chosen: ReplicaID, meshBalanced: Bool, now: SimTime
    ) -> (replica: ReplicaID, forward: SimTime) {
        let index = id.index
        let origin = Int(legs[index].origin)
        let target = replicaCluster[chosen.index]
        let pinned = meshBalanced && origin != target
        let key = poolKey(origin: origin, replica: pinned ? nil : chosen, cluster: target)
        // In place: copying the pool out and back would copy its connections on every request.
        let outcome = connectionPools[key, default: ConnectionPool(spec: spec.connectionPool)].acquire(
            backend: chosen.index, pinned: pinned, now: now)
        legs[index].connectionKey = Int32(key)
        legs[index].connectionID = Int32(outcome.id)
        let replica = ReplicaID(outcome.backend)
        let destination = replicaCluster[replica.index]
        let path = paths[origin][destination]
        var forward =
            path.oneWay + jitterDraw(origin, destination) + serialization(tokens: input, origin, destination)
        if case .opened = outcome {
            counts.connectionsOpened += 1
            forward += path.handshake
        } else {
            counts.connectionsReused += 1
        }
        let back = path.oneWay + jitterDraw(destination, origin)
        legs[index].returnDelay = back
        legs[index].network += (forward + back).nanoseconds
        legs[index].crossCluster = origin != destination
        return (replica, forward)
    }

    /// Sends a connected request on its way: through the destination's east-west gateway when it crosses
    /// clusters (waiting for a stream if the gateway is full), then after `delay` to the replica. Without a
    /// mesh, only the delay (the router's decision time).
    func send(
        _ id: RequestID, to replica: ReplicaID, after delay: SimTime, firstRouted: SimTime,
        in sim: inout Simulator<FleetEvent>
    ) {
        guard isActive else {
            sim.schedule(.deliver(id, replica, attempt: 0), after: delay)
            return
        }
        let index = id.index
        let destination = replicaCluster[replica.index]
        if let perTry = spec.retries.perTryTimeout {
            legs[index].perTryTimer = sim.schedule(.perTryTimeout(id, Int(legs[index].attempt)), after: perTry)
        }
        if legs[index].crossCluster {
            if gatewayActive[destination] >= spec.eastWestGateway.concurrency {
                gatewayQueue[destination].append((id, legs[index].attempt, replica, firstRouted))
                gatewayQueued += 1
                return
            }
            touchGateway(destination, at: sim.now)
            gatewayActive[destination] += 1
            legs[index].viaGateway = Int32(destination)
        }
        sim.schedule(.deliver(id, replica, attempt: legs[index].attempt), after: delay)
    }

    /// Whether the request can still reach `replica` now (the link, the gateway and the replica are up, and
    /// the link did not lose it).
    func deliverable(_ id: RequestID, to replica: ReplicaID) -> Bool {
        guard isActive else { return true }
        let origin = Int(legs[id.index].origin), destination = replicaCluster[replica.index]
        guard !replicaDown[replica.index], reachable(from: origin, to: destination) else { return false }
        let lossRate = origin == destination ? 0 : linkLoss[origin][destination]
        return lossRate == 0 || loss!.uniform() >= lossRate
    }

    /// Whether the request was delivered to `replica` and is still there.
    func isOn(_ id: RequestID, replica: ReplicaID) -> Bool { onReplica[replica.index].contains(id) }

    /// The request reached its replica.
    @inline(__always)
    func delivered(_ id: RequestID, to replica: ReplicaID) {
        if isActive { onReplica[replica.index].append(id) }
    }

    /// Frees what a request's attempt held on its path: its connection stream, its gateway stream (letting the
    /// next waiting request through), its place on its replica, its per-try timer.
    func release(_ id: RequestID, replica: ReplicaID?, in sim: inout Simulator<FleetEvent>) {
        let index = id.index
        if legs[index].connectionKey >= 0 {
            connectionPools[Int(legs[index].connectionKey)]?.release(id: Int(legs[index].connectionID), now: sim.now)
            legs[index].connectionKey = -1
            legs[index].connectionID = -1
        }
        if let timer = legs[index].perTryTimer {
            sim.cancel(timer)
            legs[index].perTryTimer = nil
        }
        if let replica { onReplica[replica.index].removeAll { $0 == id } }
        var admitted: [(id: RequestID, replica: ReplicaID)] = []
        let gateway = Int(legs[index].viaGateway)
        if gateway >= 0 {
            legs[index].viaGateway = -1
            touchGateway(gateway, at: sim.now)
            gatewayActive[gateway] -= 1
            // The next waiting request takes the freed stream (if it is still waiting).
            while gatewayActive[gateway] < spec.eastWestGateway.concurrency,
                let (next, attempt, target, routed) = gatewayQueue[gateway].popFirst()
            {
                // Skip requests that ended, and attempts that failed while they waited.
                guard !legs[next.index].ended, legs[next.index].attempt == attempt else { continue }
                // The wait for a stream is network time too.
                legs[next.index].network += (sim.now - routed).nanoseconds
                gatewayActive[gateway] += 1
                legs[next.index].viaGateway = Int32(gateway)
                admitted.append((next, target))
            }
        }
        for (next, target) in admitted {
            let path = paths[Int(legs[next.index].origin)][replicaCluster[target.index]]
            sim.schedule(.deliver(next, target, attempt: legs[next.index].attempt), after: path.oneWay)
        }
    }

    /// A request reached its terminal status: its path's resources are freed, outlier detection hears of a
    /// success. `replica` is where its last attempt was, if it still held one.
    @inline(__always)
    func ended(
        _ id: RequestID, status: RequestStatus, replica: ReplicaID?, replicas: ReplicaSet,
        in sim: inout Simulator<FleetEvent>
    ) {
        if isActive { activeEnded(id, status: status, replica: replica, replicas: replicas, in: &sim) }
    }

    private func activeEnded(
        _ id: RequestID, status: RequestStatus, replica: ReplicaID?, replicas: ReplicaSet,
        in sim: inout Simulator<FleetEvent>
    ) {
        release(id, replica: replica, in: &sim)
        legs[id.index].ended = true
        tried[id] = nil
        if status == .completed, let replica {
            detectors[replicas.pool[replica.index].index]?.success(replicas.slot(of: replica))
        }
    }

    /// An attempt failed on `replica` (slot `slot` of a pool of `poolSize`): outlier detection hears of it.
    /// Returns whether the request may be retried, and if so counts the retry.
    func attemptFailed(
        _ id: RequestID, on replica: ReplicaID, pool: PoolID, slot: Int, poolSize: Int, name: String, at now: SimTime
    ) -> Bool {
        if detectors[pool.index]?.failure(slot, at: now, poolSize: poolSize) == true {
            counts.ejections += 1
            log(.ejected, name, at: now)
        }
        tried[id, default: []].append(replica)
        guard Int(legs[id.index].attempt) < spec.retries.attempts else { return false }
        legs[id.index].attempt += 1
        counts.retries += 1
        return true
    }

    /// Requests waiting at `cluster`'s gateway whose attempt is current, removed from the queue.
    func drainGatewayQueue(_ cluster: Int) -> [(id: RequestID, replica: ReplicaID)] {
        let waiting = Array(gatewayQueue[cluster])
        gatewayQueue[cluster].removeAll()
        return waiting.filter { legs[$0.id.index].attempt == $0.attempt }.map { ($0.id, $0.replica) }
    }

    /// The connection-pool key of traffic from `origin` to a replica, or to a remote cluster as a whole.
    func poolKey(origin: Int, replica: ReplicaID?, cluster: Int) -> Int {
        let size = replicaCluster.count + spec.clusters.count
        return origin * size + (replica.map(\.index) ?? replicaCluster.count + cluster)
    }

    /// A one-way traversal of the link between `a` and `b`: its jitter draw (nothing inside a cluster).
    func jitterDraw(_ a: Int, _ b: Int) -> SimTime {
        guard let link = links[a][b], link.jitter > .zero, let jitter else { return .zero }
        return SimTime(nanoseconds: Int64(jitter.uniform() * Double(link.jitter.nanoseconds)))
    }

    /// Time to put `tokens` tokens' bytes on the link between `a` and `b`.
    func serialization(tokens: Int, _ a: Int, _ b: Int) -> SimTime {
        guard let link = links[a][b], link.bandwidthBitsPerSecond > 0 else { return .zero }
        // While KV transfers cross the link, the bytes get the share a new flow would (docs/disaggregation.md).
        if let fabric, let share = fabric.meshLinkShare(a, b) {
            return .seconds(Double(tokens) * spec.dataPath.bytesPerToken / share)
        }
        return .seconds(Double(tokens) * spec.dataPath.bytesPerToken * 8 / link.bandwidthBitsPerSecond)
    }

    /// Whether a request from `origin` can reach a replica in `destination` now.
    func reachable(from origin: Int, to destination: Int) -> Bool {
        guard !clusterDown[destination] else { return false }
        return origin == destination || (!gatewayDown[destination] && !linkDown[origin][destination])
    }
}
