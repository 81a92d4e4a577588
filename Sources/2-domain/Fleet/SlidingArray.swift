/// An array indexed by request number whose oldest elements are dropped once retired, so a run holds only
/// the span of requests still in flight rather than every request it ever made.
///
/// Reading a dropped index gives `dropped` (code that meets an old id in a queue sees it as ended); writing
/// one changes nothing and is counted in `lateWrites`, which the run reports as an invariant violation.
///
/// A ring buffer over one contiguous array whose size is a power of two: an access is a mask and a plain
/// array access, inlined (the hot path writes records several times per request; swift-collections' `Deque`
/// costs a non-inlined coroutine per write there), and memory stays within twice the span held.
struct SlidingArray<Element> {
    /// The index of the first element still held.
    private(set) var base = 0
    /// Elements held.
    private var held = 0
    private var ring: [Element] = []
    /// Where element `base` sits in `ring`.
    private var head = 0
    let dropped: Element
    private(set) var lateWrites = 0

    init(dropped: Element) { self.dropped = dropped }

    /// Elements ever appended (the next index).
    var count: Int { base + held }
    /// The indexes still held.
    var indices: Range<Int> { base..<count }

    @inline(__always) private func slot(_ index: Int) -> Int { (head + index - base) & (ring.count - 1) }

    /// Runs `body` on the element in place, as the subscript's `_modify` does; inlined, so a write of several fields
    /// does not go through a coroutine (which, not inlined, allocates its frame: a malloc and a free per write).
    @inline(__always)
    mutating func update<Result>(_ index: Int, _ body: (inout Element) -> Result) -> Result {
        if index >= base { return body(&ring[slot(index)]) }
        var scratch = dropped
        lateWrites += 1
        return body(&scratch)
    }

    subscript(index: Int) -> Element {
        get { index >= base ? ring[slot(index)] : dropped }
        _modify {
            if index >= base {
                yield &ring[slot(index)]
            } else {
                var scratch = dropped
                yield &scratch
                lateWrites += 1
            }
        }
    }

    /// - Complexity: amortized O(1).
    mutating func append(_ element: Element) {
        if held == ring.count { grow() }
        ring[(head + held) & (ring.count - 1)] = element
        held += 1
    }

    /// Drops the oldest `n` elements held.
    mutating func dropOldest(_ n: Int) {
        precondition(n <= held, "dropping more than is held")
        // The dropped slots keep their old values until overwritten; `dropped` is what reads of them see.
        base += n
        held -= n
        head = held == 0 ? 0 : (head + n) & (ring.count - 1)
    }

    /// Doubles the ring (it is full), laying the held elements out from slot 0 with bulk copies.
    private mutating func grow() {
        // Start at 1,024: a fleet holds hundreds of requests at once within moments of starting.
        let size = Swift.max(1_024, ring.count * 2)
        var bigger: [Element] = []
        bigger.reserveCapacity(size)
        bigger.append(contentsOf: ring[head...])
        bigger.append(contentsOf: ring[..<head])
        bigger.append(contentsOf: repeatElement(dropped, count: size - held))
        ring = bigger
        head = 0
    }
}
