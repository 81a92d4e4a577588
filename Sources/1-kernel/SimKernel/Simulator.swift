/// An event payload that can be folded into the run digest.
public protocol DigestibleEvent {
    /// A stable code for this event (kind and ids), mixed into the digest with the event's time.
    var digestCode: UInt64 { get }
}

/// A model driven by the simulator: it handles one event at a time and schedules new ones.
public protocol SimulationModel {
    associatedtype Event: DigestibleEvent
    /// Handles `event` at `simulator.now`.
    mutating func handle(_ event: Event, in simulator: inout Simulator<Event>)
    /// Called once when the clock reaches the horizon, before any draining. Stop generating work here.
    mutating func horizonReached(in simulator: inout Simulator<Event>)
}

extension SimulationModel {
    public mutating func horizonReached(in simulator: inout Simulator<Event>) {}
}

/// How a run ends.
public enum EndCondition: Sendable, Equatable {
    /// Stop at the horizon; events left pending are not processed.
    case stopAtHorizon
    /// At the horizon, tell the model, then keep processing until no event is left or `limit` is reached.
    case drain(limit: SimTime)
}

/// Why ``Simulator/run(_:horizon:end:progress:)`` returned.
public enum StopReason: Sendable, Equatable {
    /// The horizon was reached (``EndCondition/stopAtHorizon``).
    case horizon
    /// Draining emptied the event list.
    case drained
    /// Draining hit its limit with events still pending.
    case drainLimit
    /// The run processed its budget of events (``Simulator/run(_:horizon:end:eventLimit:progress:)``'s
    /// `eventLimit`) with events still pending, before the horizon or during the drain.
    case eventLimit
}

/// The simulation clock and future event list of one run.
///
/// A run is single-threaded and fully deterministic: events are processed in `(time, sequence)` order
/// (see ``EventQueue``), and every processed event's time and code are mixed into ``digest``.
public struct Simulator<Event: DigestibleEvent> {
    /// The current simulated time. It never goes back.
    @inlinable public var now: SimTime { currentTime }
    /// Events processed so far.
    @inlinable public var processedEvents: UInt64 { processedCount }
    @usableFromInline var currentTime: SimTime = .zero
    @usableFromInline var processedCount: UInt64 = 0
    /// The digest over every processed event's time and code.
    public var digest = RunDigest()
    @usableFromInline var queue = EventQueue<Event>()

    public init() {}

    /// Events pending (including cancelled ones not yet dropped).
    public var pendingEvents: Int { queue.count }

    /// Schedules `event` at an absolute time, which must not be in the past.
    @inlinable @discardableResult
    public mutating func schedule(_ event: Event, at time: SimTime) -> EventID {
        precondition(time >= now, "scheduling in the past: \(time) < \(now)")
        return queue.schedule(event, at: time)
    }

    /// Schedules `event` after a non-negative delay.
    @inlinable @discardableResult
    public mutating func schedule(_ event: Event, after delay: SimTime) -> EventID {
        precondition(delay.nanoseconds >= 0, "negative delay \(delay)")
        return queue.schedule(event, at: now + delay)
    }

    /// Cancels a pending event. See ``EventQueue/cancel(_:)``.
    @inlinable public mutating func cancel(_ id: EventID) { queue.cancel(id) }

    /// Runs `model` until the horizon, then ends as `end` says.
    ///
    /// - Parameters:
    ///   - eventLimit: the most events processed in all, counted from the simulator's creation: a bound on work
    ///     for callers that run untrusted input (the scenario fuzzer). Once reached, the run returns
    ///     ``StopReason/eventLimit`` at once, leaving the clock at the last event's time; if the horizon was
    ///     not reached, the model is not told (`horizonReached` is not called). Runs of scenarios have none.
    ///   - progress: called about every 65,536 events with the current time (for progress lines).
    @inlinable @discardableResult
    public mutating func run<Model: SimulationModel>(
        _ model: inout Model, horizon: SimTime, end: EndCondition = .stopAtHorizon, eventLimit: UInt64 = .max,
        progress: ((SimTime) -> Void)? = nil
    ) -> StopReason where Model.Event == Event {
        guard processEvents(&model, through: horizon, eventLimit: eventLimit, progress: progress) else {
            return .eventLimit
        }
        currentTime = Swift.max(currentTime, horizon)
        model.horizonReached(in: &self)
        switch end {
        case .stopAtHorizon:
            return .horizon
        case .drain(let limit):
            guard processEvents(&model, through: limit, eventLimit: eventLimit, progress: progress) else {
                return .eventLimit
            }
            if queue.nextTime() == nil { return .drained }
            currentTime = Swift.max(currentTime, limit)
            return .drainLimit
        }
    }

    /// Processes events with time ≤ `limit`; false if it stopped at `eventLimit` with such events left.
    ///
    /// Without a limit the loop is the one it always was: the budget's check per event exists only in runs
    /// that ask for it (the check cost 0.5% of the kernel benchmark's instructions).
    @inlinable
    mutating func processEvents<Model: SimulationModel>(
        _ model: inout Model, through limit: SimTime, eventLimit: UInt64, progress: ((SimTime) -> Void)?
    ) -> Bool where Model.Event == Event {
        if eventLimit == .max {
            while let next = queue.popNext(through: limit) { process(next, &model, progress: progress) }
            return true
        }
        while true {
            // The budget is checked before the pop, so no event is lost.
            if processedCount >= eventLimit { return queue.nextTime().map { $0 > limit } ?? true }
            guard let next = queue.popNext(through: limit) else { return true }
            process(next, &model, progress: progress)
        }
    }

    /// Hands one event to the model: the clock moves to it and the digest mixes it.
    @inlinable @inline(__always)
    mutating func process<Model: SimulationModel>(
        _ next: (time: SimTime, id: EventID, event: Event), _ model: inout Model, progress: ((SimTime) -> Void)?
    ) where Model.Event == Event {
        assert(next.time >= now, "time went back")
        currentTime = next.time
        processedCount &+= 1
        // One mix per event: the time and the event's code, combined by an odd multiplier (a bijection).
        digest.mix(UInt64(bitPattern: next.time.nanoseconds) &* 0x9e37_79b9_7f4a_7c15 ^ next.event.digestCode)
        model.handle(next.event, in: &self)
        if processedCount & 0xffff == 0, let progress { progress(now) }
    }
}
