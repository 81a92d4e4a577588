import Fleet
import Testing

/// The paged KV cache: block conservation, LRU eviction, prefix reuse.
@Suite struct PagedKVCacheTests {
    @Test func allocatesUntilFullThenRefuses() {
        var cache = PagedKVCache(totalBlocks: 4, blockSize: 16)
        let blocks = (0..<4).compactMap { _ in cache.allocate() }
        #expect(blocks == [0, 1, 2, 3])
        #expect(cache.allocate() == nil)
        #expect(cache.usage == 1)
        cache.free(blocks)
        #expect(cache.usage == 0)
        #expect(cache.blocks(forTokens: 33) == 3)
        #expect(cache.conservationViolation() == nil)
    }

    @Test func freedPrefixIsReusedUntilEvicted() {
        var cache = PagedKVCache(totalBlocks: 3, blockSize: 16)
        let a = cache.allocate()!, b = cache.allocate()!
        cache.publish(a, hash: 100)
        cache.publish(b, hash: 101)
        cache.free([a, b])
        // Both hashed blocks are free but still cached.
        #expect(cache.cachedPrefixLength([100, 101, 102]) == 2)
        #expect(cache.acquireCached(100) == a)
        #expect(cache.usedBlocks == 1)
        // Allocation takes the never-used block first, then the least recently freed: b (a is held).
        #expect(cache.allocate() == 2)
        #expect(cache.allocate() == b)
        #expect(cache.cachedPrefixLength([100, 101]) == 1)
        #expect(cache.prefixQueries == 1 && cache.prefixHits == 1)
        #expect(cache.conservationViolation() == nil)
    }

    @Test func aSequencesTailIsEvictedBeforeItsHead() {
        var cache = PagedKVCache(totalBlocks: 3, blockSize: 16)
        let blocks = (0..<3).map { _ in cache.allocate()! }
        for (offset, block) in blocks.enumerated() { cache.publish(block, hash: UInt64(10 + offset)) }
        cache.free(blocks)
        #expect(cache.allocate() == blocks[2])
        #expect(cache.cachedPrefixLength([10, 11, 12]) == 2)
    }

    @Test func sharedBlocksAreFreedOnlyByTheirLastHolder() {
        var cache = PagedKVCache(totalBlocks: 2, blockSize: 16)
        let block = cache.allocate()!
        cache.publish(block, hash: 7)
        #expect(cache.acquireCached(7) == block)
        cache.free([block])
        #expect(cache.usedBlocks == 1)
        cache.free([block])
        #expect(cache.usedBlocks == 0)
        #expect(cache.conservationViolation() == nil)
    }

    /// Random allocate / acquire / publish / free sequences over 500 seeds: blocks are conserved at every
    /// step, and the used count matches a reference count kept by the test.
    @Test(arguments: 0..<500)
    func blocksAreConservedUnderRandomOperations(seed: Int) {
        let stream = RandomStream(name: "test/kv", runSeed: UInt64(seed))
        var cache = PagedKVCache(totalBlocks: 1 + stream.integer(below: 12), blockSize: 4)
        var holders: [[Int32]] = []
        var nextHash: UInt64 = 1
        for _ in 0..<200 {
            switch stream.integer(below: 4) {
            case 0:
                var owned: [Int32] = []
                for _ in 0...stream.integer(below: 3) {
                    guard let block = cache.allocate() else { break }
                    if stream.uniform() < 0.5 {
                        cache.publish(block, hash: nextHash % 7)
                        nextHash += 1
                    }
                    owned.append(block)
                }
                if !owned.isEmpty { holders.append(owned) }
            case 1:
                if let block = cache.acquireCached(UInt64(stream.integer(below: 7))) { holders.append([block]) }
            default:
                if !holders.isEmpty { cache.free(holders.remove(at: stream.integer(below: holders.count))) }
            }
            let distinct = Set(holders.joined()).count
            #expect(cache.usedBlocks == distinct)
            if let violation = cache.conservationViolation() {
                Issue.record("seed \(seed): \(violation)")
                return
            }
        }
    }
}
