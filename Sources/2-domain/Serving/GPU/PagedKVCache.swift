/// A vLLM-style paged KV cache: fixed-size blocks, reference counts, and automatic prefix caching.
///
/// Only blocks that hold a shareable prefix need an identity; every other block is interchangeable, so the
/// cache counts them instead of tracking each one. That keeps a decode step's block growth O(1) however
/// large the batch. Blocks are in one of three states:
/// - *held*: by one or more sequences (anonymous blocks, or identity blocks with a reference count);
/// - *cached free*: identity blocks no sequence holds, kept for reuse, in an LRU queue (least recently
///   freed first), evicted only when allocation needs their space;
/// - *empty*: everything else.
public struct PagedKVCache: Sendable {
    /// Tokens per block (vLLM's `block-size`).
    public let blockSize: Int
    /// Blocks in the cache.
    public let totalBlocks: Int

    /// Blocks held by sequences, anonymous or not.
    public private(set) var heldBlocks = 0
    /// Identity blocks that no sequence holds (reusable until evicted).
    public private(set) var cachedFreeBlocks = 0

    // Identity blocks, by record index.
    private var hashOf: [UInt64] = []
    private var references: [Int32] = []
    private var previous: [Int32] = []
    private var next: [Int32] = []
    private var unusedRecords: [Int32] = []
    private var hashIndex: [UInt64: Int32] = [:]
    private var front: Int32 = -1
    private var back: Int32 = -1

    /// Cumulative prefix-cache look-ups and hits, in blocks.
    public private(set) var prefixQueries = 0
    public private(set) var prefixHits = 0

    /// Creates a cache of `totalBlocks` empty blocks of `blockSize` tokens.
    public init(totalBlocks: Int, blockSize: Int) {
        precondition(totalBlocks > 0 && blockSize > 0)
        self.blockSize = blockSize
        self.totalBlocks = totalBlocks
    }

    /// Blocks holding nothing.
    public var emptyBlocks: Int { totalBlocks - heldBlocks - cachedFreeBlocks }
    /// Blocks allocation could use now (empty, or cached and evictable).
    public var availableBlocks: Int { totalBlocks - heldBlocks }
    /// `vllm:kv_cache_usage_perc` as a fraction: blocks held by sequences over all blocks.
    public var usage: Double { Double(heldBlocks) / Double(totalBlocks) }
    /// Blocks needed to hold `tokens` tokens.
    public func blocks(forTokens tokens: Int) -> Int { (tokens + blockSize - 1) / blockSize }

    /// Takes `count` anonymous blocks, evicting the least recently freed cached prefixes if needed.
    /// All or nothing: returns false, taking none, when fewer are available.
    /// - Complexity: O(1) plus O(1) per eviction.
    public mutating func allocate(_ count: Int) -> Bool {
        guard count <= availableBlocks else { return false }
        var shortfall = count - emptyBlocks
        while shortfall > 0 {
            evictFront()
            shortfall -= 1
        }
        heldBlocks += count
        return true
    }

    /// Returns `count` anonymous blocks.
    public mutating func free(_ count: Int) {
        precondition(count >= 0 && count <= heldBlocks, "freeing \(count) of \(heldBlocks) held blocks")
        heldBlocks -= count
    }

    /// Takes the cached block holding `hash` for one more sequence; nil if it is not cached.
    /// Counts a prefix query, and a hit when found.
    public mutating func acquireCached(_ hash: UInt64) -> Int32? {
        prefixQueries += 1
        guard let record = hashIndex[hash] else { return nil }
        prefixHits += 1
        if references[Int(record)] == 0 {
            unlink(record)
            cachedFreeBlocks -= 1
            heldBlocks += 1
        }
        references[Int(record)] += 1
        return record
    }

    /// Records missed prefix look-ups (blocks that had to be computed).
    public mutating func recordMiss(count: Int = 1) { prefixQueries += count }

    /// Turns one of the caller's held anonymous blocks into the identity block for `hash`, so later
    /// requests can reuse it. Returns its record, or nil if that hash is already cached (the first copy
    /// wins, as in vLLM; the caller's block stays anonymous).
    public mutating func publish(hash: UInt64) -> Int32? {
        guard hashIndex[hash] == nil else { return nil }
        let record: Int32
        if let reused = unusedRecords.popLast() {
            record = reused
            hashOf[Int(record)] = hash
            references[Int(record)] = 1
        } else {
            record = Int32(hashOf.count)
            hashOf.append(hash)
            references.append(1)
            previous.append(-1)
            next.append(-1)
        }
        hashIndex[hash] = record
        return record
    }

    /// Releases one hold on an identity block; with no holder left it becomes cached free (queue tail).
    public mutating func release(_ record: Int32) {
        let index = Int(record)
        precondition(references[index] > 0, "releasing a free block")
        references[index] -= 1
        if references[index] == 0 {
            heldBlocks -= 1
            cachedFreeBlocks += 1
            append(record)
        }
    }

    /// Releases identity blocks in reverse order, so a sequence's later blocks are evicted first.
    public mutating func release(_ records: some BidirectionalCollection<Int32>) {
        for record in records.reversed() { release(record) }
    }

    /// Whether `hash` is cached (held or free).
    public func isCached(_ hash: UInt64) -> Bool { hashIndex[hash] != nil }

    /// Checks the block accounting and the LRU queue. Returns the first violation found, or nil.
    public func conservationViolation() -> String? {
        if heldBlocks < 0 || cachedFreeBlocks < 0 || emptyBlocks < 0 {
            return "held \(heldBlocks), cached free \(cachedFreeBlocks), total \(totalBlocks)"
        }
        var queued = 0
        var cursor = front
        var last: Int32 = -1
        while cursor >= 0 {
            let index = Int(cursor)
            if references[index] != 0 { return "record \(cursor) is queued but held" }
            if previous[index] != last { return "queue links broken at record \(cursor)" }
            queued += 1
            if queued > hashOf.count { return "queue has a cycle" }
            last = cursor
            cursor = next[index]
        }
        if last != back { return "queue tail is \(back), walked to \(last)" }
        if queued != cachedFreeBlocks { return "\(cachedFreeBlocks) cached free blocks but \(queued) queued" }
        let live = hashOf.count - unusedRecords.count
        if live != hashIndex.count { return "\(hashIndex.count) indexed hashes but \(live) live records" }
        let heldIdentity = hashIndex.values.reduce(0) { $0 + (references[Int($1)] > 0 ? 1 : 0) }
        if heldIdentity > heldBlocks { return "\(heldIdentity) held identity blocks exceed \(heldBlocks) held" }
        return nil
    }

    /// Drops every cached free block (a restarted engine's cache is empty); blocks held by sequences stay.
    /// - Complexity: O(cached free blocks).
    public mutating func evictAllCached() {
        while cachedFreeBlocks > 0 { evictFront() }
    }

    private mutating func evictFront() {
        let record = front
        precondition(record >= 0, "nothing to evict")
        unlink(record)
        hashIndex[hashOf[Int(record)]] = nil
        unusedRecords.append(record)
        cachedFreeBlocks -= 1
    }

    private mutating func unlink(_ record: Int32) {
        let index = Int(record)
        let before = previous[index], after = next[index]
        if before >= 0 { next[Int(before)] = after } else { front = after }
        if after >= 0 { previous[Int(after)] = before } else { back = before }
        previous[index] = -1
        next[index] = -1
    }

    private mutating func append(_ record: Int32) {
        let index = Int(record)
        previous[index] = back
        next[index] = -1
        if back >= 0 { next[Int(back)] = record } else { front = record }
        back = record
    }
}
