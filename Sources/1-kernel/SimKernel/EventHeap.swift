/// A binary min-heap over an array, fully `@inlinable` so that it specializes for each event type.
///
/// Why not swift-collections' `Heap`: in version 1.6 its sift operations are not specialized across modules,
/// and the kernel benchmark measured about 2 µs per event spent in generic metadata look-ups. This heap keeps
/// the hold benchmark at tens of millions of events per second. Order among equal elements is unspecified;
/// ``EventQueue`` makes every key unique.
@usableFromInline
struct EventHeap<Element: Comparable> {
    @usableFromInline var storage: [Element] = []

    @inlinable init() {}

    @inlinable var count: Int { storage.count }

    /// The smallest element.
    /// - Complexity: O(1).
    @inlinable var min: Element? { storage.first }

    /// Adds an element.
    /// - Complexity: O(log n).
    @inlinable mutating func push(_ element: Element) {
        storage.append(element)
        storage.withUnsafeMutableBufferPointer { heap in
            // Move parents down into the hole until `element` fits, then write it once.
            var hole = heap.count - 1
            while hole > 0 {
                let parent = (hole - 1) / 2
                guard element < heap[parent] else { break }
                heap[hole] = heap[parent]
                hole = parent
            }
            heap[hole] = element
        }
    }

    /// Removes and returns the smallest element.
    /// - Complexity: O(log n).
    @inlinable mutating func popMin() -> Element? {
        guard let last = storage.popLast() else { return nil }
        guard !storage.isEmpty else { return last }
        let top = storage[0]
        storage.withUnsafeMutableBufferPointer { heap in
            // Sift the hole at the root down, then drop `last` into it.
            var hole = 0
            let count = heap.count
            while true {
                var child = 2 * hole + 1
                guard child < count else { break }
                if child + 1 < count && heap[child + 1] < heap[child] { child += 1 }
                guard heap[child] < last else { break }
                heap[hole] = heap[child]
                hole = child
            }
            heap[hole] = last
        }
        return top
    }
}
