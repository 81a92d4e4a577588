import DequeModule

/// Settings of a queueing station: `servers` identical servers sharing one FIFO queue.
///
/// It is a validation model, not an LLM: with it a scenario expresses M/M/c, M/D/1 and M/G/c, and tests check
/// the kernel and the statistics against queueing theory.
public struct StationSpec: Sendable, Equatable {
    /// Servers sharing the queue (c).
    public var servers: Int
    /// Service time in seconds.
    public var serviceSeconds: Distribution
    /// Most requests that may wait (not counting those in service); nil is unbounded.
    public var maxQueue: Int?

    public init(servers: Int, serviceSeconds: Distribution, maxQueue: Int? = nil) {
        self.servers = servers
        self.serviceSeconds = serviceSeconds
        self.maxQueue = maxQueue
    }
}

/// A c-server FIFO station. Service times are drawn from the replica's own stream.
public final class StationReplica: ReplicaModel {
    public let kind = ReplicaKind.station.rawValue
    public var capacity: Int { spec.servers }

    private let spec: StationSpec
    private let serviceStream: RandomStream
    /// The request in each server, or nil when idle.
    private var slots: [RequestID?]
    /// Bumped when a slot's request is aborted, so its pending completion timer is recognized as stale.
    private var generations: [UInt32]
    private var freeSlots: [Int]
    private var waiting = Deque<RequestID>()
    /// Waiting requests that were aborted; skipped when they reach the front (O(1) abort).
    private var abortedWhileWaiting = Set<RequestID>()
    private var busyCount = 0
    private var lastChange = SimTime.zero
    private var integralsSoFar = ReplicaIntegrals()

    private static let completionTimer: UInt32 = 1

    public init(spec: StationSpec, serviceStream: RandomStream) {
        precondition(spec.servers > 0)
        self.spec = spec
        self.serviceStream = serviceStream
        self.slots = Array(repeating: nil, count: spec.servers)
        self.generations = Array(repeating: 0, count: spec.servers)
        self.freeSlots = Array((0..<spec.servers).reversed())
    }

    private var waitingCount: Int { waiting.count - abortedWhileWaiting.count }

    public func enqueue(_ request: ServingRequest, now: SimTime, effects: inout ReplicaEffects) {
        advance(to: now)
        if let slot = freeSlots.popLast() {
            start(request.id, in: slot, now: now, effects: &effects)
        } else if let maxQueue = spec.maxQueue, waitingCount >= maxQueue {
            effects.report(.rejected(request.id))
        } else {
            waiting.append(request.id)
        }
    }

    public func fire(_ timer: ReplicaTimer, now: SimTime, effects: inout ReplicaEffects) {
        precondition(timer.code == Self.completionTimer, "unknown station timer \(timer.code)")
        let slot = Int(timer.token & 0xffff_ffff)
        guard UInt32(timer.token >> 32) == generations[slot], let request = slots[slot] else { return }
        advance(to: now)
        effects.report(.firstToken(request))
        effects.report(.completed(request))
        release(slot, now: now, effects: &effects)
    }

    public func abort(_ request: RequestID, now: SimTime, effects: inout ReplicaEffects) -> Bool {
        advance(to: now)
        if let slot = slots.firstIndex(of: request) {
            generations[slot] &+= 1
            release(slot, now: now, effects: &effects)
            return true
        }
        // The fleet aborts only requests it routed here that have not ended, so one not in service is waiting.
        assert(waiting.contains(request), "\(request) aborted but not at this station")
        return abortedWhileWaiting.insert(request).inserted
    }

    public func gauges(now: SimTime) -> ReplicaGauges {
        ReplicaGauges(numRequestsWaiting: waitingCount, numRequestsRunning: busyCount)
    }

    public func integrals(now: SimTime) -> ReplicaIntegrals {
        advance(to: now)
        return integralsSoFar
    }

    private func start(_ request: RequestID, in slot: Int, now: SimTime, effects: inout ReplicaEffects) {
        slots[slot] = request
        busyCount += 1
        effects.report(.started(request))
        let service = SimTime.seconds(serviceStream.sample(spec.serviceSeconds))
        let token = UInt64(generations[slot]) << 32 | UInt64(slot)
        effects.schedule(ReplicaTimer(code: Self.completionTimer, token: token), at: now + service)
    }

    /// Frees `slot` and starts the next live waiting request in it, if any.
    private func release(_ slot: Int, now: SimTime, effects: inout ReplicaEffects) {
        slots[slot] = nil
        busyCount -= 1
        while let next = waiting.popFirst() {
            if abortedWhileWaiting.isEmpty || abortedWhileWaiting.remove(next) == nil {
                start(next, in: slot, now: now, effects: &effects)
                return
            }
        }
        freeSlots.append(slot)
    }

    private func advance(to now: SimTime) {
        let dt = Double(now.nanoseconds - lastChange.nanoseconds)
        if dt > 0 {
            integralsSoFar.busy += Double(busyCount) * dt
            integralsSoFar.occupancy += Double(busyCount + waitingCount) * dt
            lastChange = now
        }
    }
}
