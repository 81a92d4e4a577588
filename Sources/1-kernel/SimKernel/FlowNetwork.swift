/// Fluid flows over shared links: bytes that cross several links at once (a NIC, a switch, a WAN link), each
/// link's bandwidth split among the flows crossing it by max-min fairness (progressive filling), as TCP and
/// RDMA congestion control approximate. Rates change only when a flow starts or ends, so between those moments
/// every flow drains at a constant rate and the next completion is known exactly.
///
/// A value type with no events of its own: its owner schedules one event at ``nextCompletion`` and calls
/// ``completeDue(at:)`` when it fires; ``generation`` tells a stale event from the current one. Flows are kept
/// and visited in start order, so the arithmetic (and every result) is the same in every process.
public struct FlowNetwork: Sendable {
    /// A link, by index in the order links were added.
    public struct Link: Hashable, Sendable {
        public let index: Int
    }

    /// A flow, by a number that is never reused.
    public struct Flow: Hashable, Sendable {
        public let number: Int
    }

    private struct Active {
        let flow: Flow
        let links: [Int]
        let bytes: Double
        var remaining: Double
        var rate = 0.0
        let started: SimTime
    }

    private var capacity: [Double] = []
    private var active: [Active] = []
    private var nextNumber = 0
    private var updatedAt = SimTime.zero
    /// Bumped whenever the rates change; an event scheduled for an older generation is stale.
    public private(set) var generation: UInt64 = 0

    public init() {}

    /// Adds a link of `bytesPerSecond` (> 0).
    /// - Complexity: O(1).
    public mutating func addLink(bytesPerSecond: Double) -> Link {
        precondition(bytesPerSecond > 0 && bytesPerSecond.isFinite, "a link needs a positive bandwidth")
        capacity.append(bytesPerSecond)
        return Link(index: capacity.count - 1)
    }

    /// A link's bandwidth in bytes per second.
    public func bandwidth(_ link: Link) -> Double { capacity[link.index] }

    /// Flows in progress.
    public var count: Int { active.count }

    /// Starts `bytes` (> 0) over `links` (at least one) at `now`; the rates of every flow sharing a link with it
    /// change.
    /// - Complexity: O(flows × links) to recompute the rates.
    public mutating func start(bytes: Double, over links: [Link], now: SimTime) -> Flow {
        precondition(bytes > 0 && !links.isEmpty, "a flow moves bytes over at least one link")
        advance(to: now)
        let flow = Flow(number: nextNumber)
        nextNumber += 1
        active.append(Active(flow: flow, links: links.map(\.index), bytes: bytes, remaining: bytes, started: now))
        reallocate()
        return flow
    }

    /// Drops a flow before it ends (its transfer was abandoned); false if it is not in progress.
    public mutating func cancel(_ flow: Flow, now: SimTime) -> Bool {
        guard let position = active.firstIndex(where: { $0.flow == flow }) else { return false }
        advance(to: now)
        active.remove(at: position)
        reallocate()
        return true
    }

    /// When the next flow ends at the current rates; nil when none is in progress.
    public var nextCompletion: SimTime? {
        var earliest: Int64?
        for flow in active where flow.rate > 0 {
            let end = updatedAt.nanoseconds + Self.nanoseconds(flow.remaining / flow.rate)
            earliest = min(earliest ?? end, end)
        }
        return earliest.map { SimTime(nanoseconds: $0) }
    }

    /// Advances to `now` and removes the flows that have ended by then, in start order, with the time each
    /// spent in flight.
    public mutating func completeDue(at now: SimTime) -> [(flow: Flow, bytes: Double, started: SimTime)] {
        advance(to: now)
        var done: [(Flow, Double, SimTime)] = []
        // A flow is done when less than a nanosecond's worth of bytes is left (rounding of the times).
        active.removeAll { flow in
            guard flow.remaining <= flow.rate * 1e-9 else { return false }
            done.append((flow.flow, flow.bytes, flow.started))
            return true
        }
        if !done.isEmpty { reallocate() }
        return done
    }

    /// The time to move `bytes` at `bytesPerSecond`, rounded up to whole nanoseconds (within a rounding error
    /// of an exact nanosecond, that nanosecond).
    public static func nanoseconds(_ seconds: Double) -> Int64 {
        let ns = seconds * 1e9
        let nearest = ns.rounded()
        return Int64((ns - nearest).magnitude <= 1e-6 + ns.magnitude * 1e-12 ? nearest : ns.rounded(.up))
    }

    /// Whether any flow in progress crosses `link`.
    public func carriesFlows(_ link: Link) -> Bool { active.contains { $0.links.contains(link.index) } }

    /// The rate a new flow over `links` would get now, bytes per second, without starting it: what a message too
    /// small to change anyone's rate pays for its bytes.
    /// - Complexity: O(flows × links).
    public func rateOfNewFlow(over links: [Link]) -> Double {
        var probe = self
        let flow = probe.start(bytes: 1, over: links, now: updatedAt)
        return probe.rate(flow)
    }

    /// The rate a flow gets now, bytes per second (0 if it is not in progress).
    public func rate(_ flow: Flow) -> Double { active.first { $0.flow == flow }?.rate ?? 0 }

    private mutating func advance(to now: SimTime) {
        precondition(now >= updatedAt, "flows advanced backwards")
        let seconds = Double(now.nanoseconds - updatedAt.nanoseconds) / 1e9
        if seconds > 0 {
            for index in active.indices {
                active[index].remaining = max(0, active[index].remaining - active[index].rate * seconds)
            }
        }
        updatedAt = now
    }

    /// Max-min fair rates by progressive filling: raise every unfrozen flow's rate together until a link is
    /// full, freeze the flows crossing it, and repeat with the rest.
    private mutating func reallocate() {
        generation &+= 1
        var residual = capacity
        var frozen = Array(repeating: false, count: active.count)
        for index in active.indices { active[index].rate = 0 }
        var unfrozen = active.count
        var crossing = Array(repeating: 0, count: capacity.count)
        while unfrozen > 0 {
            for link in crossing.indices { crossing[link] = 0 }
            for (index, flow) in active.enumerated() where !frozen[index] {
                for link in flow.links { crossing[link] += 1 }
            }
            var increment = Double.infinity
            for link in crossing.indices where crossing[link] > 0 {
                increment = min(increment, residual[link] / Double(crossing[link]))
            }
            for (index, flow) in active.enumerated() where !frozen[index] {
                active[index].rate += increment
                for link in flow.links { residual[link] -= increment }
            }
            // Freeze every flow that crosses a link now full.
            for (index, flow) in active.enumerated() where !frozen[index] {
                if flow.links.contains(where: { residual[$0] <= capacity[$0] * 1e-12 }) {
                    frozen[index] = true
                    unfrozen -= 1
                }
            }
        }
    }
}
