/// The router's own record of which prefix blocks it sent where: per replica, a bounded set of block hashes,
/// least recently routed evicted first (the inference extension's approximate prefix index).
///
/// A request's blocks are recorded last-first, so a prompt's leading blocks are the most recently used and
/// the last to go: matching counts a leading run, which an evicted early block would cut short.
public struct ApproximatePrefixIndex: Sendable {
    private var replicas: [ReplicaID: BlockLRU] = [:]
    /// Which replicas hold each shared block: matching walks a request's blocks once, touching only the
    /// replicas that still match, instead of probing every replica.
    private var holders: [UInt64: [ReplicaID]] = [:]
    private var evicted: [(key: UInt64, shared: Bool)] = []
    public let capacityPerReplica: Int

    public init(capacityPerReplica: Int) {
        precondition(capacityPerReplica > 0)
        self.capacityPerReplica = capacityPerReplica
    }

    /// How many of `hashes`, from the first, the router believes `replica` holds.
    public func matchedBlocks(_ hashes: [UInt64], on replica: ReplicaID) -> Int {
        var matched = [0]
        matchedBlocks(hashes, candidates: [replica], into: &matched)
        return matched[0]
    }

    /// For each of `candidates` (ascending ids), how many of `hashes`, from the first, it is believed to hold.
    /// `matched` must have one zeroed slot per candidate. Cost: the matched blocks' holders, not the pool size.
    public func matchedBlocks(_ hashes: [UInt64], candidates: [ReplicaID], into matched: inout [Int]) {
        var position: [ReplicaID: Int] = [:]
        let contiguous = candidates.last!.index - candidates[0].index == candidates.count - 1
        if !contiguous { for (index, id) in candidates.enumerated() { position[id] = index } }
        let base = candidates[0].index
        for (depth, hash) in hashes.enumerated() {
            guard let list = holders[hash] else { return }
            var advanced = false
            for replica in list {
                let slot = contiguous ? replica.index - base : (position[replica] ?? -1)
                if slot >= 0 && slot < candidates.count && matched[slot] == depth {
                    matched[slot] = depth + 1
                    advanced = true
                }
            }
            if !advanced { return }
        }
    }

    /// How often the extension's prefix plugin drops the replicas that have left the pool from its index
    /// (`podActiveCheckInterval`, 2 minutes; not configurable there). Its ticks fall at whole multiples of it
    /// from the router's start.
    public static let inactiveReplicaCheckInterval = SimTime.seconds(120)

    /// Whether a replica whose endpoint left the pool at `removed` and came back at `restored` lost its entries
    /// to the periodic check: one of its ticks fell while it was out. Otherwise its entries outlive the restart
    /// (it keeps its name), though its cache is empty.
    public static func inactiveCheckDrops(removed: SimTime, restored: SimTime) -> Bool {
        let interval = inactiveReplicaCheckInterval.nanoseconds
        // The first tick at or after `removed` (ticks at k × interval, k ≥ 1).
        let first = max(1, (removed.nanoseconds + interval - 1) / interval) * interval
        return first <= restored.nanoseconds
    }

    /// Forgets everything recorded on `replica` (the periodic check found it gone from the pool).
    public mutating func remove(_ replica: ReplicaID) {
        guard let lru = replicas.removeValue(forKey: replica) else { return }
        lru.forEachShared { key in
            holders[key]?.removeAll { $0 == replica }
            if holders[key]?.isEmpty == true { holders[key] = nil }
        }
    }

    /// Records that a request went to `replica`: its shared blocks `hashes`, and `uniqueBlocks` more blocks of
    /// its own. Those can never match another request, so they are kept as one entry of that weight: they
    /// take their share of the capacity, and push out old blocks, without costing a hash each.
    public mutating func record(_ hashes: [UInt64], uniqueBlocks: Int, key: UInt64, on replica: ReplicaID) {
        var lru = replicas.removeValue(forKey: replica) ?? BlockLRU(capacity: capacityPerReplica)
        evicted.removeAll(keepingCapacity: true)
        if uniqueBlocks > 0 { _ = lru.touch(key, weight: uniqueBlocks, shared: false, evicted: &evicted) }
        for hash in hashes.reversed() where lru.touch(hash, weight: 1, shared: true, evicted: &evicted) {
            holders[hash, default: []].append(replica)
        }
        // A block evicted and then recorded again in this same call is still held.
        for (key, shared) in evicted where shared && !lru.contains(key) {
            holders[key]?.removeAll { $0 == replica }
            if holders[key]?.isEmpty == true { holders[key] = nil }
        }
        replicas[replica] = lru
    }
}

/// A bounded set of weighted entries with least-recently-touched eviction: O(1) lookup, O(1) amortized touch.
/// The weights of the entries it holds add up to at most its capacity (an entry heavier than that is dropped).
struct BlockLRU: Sendable {
    private let capacity: Int
    private var slotOf: [UInt64: Int32] = [:]
    private var keys: [UInt64] = []
    private var weights: [Int] = []
    private var shared: [Bool] = []
    private var previous: [Int32] = []
    private var next: [Int32] = []
    private var freeSlots: [Int32] = []
    private var newest: Int32 = -1
    private var oldest: Int32 = -1
    private var total = 0

    init(capacity: Int) { self.capacity = capacity }

    func contains(_ key: UInt64) -> Bool { slotOf[key] != nil }

    /// Calls `body` with each shared entry's key, oldest first.
    func forEachShared(_ body: (UInt64) -> Void) {
        var slot = oldest
        while slot >= 0 {
            if shared[Int(slot)] { body(keys[Int(slot)]) }
            slot = next[Int(slot)]
        }
    }

    /// Makes `key` the most recent, inserting it with `weight` when absent, then evicts the oldest entries
    /// until the total weight fits, appending them to `evicted`. Returns whether `key` was inserted.
    mutating func touch(
        _ key: UInt64, weight: Int, shared isShared: Bool, evicted: inout [(key: UInt64, shared: Bool)]
    ) -> Bool {
        if let slot = slotOf[key] {
            unlink(slot)
            pushNewest(slot)
            return false
        }
        guard weight <= capacity else { return false }
        let slot: Int32
        if let reused = freeSlots.popLast() {
            slot = reused
            keys[Int(slot)] = key
            weights[Int(slot)] = weight
            shared[Int(slot)] = isShared
        } else {
            slot = Int32(keys.count)
            keys.append(key)
            weights.append(weight)
            shared.append(isShared)
            previous.append(-1)
            next.append(-1)
        }
        slotOf[key] = slot
        total += weight
        pushNewest(slot)
        var inserted = true
        while total > capacity {
            let victim = oldest
            unlink(victim)
            slotOf[keys[Int(victim)]] = nil
            total -= weights[Int(victim)]
            freeSlots.append(victim)
            if victim == slot { inserted = false } else { evicted.append((keys[Int(victim)], shared[Int(victim)])) }
        }
        return inserted
    }

    private mutating func unlink(_ slot: Int32) {
        let before = previous[Int(slot)], after = next[Int(slot)]
        if before >= 0 { next[Int(before)] = after } else { oldest = after }
        if after >= 0 { previous[Int(after)] = before } else { newest = before }
        previous[Int(slot)] = -1
        next[Int(slot)] = -1
    }

    private mutating func pushNewest(_ slot: Int32) {
        previous[Int(slot)] = newest
        next[Int(slot)] = -1
        if newest >= 0 { next[Int(newest)] = slot } else { oldest = slot }
        newest = slot
    }
}
