/// The gateway's flow control, part of the router: when a pool is saturated, sheddable requests are rejected
/// and the rest wait in a per-pool priority queue, each with a deadline, until the pool has room.
///
/// Events it owns: `.gatewayDeadline(request)`.
struct FlowControl {
    /// What to do with a request that arrives for a saturated pool, or one where others already wait.
    enum Admission: Equatable {
        /// Reject it (shed, or the queue is full).
        case reject
        /// Queue it, after rejecting the request it displaced, if any.
        case queue(displacing: RequestID?)
    }

    let spec: FlowControlSpec?
    private var queues: [GatewayQueue]
    /// The requests waiting, with their deadlines.
    private var deadlines: [RequestID: EventID] = [:]
    private(set) var counts = GatewayCounts()

    init(spec: FlowControlSpec?, pools: Int) {
        self.spec = spec
        self.queues = Array(repeating: GatewayQueue(), count: pools)
    }

    var isOn: Bool { spec != nil }
    /// Whether any request waits at any pool's gateway.
    var hasWaiting: Bool { !deadlines.isEmpty }
    func isWaiting(_ id: RequestID) -> Bool { !deadlines.isEmpty && deadlines[id] != nil }
    func hasQueue(_ pool: PoolID) -> Bool { !queues[pool.index].isEmpty }

    /// Decides for a request of `criticality` arriving for `pool`, which is saturated or has a queue.
    mutating func admit(criticality: Criticality, pool: PoolID, in sim: inout Simulator<FleetEvent>) -> Admission {
        let spec = spec!
        if criticality == .sheddable {
            counts.shed += 1
            return .reject
        }
        guard queues[pool.index].count >= spec.maxQueue else { return .queue(displacing: nil) }
        counts.overflowed += 1
        guard criticality == .critical, let displaced = queues[pool.index].displaceNewestStandard() else {
            return .reject
        }
        forget(displaced, in: &sim)
        return .queue(displacing: displaced)
    }

    /// Puts a request in its pool's queue, with its deadline.
    mutating func enqueue(_ id: RequestID, critical: Bool, pool: PoolID, in sim: inout Simulator<FleetEvent>) {
        counts.queued += 1
        queues[pool.index].append(id, critical: critical)
        deadlines[id] = sim.schedule(.gatewayDeadline(id), after: spec!.maxWait)
    }

    /// The next request of `pool`'s queue that still waits, its deadline cancelled; nil when none is left.
    mutating func next(_ pool: PoolID, in sim: inout Simulator<FleetEvent>) -> RequestID? {
        while let id = queues[pool.index].popFirst() {
            // Requests that ended while they waited (their deadline or a workload timeout) are skipped.
            guard let deadline = deadlines.removeValue(forKey: id) else { continue }
            sim.cancel(deadline)
            return id
        }
        return nil
    }

    /// The request no longer waits (it ended); its deadline is cancelled.
    mutating func forget(_ id: RequestID, in sim: inout Simulator<FleetEvent>) {
        if !deadlines.isEmpty, let deadline = deadlines.removeValue(forKey: id) { sim.cancel(deadline) }
    }

    /// A request's deadline passed: true if it was still waiting (it is then rejected).
    mutating func deadlinePassed(_ id: RequestID) -> Bool {
        guard deadlines.removeValue(forKey: id) != nil else { return false }
        counts.expired += 1
        return true
    }
}
