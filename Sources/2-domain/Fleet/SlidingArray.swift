import DequeModule

/// An array indexed by request number whose oldest elements are dropped once retired, so a run holds only
/// the span of requests still in flight rather than every request it ever made.
///
/// Reading a dropped index gives `dropped` (code that meets an old id in a queue sees it as ended); writing
/// one changes nothing and is counted in `lateWrites`, which the run reports as an invariant violation.
struct SlidingArray<Element> {
    /// The index of the first element still held.
    private(set) var base = 0
    private var storage = Deque<Element>()
    let dropped: Element
    private(set) var lateWrites = 0

    init(dropped: Element) { self.dropped = dropped }

    /// Elements ever appended (the next index).
    var count: Int { base + storage.count }
    /// The indexes still held.
    var indices: Range<Int> { base..<count }

    subscript(index: Int) -> Element {
        get { index >= base ? storage[index - base] : dropped }
        _modify {
            if index >= base {
                yield &storage[index - base]
            } else {
                var scratch = dropped
                yield &scratch
                lateWrites += 1
            }
        }
    }

    mutating func append(_ element: Element) { storage.append(element) }

    /// Drops the oldest `n` elements held.
    mutating func dropOldest(_ n: Int) {
        storage.removeFirst(n)
        base += n
    }
}
