/// Settings of a replica's CPU tier for KV blocks: vLLM's native offloading connector
/// (`--kv-offloading-backend native --kv-offloading-size GiB`).
///
/// The tier keeps copies of computed prefix blocks in pinned host memory. A later request whose prefix the GPU
/// cache no longer holds loads the blocks back over the host link (PCIe) instead of recomputing them.
public struct KVOffloadSpec: Sendable, Equatable {
    /// Blocks the tier holds: `kv-offloading-size` over the KV bytes of one block of the whole replica.
    public var cpuBlocks: Int
    /// KV bytes of one block of the whole replica (all its GPUs), as the GPU cache counts them.
    public var bytesPerBlock: Int
    /// Host-to-device bandwidth of the replica, bytes/s: each GPU loads its own shard over its own link, so this
    /// is one GPU's effective link times the tensor-parallel size.
    public var loadBytesPerSecond: Double

    public init(cpuBlocks: Int, bytesPerBlock: Int, loadBytesPerSecond: Double) {
        precondition(cpuBlocks > 0 && bytesPerBlock > 0 && loadBytesPerSecond > 0)
        self.cpuBlocks = cpuBlocks
        self.bytesPerBlock = bytesPerBlock
        self.loadBytesPerSecond = loadBytesPerSecond
    }

    /// The tier of `gibibytes` GiB (vLLM's `--kv-offloading-size`, summed over the tensor-parallel ranks) for
    /// `deployment` with blocks of `blockSize` tokens, loading at `linkBytesPerSecond` per GPU (nil: the GPU's
    /// default host link, ``defaultLinkBytesPerSecond(_:)``). Nil when the size holds no whole block.
    public init?(
        gibibytes: Double, deployment: ModelDeployment, blockSize: Int, linkBytesPerSecond: Double? = nil
    ) {
        let bytesPerBlock = deployment.kvBytesPerToken * blockSize
        let blocks = Int(gibibytes * Double(1 << 30) / Double(bytesPerBlock))
        guard blocks > 0 else { return nil }
        let link = linkBytesPerSecond ?? Self.defaultLinkBytesPerSecond(deployment.gpu)
        self.init(
            cpuBlocks: blocks, bytesPerBlock: bytesPerBlock,
            loadBytesPerSecond: link * Double(deployment.tensorParallelSize))
    }

    /// How long loading `blocks` blocks takes on an idle link, rounded up to the nanosecond.
    public func loadDuration(blocks: Int) -> SimTime {
        let nanoseconds = (Double(blocks * bytesPerBlock) * 1e9 / loadBytesPerSecond).rounded(.up)
        return SimTime(nanoseconds: Int64(nanoseconds))
    }

    /// Effective host-to-device bandwidth of one GPU's host link, bytes/s, for pinned-memory copies (what the
    /// connector's `cudaMemcpyAsync` loads use). PCIe Gen5 x16 carries 64 GB/s per direction nominal (32 GT/s ×
    /// 16 lanes, 128b/130b); NVIDIA's nvbandwidth `host_to_device_memcpy_ce` reports about 55 GB/s on H100
    /// hosts, and we take 50 GB/s, leaving room for the block-sized (not GiB-sized) copies the connector makes.
    /// Gen4 x16 parts (A100, L4, L40S) get half: 25 GB/s. The H100, H200 and B200 (HGX) and the MI300X attach to
    /// the host over Gen5 x16 (their datasheets), the A100 SXM4, L4 and L40S over Gen4 x16.
    public static func defaultLinkBytesPerSecond(_ gpu: GPUSpec) -> Double {
        gen4GPUs.contains(gpu.name) ? 25e9 : 50e9
    }

    /// Built-in GPUs whose host link is PCIe Gen4 x16.
    static let gen4GPUs: Set<String> = ["A100-80GB", "L4", "L40S"]
}

/// A replica's CPU tier of KV blocks, with its own LRU eviction, keyed by the same block hashes as the GPU cache.
///
/// vLLM's offloading connector stores every full block as it is computed (not when the GPU evicts it): "offloading
/// completed KV blocks ... as they are produced" (docs.vllm.ai, KV Offloading Usage Guide). So the tier holds a
/// copy of blocks the GPU may still hold too, and a GPU eviction just drops the GPU copy. Its manager
/// (`vllm/v1/kv_offload/cpu`, policy `lru` by default) evicts the least recently used block when a store needs
/// room, and `touch` marks the blocks a request hits (in either tier) as recently used.
///
/// Storing (device to host) is not timed: the copies run on their own stream alongside the model's compute and use
/// the link's other direction, which loads do not contend for.
public struct CPUOffloadTier: Sendable {
    /// Its settings.
    public let spec: KVOffloadSpec

