/// Faults and health in the mesh: links, clusters and gateways going down, endpoints removed and restored,
/// outlier detection's ejections, and clients failing over to another cluster.
extension Mesh {
    func logFault(_ fault: FaultSpec, starting: Bool, at now: SimTime) {
        let name: String
        switch fault.kind {
        case .linkDown(let a, let b), .linkDegraded(let a, let b, _, _): name = "\(a)<->\(b)"
        case .clusterOutage(let c), .gatewayOutage(let c): name = c
        case .replicaCrash(let pool, let replica): name = "\(pool)/\(replica)"
        }
        log(starting ? .faultStart : .faultEnd, name, at: now, detail: Self.describe(fault.kind))
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

    /// Marks the link between clusters `a` and `b` down or up; returns their indexes.
    func setLinkDown(_ a: String, _ b: String, _ down: Bool) -> (Int, Int)? {
        guard let x = spec.clusterIndex(a), let y = spec.clusterIndex(b) else { return nil }
        linkDown[x][y] = down
        linkDown[y][x] = down
        return (x, y)
    }

    /// Adds latency and loss to the link between `a` and `b`, or takes them off.
    func setLinkDegraded(_ a: String, _ b: String, added: SimTime, loss: Double, _ starting: Bool) {
        guard let x = spec.clusterIndex(a), let y = spec.clusterIndex(b) else { return }
        let base = spec.link(x, y)?.loss ?? 0
        for (p, q) in [(x, y), (y, x)] {
            linkAdded[p][q] = starting ? added : .zero
            linkLoss[p][q] = starting ? min(1, base + loss) : base
            paths[p][q] = PathCost.of(spec, from: p, to: q, added: linkAdded[p][q])
        }
    }

    /// Marks a cluster (and its gateway) down or up; returns its index.
    func setClusterDown(_ name: String, _ down: Bool) -> Int? {
        guard let cluster = spec.clusterIndex(name) else { return nil }
        clusterDown[cluster] = down
        gatewayDown[cluster] = down
        return cluster
    }

    /// Marks a cluster's east-west gateway down or up; returns the cluster's index.
    func setGatewayDown(_ name: String, _ down: Bool) -> Int? {
        guard let cluster = spec.clusterIndex(name) else { return nil }
        gatewayDown[cluster] = down
        return cluster
    }

    /// Pooled connections between clusters `a` and `b` are gone.
    func dropConnections(between a: Int, _ b: Int) {
        let size = replicaCluster.count + spec.clusters.count
        for origin in [a, b] {
            for target in 0..<size {
                let cluster = target < replicaCluster.count ? replicaCluster[target] : target - replicaCluster.count
                if cluster == (origin == a ? b : a) { connectionPools[origin * size + target]?.dropAll() }
            }
        }
    }

    /// Marks a replica down (crashed) or up; false if it already was.
    func setReplicaDown(_ replica: ReplicaID, _ down: Bool) -> Bool {
        guard replicaDown[replica.index] != down else { return false }
        replicaDown[replica.index] = down
        return true
    }

    /// The replicas placed in any of `clusters`, in id order.
    func replicas(inAnyOf clusters: [Int]) -> [ReplicaID] {
        replicaCluster.indices.filter { clusters.contains(replicaCluster[$0]) }.map { ReplicaID($0) }
    }

    /// The cluster a replica is placed in.
    func cluster(of replica: ReplicaID) -> Int { replicaCluster[replica.index] }

    /// Requests delivered to `replica` and not ended.
    func requests(on replica: ReplicaID) -> [RequestID] { onReplica[replica.index] }

    /// Whether the request holds a stream of an east-west gateway.
    func holdsGatewayStream(_ id: RequestID) -> Bool { legs[id.index].viaGateway >= 0 }

    /// Kubernetes removes a replica's endpoint, if it is still down.
    func removeEndpoint(_ replica: ReplicaID, name: String, at now: SimTime) {
        guard replicaDown[replica.index], !endpointRemoved[replica.index] else { return }
        endpointRemoved[replica.index] = true
        log(.endpointRemoved, name, at: now)
    }

    /// A replica came back: its endpoint returns if it had been removed.
    func restoreEndpoint(_ replica: ReplicaID, name: String, at now: SimTime) {
        guard endpointRemoved[replica.index] else { return }
        endpointRemoved[replica.index] = false
        log(.endpointRestored, name, at: now)
    }

    /// The per-try timer of the request's current attempt fired.
    func perTryTimerFired(_ id: RequestID) { legs[id.index].perTryTimer = nil }

    /// Outlier detection's interval check: expired ejections end. `names` are each pool's replica names.
    func outlierCheck(names: [[String]], at now: SimTime) {
        for pool in detectors.indices {
            for slot in detectors[pool]?.check(at: now) ?? [] { log(.restored, names[pool][slot], at: now) }
        }
    }

    /// Clients of a cluster that is down move to the closest cluster that is up; back home when it returns.
    func moveOrigins(workloads: [String], at now: SimTime) {
        for (workload, home) in homeOrigin.enumerated() {
            var target = home
            if clusterDown[home] {
                let up = spec.clusters.indices.filter { !clusterDown[$0] }
                target =
                    up.min { spec.localityTier(from: home, to: $0) < spec.localityTier(from: home, to: $1) } ?? home
            }
            if target != origin[workload] {
                let from = spec.clusters[origin[workload]].name
                origin[workload] = target
                counts.failovers += 1
                log(.failover, workloads[workload], at: now, detail: "\(from) -> \(spec.clusters[target].name)")
            }
        }
    }
}
