/// Where a replica slot is in its life under an autoscaler.
public enum ReplicaState: String, Sendable, CaseIterable {
    /// Not provisioned.
    case off
    /// Ordered; serves once its provisioning delay has passed.
    case provisioning
    /// Takes requests.
    case ready
    /// Takes no new requests; stops when its last one ends.
    case draining
}

/// One change in a pool's size: a replica provisioned, ready, draining or stopped.
public struct ScalingEvent: Sendable, Equatable {
    public var time: SimTime
    public var pool: PoolID
    public var replica: ReplicaID
    /// The state the replica entered.
    public var state: ReplicaState
    /// The autoscaler's recommendation that caused it.
    public var desiredReplicas: Int
    /// The metric's average over the ready replicas at the decision; nil for a replica becoming ready or
    /// stopping, which no decision caused at that instant.
    public var metricValue: Double?

    public init(
        time: SimTime, pool: PoolID, replica: ReplicaID, state: ReplicaState, desiredReplicas: Int,
        metricValue: Double?
    ) {
        self.time = time
        self.pool = pool
        self.replica = replica
        self.state = state
        self.desiredReplicas = desiredReplicas
        self.metricValue = metricValue
    }
}

/// The autoscaler: decisions every sync period, provisioning, and draining.
extension FleetModel {
    mutating func autoscale(_ pool: PoolID, in sim: inout Simulator<FleetEvent>) {
        guard let autoscaler = spec.pools[pool.index].autoscaler else { return }
        if generating { sim.schedule(.autoscale(pool), after: autoscaler.syncPeriod) }
        let slots = poolSlots[pool.index]
        let ready = slots.filter { replicaStates[$0.index] == .ready }
        let starting = slots.filter { replicaStates[$0.index] == .provisioning }
        let average =
            ready.isEmpty
            ? 0
            : ready.reduce(0.0) { $0 + autoscaler.metric.value(replicas[$1.index].gauges(now: sim.now)) }
                / Double(ready.count)
        let current = ready.count + starting.count
        let recommended = autoscaler.recommendation(current: current, average: average)
        var history = recommendations[pool.index].filter { sim.now - $0.time < autoscaler.scaleDownStabilization }
        history.append((sim.now, recommended))
        recommendations[pool.index] = history
        // Up at once; down only as far as the highest recommendation of the window.
        let desired = recommended > current ? recommended : history.map(\.replicas).max()!
        if desired > current {
            for replica in slots.filter({ replicaStates[$0.index] == .off }).prefix(desired - current) {
                replicaStates[replica.index] = .provisioning
                readyDue[replica.index] = sim.now + autoscaler.provisioningDelay
                sim.schedule(.replicaReady(replica), after: autoscaler.provisioningDelay)
                log(replica, .provisioning, desired: desired, metric: average, at: sim.now)
            }
        } else if desired < current {
            // Pending replicas are cancelled first (newest first), then the newest ready ones drain.
            var excess = current - desired
            for replica in starting.reversed() where excess > 0 {
                replicaStates[replica.index] = .off
                log(replica, .off, desired: desired, metric: average, at: sim.now)
                excess -= 1
            }
            for replica in ready.reversed() where excess > 0 {
                replicaStates[replica.index] = .draining
                poolReplicas[pool.index].removeAll { $0 == replica }
                log(replica, .draining, desired: desired, metric: average, at: sim.now)
                if outstanding[replica.index] == 0 { stopReplica(replica, at: sim.now) }
                excess -= 1
            }
        }
    }

    /// A provisioned replica starts serving (unless its order was cancelled meanwhile).
    mutating func replicaReady(_ replica: ReplicaID, in sim: inout Simulator<FleetEvent>) {
        // An order cancelled and placed again leaves its first timer behind: only the latest order's counts.
        guard replicaStates[replica.index] == .provisioning, readyDue[replica.index] == sim.now else { return }
        replicaStates[replica.index] = .ready
        let pool = replicaPool[replica.index]
        poolReplicas[pool.index].append(replica)
        poolReplicas[pool.index].sort { $0.index < $1.index }
        log(replica, .ready, desired: poolReplicas[pool.index].count, metric: nil, at: sim.now)
        if spec.router.flowControl != nil { dispatchWaiting(pool: pool, in: &sim) }
    }

    /// A draining replica's last request ended.
    mutating func stopReplica(_ replica: ReplicaID, at now: SimTime) {
        replicaStates[replica.index] = .off
        log(replica, .off, desired: poolReplicas[replicaPool[replica.index].index].count, metric: nil, at: now)
    }

    private mutating func log(
        _ replica: ReplicaID, _ state: ReplicaState, desired: Int, metric: Double?, at now: SimTime
    ) {
        scalingEvents.append(
            ScalingEvent(
                time: now, pool: replicaPool[replica.index], replica: replica, state: state, desiredReplicas: desired,
                metricValue: metric))
    }
}
