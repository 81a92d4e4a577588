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

/// The autoscaler component: a decision per autoscaled pool every sync period, provisioning delays, and
/// draining. It moves replicas through their lifecycle in ``ReplicaSet``; its own state is the orders in
/// flight, the recommendation history and the log of changes.
///
/// Events it owns: `.autoscale(pool)` and `.replicaReady(replica)`.
struct Autoscaler {
    private let pools: [PoolSpec]
    /// When each provisioning replica's latest order makes it ready.
    private var readyDue: [SimTime]
    /// Each autoscaled pool's recent recommendations, for scale-down stabilization.
    private var recommendations: [[(time: SimTime, replicas: Int)]]
    private(set) var events: [ScalingEvent] = []

    init(spec: FleetSpec, replicaCount: Int) {
        self.pools = spec.pools
        self.readyDue = Array(repeating: .zero, count: replicaCount)
        self.recommendations = Array(repeating: [], count: spec.pools.count)
    }

    /// Schedules each autoscaled pool's first decision.
    func start(in sim: inout Simulator<FleetEvent>) {
        for (index, pool) in pools.enumerated() {
            if let autoscaler = pool.autoscaler { sim.schedule(.autoscale(PoolID(index)), at: autoscaler.syncPeriod) }
        }
    }

    /// One decision for `pool`: provisions up at once, scales down only as far as the window's highest
    /// recommendation. `outstanding` (the router's counts, by replica index) tells whether a draining replica can stop at once.
    mutating func decide(
        _ pool: PoolID, replicas: inout ReplicaSet, outstanding: [Int], generating: Bool,
        in sim: inout Simulator<FleetEvent>
    ) {
        guard let autoscaler = pools[pool.index].autoscaler else { return }
        if generating { sim.schedule(.autoscale(pool), after: autoscaler.syncPeriod) }
        let slots = replicas.poolSlots[pool.index]
        let ready = slots.filter { replicas.states[$0.index] == .ready }
        let starting = slots.filter { replicas.states[$0.index] == .provisioning }
        let average =
            ready.isEmpty
            ? 0
            : ready.reduce(0.0) { $0 + autoscaler.metric.value(replicas[$1].gauges(now: sim.now)) }
                / Double(ready.count)
        let current = ready.count + starting.count
        let recommended = autoscaler.recommendation(current: current, average: average)
        var history = recommendations[pool.index].filter { sim.now - $0.time < autoscaler.scaleDownStabilization }
        history.append((sim.now, recommended))
        recommendations[pool.index] = history
        let desired = recommended > current ? recommended : history.map(\.replicas).max()!
        if desired > current {
            for replica in slots.filter({ replicas.states[$0.index] == .off }).prefix(desired - current) {
                replicas.setState(replica, .provisioning)
                readyDue[replica.index] = sim.now + autoscaler.provisioningDelay
                sim.schedule(.replicaReady(replica), after: autoscaler.provisioningDelay)
                log(replica, pool, .provisioning, desired: desired, metric: average, at: sim.now)
            }
        } else if desired < current {
            // Pending replicas are cancelled first (newest first), then the newest ready ones drain.
            var excess = current - desired
            for replica in starting.reversed() where excess > 0 {
                replicas.setState(replica, .off)
                log(replica, pool, .off, desired: desired, metric: average, at: sim.now)
                excess -= 1
            }
            for replica in ready.reversed() where excess > 0 {
                replicas.setState(replica, .draining)
                log(replica, pool, .draining, desired: desired, metric: average, at: sim.now)
                if outstanding[replica.index] == 0 { stop(replica, replicas: &replicas, at: sim.now) }
                excess -= 1
            }
        }
    }

    /// A provisioned replica starts serving, unless its order was cancelled meanwhile. Returns whether it did.
    mutating func replicaReady(_ replica: ReplicaID, replicas: inout ReplicaSet, at now: SimTime) -> Bool {
        // An order cancelled and placed again leaves its first timer behind: only the latest order's counts.
        guard replicas.states[replica.index] == .provisioning, readyDue[replica.index] == now else { return false }
        replicas.setState(replica, .ready)
        let pool = replicas.pool[replica.index]
        log(replica, pool, .ready, desired: replicas.ready[pool.index].count, metric: nil, at: now)
        return true
    }

    /// A replica's last request ended: a draining replica stops.
    mutating func lastRequestEnded(on replica: ReplicaID, replicas: inout ReplicaSet, at now: SimTime) {
        if replicas.states[replica.index] == .draining { stop(replica, replicas: &replicas, at: now) }
    }

    private mutating func stop(_ replica: ReplicaID, replicas: inout ReplicaSet, at now: SimTime) {
        replicas.setState(replica, .off)
        let pool = replicas.pool[replica.index]
        log(replica, pool, .off, desired: replicas.ready[pool.index].count, metric: nil, at: now)
    }

    private mutating func log(
        _ replica: ReplicaID, _ pool: PoolID, _ state: ReplicaState, desired: Int, metric: Double?, at now: SimTime
    ) {
        events.append(
            ScalingEvent(
                time: now, pool: pool, replica: replica, state: state, desiredReplicas: desired, metricValue: metric))
    }
}
