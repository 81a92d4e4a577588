/// Failed attempts and faults: an attempt that cannot reach its replica, or is cut by a fault or its per-try
/// timeout, is retried on another replica while the mesh's retry budget lasts.
extension FleetModel {
    /// An attempt failed on `replica`: it is aborted there and gives up its place; the request is retried on
    /// another replica while attempts remain, else it fails.
    mutating func attemptFailed(_ id: RequestID, on replica: ReplicaID, in sim: inout Simulator<FleetEvent>) {
        guard mesh.isActive, !ledger.hasEnded(id) else { return }
        _ = router.arrived(id)
        var effects = replicas.borrowEffects()
        if mesh.isOn(id, replica: replica) { _ = replicas[replica].abort(id, now: sim.now, effects: &effects) }
        mesh.release(id, replica: replica, in: &sim)
        apply(&effects, from: replica, in: &sim)
        if disaggregation.isActive { abandonSplit(id, in: &sim) }
        releaseAttempt(id, at: sim.now)
        ledger[id].replica = nil
        let pool = replicas.pool[replica.index]
        let retry = mesh.attemptFailed(
            id, on: replica, pool: pool, slot: replicas.slot(of: replica),
            poolSize: replicas.poolSlots[pool.index].count, name: replicas.info[replica.index].name, at: sim.now)
        if retry {
            route(id, pool: pool, in: &sim)
        } else {
            end(id, as: .failed, at: sim.now, in: &sim)
            ledger[id].replica = replica
        }
    }

    /// Every request on `replica` (that meets `condition`) fails its attempt: the replica or its path went down.
    mutating func failAll(
        on replica: ReplicaID, where condition: (RequestID) -> Bool = { _ in true }, in sim: inout Simulator<FleetEvent>
    ) {
        for id in mesh.requests(on: replica) where condition(id) { attemptFailed(id, on: replica, in: &sim) }
    }

    /// Requests waiting at `cluster`'s gateway fail their attempt.
    mutating func failGatewayQueue(_ cluster: Int, in sim: inout Simulator<FleetEvent>) {
        for (id, replica) in mesh.drainGatewayQueue(cluster) { attemptFailed(id, on: replica, in: &sim) }
    }

    /// A fault begins or ends.
    mutating func fault(_ index: Int, starting: Bool, in sim: inout Simulator<FleetEvent>) {
        let fault = mesh.spec.faults[index]
        mesh.logFault(fault, starting: starting, at: sim.now)
        if starting, let duration = fault.duration { sim.schedule(.fault(index, starting: false), after: duration) }
        switch fault.kind {
        case .linkDown(let a, let b):
            guard let (x, y) = mesh.setLinkDown(a, b, starting) else { return }
            if starting { cutPaths(between: x, y, in: &sim) }
        case .linkDegraded(let a, let b, let added, let loss):
            mesh.setLinkDegraded(a, b, added: added, loss: loss, starting)
        case .clusterOutage(let c):
            guard let cluster = mesh.setClusterDown(c, starting) else { return }
            for replica in mesh.replicas(inAnyOf: [cluster]) {
                setReplica(replica, down: starting, in: &sim)
            }
            if starting { failGatewayQueue(cluster, in: &sim) }
            mesh.moveOrigins(workloads: spec.workloads.map(\.name), at: sim.now)
        case .replicaCrash(let pool, let index):
            guard let p = spec.pools.firstIndex(where: { $0.name == pool }), index < replicas.poolSlots[p].count else {
                return
            }
            setReplica(replicas.poolSlots[p][index], down: starting, in: &sim)
        case .gatewayOutage(let c):
            guard let cluster = mesh.setGatewayDown(c, starting) else { return }
            if starting {
                failGatewayQueue(cluster, in: &sim)
                for replica in mesh.replicas(inAnyOf: [cluster]) {
                    let mesh = self.mesh
                    failAll(on: replica, where: { mesh.holdsGatewayStream($0) }, in: &sim)
                }
            }
        }
    }

    /// Requests crossing the link between clusters `a` and `b` lose their path, and so do pooled connections.
    private mutating func cutPaths(between a: Int, _ b: Int, in sim: inout Simulator<FleetEvent>) {
        for replica in mesh.replicas(inAnyOf: [a, b]) {
            let other = mesh.cluster(of: replica) == a ? b : a
            let mesh = self.mesh
            failAll(on: replica, where: { mesh.origin(of: $0) == other }, in: &sim)
        }
        mesh.dropConnections(between: a, b)
    }

    /// A replica goes down (its requests fail; Kubernetes removes its endpoint after the removal delay) or
    /// comes back, restarted: its endpoint returns and its caches are empty.
    private mutating func setReplica(_ replica: ReplicaID, down: Bool, in sim: inout Simulator<FleetEvent>) {
        guard mesh.setReplicaDown(replica, down) else { return }
        if down {
            failAll(on: replica, in: &sim)
            sim.schedule(.endpointRemoval(replica), after: mesh.spec.endpointRemovalDelay)
        } else {
            replicas[replica].restart(now: sim.now)
            mesh.restoreEndpoint(replica, name: replicas.info[replica.index].name, at: sim.now)
            router.endpointRestored(replica, at: sim.now)
        }
    }
}
