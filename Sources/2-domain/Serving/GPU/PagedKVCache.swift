/// A vLLM-style paged KV cache: fixed-size blocks, reference counts, and automatic prefix caching.
///
/// A block is *free* when no sequence holds it. Free blocks wait in one LRU queue; a free block may still
/// hold a cached prefix (it has a hash), and stays reusable until allocation needs its space and evicts it
/// (the queue's front, the least recently freed, goes first). A cache hit on a free cached block takes it
/// out of the queue. All operations are O(1) per block: the queue is a doubly linked list over block
/// indexes, and the hash index is only looked up, never iterated.
public struct PagedKVCache: Sendable {
    /// Tokens per block (vLLM's `block-size`).
    public let blockSize: Int
    /// Blocks in the cache.
    public let totalBlocks: Int

    private var refCount: [Int32]
    /// The prefix hash a block holds, if it is a full, hashed block.
    private var blockHash: [UInt64?]
    private var hashIndex: [UInt64: Int32] = [:]
    // The free queue: front = least recently freed (evicted first).
    private var previous: [Int32]
    private var next: [Int32]
    private var front: Int32 = -1
    private var back: Int32 = -1
    /// Blocks in the free queue (cached or not).
    public private(set) var freeCount: Int

    /// Cumulative prefix-cache look-ups and hits, in blocks.
    public private(set) var prefixQueries = 0
    public private(set) var prefixHits = 0

    /// Creates a cache of `totalBlocks` empty blocks of `blockSize` tokens.
    public init(totalBlocks: Int, blockSize: Int) {
        precondition(totalBlocks > 0 && blockSize > 0)
        self.blockSize = blockSize
        self.totalBlocks = totalBlocks
        refCount = Array(repeating: 0, count: totalBlocks)
        blockHash = Array(repeating: nil, count: totalBlocks)
        previous = (0..<totalBlocks).map { Int32($0 - 1) }
        next = (0..<totalBlocks).map { $0 + 1 < totalBlocks ? Int32($0 + 1) : -1 }
        front = 0
        back = Int32(totalBlocks - 1)
        freeCount = totalBlocks
    }

    /// Blocks held by sequences.
    public var usedBlocks: Int { totalBlocks - freeCount }
    /// `vllm:kv_cache_usage_perc` as a fraction: blocks held by sequences over all blocks.
    public var usage: Double { Double(usedBlocks) / Double(totalBlocks) }
    /// Blocks needed to hold `tokens` tokens.
    public func blocks(forTokens tokens: Int) -> Int { (tokens + blockSize - 1) / blockSize }

    /// Takes one free block for a sequence, evicting its cached prefix if it had one; nil when none is free.
    public mutating func allocate() -> Int32? {
        guard front >= 0 else { return nil }
        let block = front
        unlink(block)
        if let hash = blockHash[Int(block)] {
            hashIndex[hash] = nil
            blockHash[Int(block)] = nil
        }
        refCount[Int(block)] = 1
        return block
    }

    /// Counts how many leading blocks of `hashes` are cached (held or free), without taking them.
    public func cachedPrefixLength(_ hashes: some Sequence<UInt64>) -> Int {
        var count = 0
        for hash in hashes {
            guard hashIndex[hash] != nil else { break }
            count += 1
        }
        return count
    }

    /// Takes the cached block holding `hash` for one more sequence; nil if it is not cached.
    /// Counts a prefix query, and a hit when found.
    public mutating func acquireCached(_ hash: UInt64) -> Int32? {
        prefixQueries += 1
        guard let block = hashIndex[hash] else { return nil }
        prefixHits += 1
        if refCount[Int(block)] == 0 { unlink(block) }
        refCount[Int(block)] += 1
        return block
    }

    /// Records a missed prefix look-up (a block that had to be computed).
    public mutating func recordMiss(count: Int = 1) { prefixQueries += count }

    /// Marks a full block as holding the prefix `hash`, so later requests can reuse it. If another block
    /// already holds that hash, this block stays uncached (the first copy wins, as in vLLM).
    public mutating func publish(_ block: Int32, hash: UInt64) {
        precondition(refCount[Int(block)] > 0, "publishing a free block")
        guard blockHash[Int(block)] == nil, hashIndex[hash] == nil else { return }
        blockHash[Int(block)] = hash
        hashIndex[hash] = block
    }

    /// Releases a sequence's blocks. Pass them in the sequence's order: they are queued last block first,
    /// so a sequence's tail is evicted before its (more shareable) head.
    public mutating func free(_ blocks: some BidirectionalCollection<Int32>) {
        for block in blocks.reversed() {
            let index = Int(block)
            precondition(refCount[index] > 0, "double free of block \(block)")
            refCount[index] -= 1
            if refCount[index] == 0 { append(block) }
        }
    }

    /// Checks that every block is either held (refcount > 0) or in the free queue exactly once, and that
    /// the hash index and the blocks agree. Returns a description of the first violation, or nil.
    public func conservationViolation() -> String? {
        var inQueue = Array(repeating: false, count: totalBlocks)
        var queued = 0
        var cursor = front
        var last: Int32 = -1
        while cursor >= 0 {
            let index = Int(cursor)
            if inQueue[index] { return "block \(cursor) is in the free queue twice" }
            if refCount[index] != 0 { return "block \(cursor) is free but held \(refCount[index]) times" }
            if previous[index] != last { return "free queue links broken at block \(cursor)" }
            inQueue[index] = true
            queued += 1
            last = cursor
            cursor = next[index]
        }
        if last != back { return "free queue tail is \(back), walked to \(last)" }
        if queued != freeCount { return "free count \(freeCount) but \(queued) queued blocks" }
        for index in 0..<totalBlocks where !inQueue[index] && refCount[index] <= 0 {
            return "block \(index) is neither held nor free"
        }
        var hashed = 0
        for index in 0..<totalBlocks {
            guard let hash = blockHash[index] else { continue }
            hashed += 1
            if hashIndex[hash] != Int32(index) { return "block \(index) hash not indexed" }
        }
        if hashed != hashIndex.count { return "\(hashIndex.count) indexed hashes but \(hashed) hashed blocks" }
        return nil
    }

    private mutating func unlink(_ block: Int32) {
        let index = Int(block)
        let before = previous[index], after = next[index]
        if before >= 0 { next[Int(before)] = after } else { front = after }
        if after >= 0 { previous[Int(after)] = before } else { back = before }
        previous[index] = -1
        next[index] = -1
        freeCount -= 1
    }

    private mutating func append(_ block: Int32) {
        let index = Int(block)
        previous[index] = back
        next[index] = -1
        if back >= 0 { next[Int(back)] = block } else { front = block }
        back = block
        freeCount += 1
    }
}
