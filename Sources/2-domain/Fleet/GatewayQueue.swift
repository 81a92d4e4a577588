import DequeModule

/// One pool's gateway queue under flow control: critical requests ahead of standard ones, first come first
/// served within each. Requests that ended while queued (their deadline, a workload timeout) stay until they
/// reach the front and are skipped there, so removal is O(1); ``FlowControl`` counts the ones still waiting.
struct GatewayQueue {
    private var critical = Deque<RequestID>()
    private var standard = Deque<RequestID>()

    /// Entries, including requests that ended while queued.
    var count: Int { critical.count + standard.count }
    var isEmpty: Bool { critical.isEmpty && standard.isEmpty }

    mutating func append(_ id: RequestID, critical isCritical: Bool) {
        if isCritical { critical.append(id) } else { standard.append(id) }
    }

    /// Removes the newest standard entry (to make room for a critical request); nil if there is none.
    mutating func popNewestStandard() -> RequestID? { standard.popLast() }

    /// The next request to dispatch.
    mutating func popFirst() -> RequestID? { critical.popFirst() ?? standard.popFirst() }
}

/// What the gateway did with requests that found their pool saturated.
public struct GatewayCounts: Sendable, Equatable {
    /// Requests that waited in a gateway queue.
    public var queued = 0
    /// Sheddable requests rejected because their pool was saturated.
    public var shed = 0
    /// Requests rejected after waiting `maxWait` in the queue.
    public var expired = 0
    /// Requests rejected because the queue was full (or displaced by a critical one).
    public var overflowed = 0

    public init() {}
}
