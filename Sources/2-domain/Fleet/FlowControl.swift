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
    /// The requests waiting, with their deadlines and pools. A queue also holds requests that ended while they
    /// waited, until they reach its front; only these are waiting.
    private var waiting: [RequestID: (deadline: EventID, pool: Int)] = [:]
    /// Requests waiting per pool: what `max-queue` bounds.
    private var waitingCount: [Int]
    private(set) var counts = GatewayCounts()

    init(spec: FlowControlSpec?, pools: Int) {
        self.spec = spec
        self.queues = Array(repeating: GatewayQueue(), count: pools)
        self.waitingCount = Array(repeating: 0, count: pools)
    }

    var isOn: Bool { spec != nil }
    /// Whether any request waits at any pool's gateway.
    var hasWaiting: Bool { !waiting.isEmpty }
    func isWaiting(_ id: RequestID) -> Bool { !waiting.isEmpty && waiting[id] != nil }
    /// Whether requests wait at `pool`'s gateway.
    func hasQueue(_ pool: PoolID) -> Bool { waitingCount[pool.index] > 0 }

    /// Decides for a request of `criticality` arriving for `pool`, which is saturated or has a queue.
    mutating func admit(criticality: Criticality, pool: PoolID, in sim: inout Simulator<FleetEvent>) -> Admission {
        let spec = spec!
        if criticality == .sheddable {
            counts.shed += 1
            return .reject
        }
        guard waitingCount[pool.index] >= spec.maxQueue else { return .queue(displacing: nil) }
        counts.overflowed += 1
        guard criticality == .critical else { return .reject }
        // The newest standard request still waiting; those that ended while queued are dropped on the way.
        while let displaced = queues[pool.index].popNewestStandard() {
            guard waiting[displaced] != nil else { continue }
            forget(displaced, in: &sim)
            return .queue(displacing: displaced)
        }
        return .reject
    }

    /// Puts a request in its pool's queue, with its deadline.
    mutating func enqueue(_ id: RequestID, critical: Bool, pool: PoolID, in sim: inout Simulator<FleetEvent>) {
        counts.queued += 1
        queues[pool.index].append(id, critical: critical)
        waiting[id] = (sim.schedule(.gatewayDeadline(id), after: spec!.maxWait), pool.index)
        waitingCount[pool.index] += 1
    }

    /// The next request of `pool`'s queue that still waits, its deadline cancelled; nil when none is left.
    mutating func next(_ pool: PoolID, in sim: inout Simulator<FleetEvent>) -> RequestID? {
        while let id = queues[pool.index].popFirst() {
            // Requests that ended while they waited (their deadline or a workload timeout) are skipped.
            guard let entry = waiting.removeValue(forKey: id) else { continue }
            waitingCount[entry.pool] -= 1
            sim.cancel(entry.deadline)
            return id
        }
        return nil
    }

    /// The request no longer waits (it ended); its deadline is cancelled.
    mutating func forget(_ id: RequestID, in sim: inout Simulator<FleetEvent>) {
        guard !waiting.isEmpty, let entry = waiting.removeValue(forKey: id) else { return }
        waitingCount[entry.pool] -= 1
        sim.cancel(entry.deadline)
    }

    /// A request's deadline passed: true if it was still waiting (it is then rejected).
    mutating func deadlinePassed(_ id: RequestID) -> Bool {
        guard let entry = waiting.removeValue(forKey: id) else { return false }
        waitingCount[entry.pool] -= 1
        counts.expired += 1
        return true
    }
}