    // Blocks by record index, in an intrusive LRU list (front: least recently used).
    private var hashOf: [UInt64] = []
    private var previous: [Int32] = []
    private var next: [Int32] = []
    private var index: [UInt64: Int32] = [:]
    private var front: Int32 = -1
    private var back: Int32 = -1

    /// Blocks stored since the start, and blocks evicted to make room.
    public private(set) var stores = 0
    public private(set) var evictions = 0
    /// When the host link is done with the loads queued on it so far, ns.
    public private(set) var linkFreeAt: Int64 = 0

    /// An empty tier.
    public init(spec: KVOffloadSpec) {
        self.spec = spec
        hashOf.reserveCapacity(min(spec.cpuBlocks, 1 << 16))
    }

    /// Blocks the tier holds.
    public var blocks: Int { index.count }
    /// Blocks the tier can hold.
    public var capacity: Int { spec.cpuBlocks }

    /// Whether the tier holds the block `hash`.
    public func contains(_ hash: UInt64) -> Bool { index[hash] != nil }

    /// Stores a copy of block `hash` (the most recently used); a block already held is only touched. When full,
    /// the least recently used block makes room.
    /// - Complexity: O(1).
    public mutating func store(_ hash: UInt64) {
        if let record = index[hash] {
            moveToBack(record)
            return
        }
        let record: Int32
        if hashOf.count < spec.cpuBlocks {
            record = Int32(hashOf.count)
            hashOf.append(hash)
            previous.append(-1)
            next.append(-1)
        } else {
            record = front
            unlink(record)
            index[hashOf[Int(record)]] = nil
            hashOf[Int(record)] = hash
            evictions += 1
        }
        index[hash] = record
        append(record)
        stores += 1
    }

    /// Marks block `hash` as recently used, if the tier holds it.
    public mutating func touch(_ hash: UInt64) {
        if let record = index[hash] { moveToBack(record) }
    }

    /// Queues a load of `blocks` blocks on the host link at `now` and returns when it ends. Loads run one after
    /// another, each at the link's whole bandwidth, as copies queued on one CUDA stream do; under this order each
    /// load ends no later than it would if they shared the link.
    public mutating func beginLoad(blocks: Int, now: SimTime) -> SimTime {
        linkFreeAt = max(now.nanoseconds, linkFreeAt) + spec.loadDuration(blocks: blocks).nanoseconds
        return SimTime(nanoseconds: linkFreeAt)
    }

    /// Drops every block (a restarted engine's host buffers are new).
    public mutating func removeAll() {
        hashOf.removeAll(keepingCapacity: true)
        previous.removeAll(keepingCapacity: true)
        next.removeAll(keepingCapacity: true)
        index.removeAll(keepingCapacity: true)
        front = -1
        back = -1
    }

    /// Checks the LRU list against the index. Returns the first violation found, or nil.
    public func conservationViolation() -> String? {
        if index.count > spec.cpuBlocks { return "\(index.count) blocks in a tier of \(spec.cpuBlocks)" }
        var walked = 0
        var cursor = front
        var last: Int32 = -1
        while cursor >= 0 {
            if previous[Int(cursor)] != last { return "LRU links broken at record \(cursor)" }
            if index[hashOf[Int(cursor)]] != cursor { return "record \(cursor) is listed but not indexed" }
            walked += 1
            if walked > hashOf.count { return "LRU list has a cycle" }
            last = cursor
            cursor = next[Int(cursor)]
        }
        if last != back { return "LRU tail is \(back), walked to \(last)" }
        if walked != index.count { return "\(index.count) indexed blocks but \(walked) listed" }
        return nil
    }

    private mutating func moveToBack(_ record: Int32) {
        guard record != back else { return }
        unlink(record)
        append(record)
    }

    private mutating func unlink(_ record: Int32) {
        let at = Int(record)
        let before = previous[at], after = next[at]
        if before >= 0 { next[Int(before)] = after } else { front = after }
        if after >= 0 { previous[Int(after)] = before } else { back = before }
        previous[at] = -1
        next[at] = -1
    }

    private mutating func append(_ record: Int32) {
        let at = Int(record)
        previous[at] = back
        next[at] = -1
        if back >= 0 { next[Int(back)] = record } else { front = record }
        back = record
    }
}
