/// Identifies one scheduled event, so that it can be cancelled.
public struct EventID: Hashable, Sendable {
    /// The event's position in the total order among events at the same time.
    public let sequence: UInt64
    @inlinable init(sequence: UInt64) { self.sequence = sequence }
}

/// A pending event: its key `(time, sequence)` and payload.
@usableFromInline
struct PendingEvent<Event>: Comparable {
    @usableFromInline let time: SimTime
    @usableFromInline let sequence: UInt64
    @usableFromInline let event: Event

    @inlinable init(time: SimTime, sequence: UInt64, event: Event) {
        self.time = time
        self.sequence = sequence
        self.event = event
    }

    @inlinable static func < (a: Self, b: Self) -> Bool {
        a.time.nanoseconds != b.time.nanoseconds
            ? a.time.nanoseconds < b.time.nanoseconds : a.sequence < b.sequence
    }
    @inlinable static func == (a: Self, b: Self) -> Bool { a.time == b.time && a.sequence == b.sequence }
}

/// The future event list, in one total order: `(time, sequence)`.
///
/// `sequence` counts every `schedule` call, so events at the same time leave in the order they were
/// scheduled (FIFO). A heap is unstable by nature; the sequence number is what makes the order total.
public struct EventQueue<Event> {
    @usableFromInline var heap = EventHeap<PendingEvent<Event>>()
    @usableFromInline var nextSequence: UInt64 = 0
    /// Sequences of cancelled events still in the heap. Only membership is asked, never iteration.
    @usableFromInline var cancelled = Set<UInt64>()

    public init() {}

    /// Events still pending, including cancelled ones not yet popped.
    public var count: Int { heap.count }
    /// Whether no live event remains.
    /// `heap.count == cancelled.count` alone is not enough: a repeated cancel after the entry was dropped
    /// (or a cancel after the event ran) leaves a stale id in `cancelled`. O(1) unless every entry might be cancelled.
    public var isEmpty: Bool {
        if heap.count > cancelled.count { return false }  // some entry is surely live
        return heap.storage.allSatisfy { cancelled.contains($0.sequence) }
    }

    /// Adds an event.
    /// - Complexity: O(log n).
    @inlinable @discardableResult
    public mutating func schedule(_ event: Event, at time: SimTime) -> EventID {
        let sequence = nextSequence
        nextSequence &+= 1
        heap.push(PendingEvent(time: time, sequence: sequence, event: event))
        return EventID(sequence: sequence)
    }

    /// Cancels a pending event; it will never be returned by ``popNext()``. Cancelling twice does nothing.
    ///
    /// The event must still be pending: cancelling one that already ran is a programmer error
    /// (its id would linger in the cancelled set). Owners clear their stored `EventID` when it fires.
    /// - Complexity: O(1); the entry is dropped lazily when it reaches the front.
    @inlinable public mutating func cancel(_ id: EventID) {
        if id.sequence < nextSequence { cancelled.insert(id.sequence) }
    }

    /// The time of the next live event, if any.
    /// - Complexity: O(1) amortized (drops cancelled entries at the front).
    @inlinable public mutating func nextTime() -> SimTime? {
        dropCancelledFront()
        return heap.min?.time
    }

    /// Removes and returns the next live event in `(time, sequence)` order.
    /// - Complexity: O(log n).
    @inlinable public mutating func popNext() -> (time: SimTime, id: EventID, event: Event)? {
        dropCancelledFront()
        guard let next = heap.popMin() else { return nil }
        return (next.time, EventID(sequence: next.sequence), next.event)
    }

    /// Removes and returns the next live event if its time is at most `limit`.
    /// - Complexity: O(log n).
    @inlinable public mutating func popNext(through limit: SimTime) -> (time: SimTime, id: EventID, event: Event)? {
        dropCancelledFront()
        guard let front = heap.min, front.time <= limit else { return nil }
        _ = heap.popMin()
        return (front.time, EventID(sequence: front.sequence), front.event)
    }

    @inlinable mutating func dropCancelledFront() {
        guard !cancelled.isEmpty else { return }
        while let front = heap.min, cancelled.remove(front.sequence) != nil {
            _ = heap.popMin()
        }
        // With nothing pending, whatever is left in `cancelled` is stale: forget it.
        if heap.count == 0 { cancelled.removeAll(keepingCapacity: true) }
    }
}
