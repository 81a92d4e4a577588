/// An array indexed by request number whose oldest elements are dropped once retired, so a run holds only
/// the span of requests still in flight rather than every request it ever made.
///
/// Reading a dropped index gives `dropped` (code that meets an old id in a queue sees it as ended); writing
/// one changes nothing and is counted in `lateWrites`, which the run reports as an invariant violation.
///
/// Stored in one contiguous array whose dropped front is compacted away once it is the larger part, so an
/// access is one offset and a plain array access (the hot path writes records several times per request),
/// and dropping is amortized O(1) per element.
struct SlidingArray<Element> {
    /// The index of the first element still held.
    private(set) var base = 0
    private var storage: [Element] = []
    /// Where element `base` sits in `storage`.
    private var head = 0
    let dropped: Element
    private(set) var lateWrites = 0

    init(dropped: Element) { self.dropped = dropped }

    /// Elements ever appended (the next index).
    var count: Int { base + storage.count - head }
    /// The indexes still held.
    var indices: Range<Int> { base..<count }

    subscript(index: Int) -> Element {
        get { index >= base ? storage[index - base + head] : dropped }
        _modify {
            if index >= base {
                yield &storage[index - base + head]
            } else {
                var scratch = dropped
                yield &scratch
                lateWrites += 1
            }
        }
    }

    mutating func append(_ element: Element) { storage.append(element) }

    /// Drops the oldest `n` elements held.
    /// - Complexity: amortized O(`n`).
    mutating func dropOldest(_ n: Int) {
        precondition(n <= storage.count - head, "dropping more than is held")
        base += n
        head += n
        // Compact once the dropped front outweighs what is held: each element moves O(1) times on average.
        if head >= 64 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }
}
