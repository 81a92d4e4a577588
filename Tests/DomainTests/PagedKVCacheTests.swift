import Fleet
import Testing

/// The paged KV cache: block accounting, LRU eviction of cached prefixes, prefix reuse.
@Suite struct PagedKVCacheTests {
    @Test func allocationIsAllOrNothing() {
        var cache = PagedKVCache(totalBlocks: 4, blockSize: 16)
        let r1 = cache.allocate(3)
        #expect(r1)
        let r2 = cache.allocate(2)
        #expect(!r2)
        #expect(cache.heldBlocks == 3)
        let r3 = cache.allocate(1)
        #expect(r3)
        #expect(cache.usage == 1)
        cache.free(4)
        #expect(cache.usage == 0)
        #expect(cache.blocks(forTokens: 33) == 3)
        #expect(cache.conservationViolation() == nil)
    }

    @Test func freedPrefixesStayCachedUntilSpaceIsNeeded() {
        var cache = PagedKVCache(totalBlocks: 3, blockSize: 16)
        let r4 = cache.allocate(2)
        #expect(r4)
        let a = cache.publish(hash: 100)!, b = cache.publish(hash: 101)!
        cache.release([a, b])
        #expect(cache.heldBlocks == 0 && cache.cachedFreeBlocks == 2)
        // Reuse one; then allocation takes the empty block before evicting anything.
        let r5 = cache.acquireCached(100)
        #expect(r5 == a)
        let r6 = cache.allocate(1)
        #expect(r6)
        #expect(cache.isCached(101))
        // Now the only way to get a block is to evict the free cached one.
        let r7 = cache.allocate(1)
        #expect(r7)
        #expect(!cache.isCached(101) && cache.isCached(100))
        let r8 = cache.allocate(1)
        #expect(!r8)
        #expect(cache.prefixQueries == 1 && cache.prefixHits == 1)
        #expect(cache.conservationViolation() == nil)
    }

    @Test func aSequencesLaterBlocksAreEvictedFirst() {
        var cache = PagedKVCache(totalBlocks: 3, blockSize: 16)
        let r9 = cache.allocate(3)
        #expect(r9)
        let records = (0..<3).map { cache.publish(hash: UInt64(10 + $0))! }
        cache.release(records)
        let r10 = cache.allocate(1)
        #expect(r10)
        #expect(cache.isCached(10) && cache.isCached(11) && !cache.isCached(12))
    }

    @Test func aSharedBlockIsFreedByItsLastHolder() {
        var cache = PagedKVCache(totalBlocks: 2, blockSize: 16)
        let r11 = cache.allocate(1)
        #expect(r11)
        let block = cache.publish(hash: 7)!
        let r12 = cache.publish(hash: 7)
        #expect(r12 == nil)
        let r13 = cache.acquireCached(7)
        #expect(r13 == block)
        cache.release(block)
        #expect(cache.heldBlocks == 1)
        cache.release(block)
        #expect(cache.heldBlocks == 0 && cache.cachedFreeBlocks == 1)
        #expect(cache.conservationViolation() == nil)
    }

    /// Random allocate / publish / acquire / free sequences over 500 seeds against a reference count of
    /// what the holders hold: the cache's held count always matches, and its accounting stays consistent.
    @Test(arguments: 0..<500)
    func blocksAreConservedUnderRandomOperations(seed: Int) {
        let stream = RandomStream(name: "test/kv", runSeed: UInt64(seed))
        var cache = PagedKVCache(totalBlocks: 1 + stream.integer(below: 12), blockSize: 4)
        struct Holder {
            var anonymous = 0
            var identity: [Int32] = []
        }
        var holders: [Holder] = []
        var heldIdentity: [Int32: Int] = [:]
        for _ in 0..<200 {
            switch stream.integer(below: 4) {
            case 0:
                let count = 1 + stream.integer(below: 3)
                guard cache.allocate(count) else { break }
                var holder = Holder(anonymous: count)
                if stream.uniform() < 0.5, let record = cache.publish(hash: UInt64(stream.integer(below: 7))) {
                    holder.anonymous -= 1
                    holder.identity.append(record)
                }
                holders.append(holder)
            case 1:
                if let record = cache.acquireCached(UInt64(stream.integer(below: 7))) {
                    holders.append(Holder(identity: [record]))
                }
            default:
                if !holders.isEmpty {
                    let holder = holders.remove(at: stream.integer(below: holders.count))
                    cache.free(holder.anonymous)
                    cache.release(holder.identity)
                }
            }
            heldIdentity.removeAll()
            for holder in holders { for record in holder.identity { heldIdentity[record, default: 0] += 1 } }
            let expected = holders.reduce(0) { $0 + $1.anonymous } + heldIdentity.count
            #expect(cache.heldBlocks == expected, "seed \(seed)")
            if let violation = cache.conservationViolation() {
                Issue.record("seed \(seed): \(violation)")
                return
            }
        }
    }
}
