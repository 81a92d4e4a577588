/// Prefill/decode disaggregation, as a fleet component: which prefill pool serves each decode pool, the
/// requests split between a prefill and a decode replica, the decode replicas' waits for room, and the KV
/// transfers on the shared fabric (a ``FlowNetwork`` of every GPU's NVLink and RDMA ports and the mesh's links).
///
/// A split request goes through `prefilling` (on its prefill replica, prefill only), then, when its prompt is in
/// KV, `waitingForRoom` until its decode replica reserves the blocks, then `transferring`, after which its
/// decode replica decodes it. Its events: `kvFlowsDue` (the fabric's next transfer ends) and `kvTransferred`
/// (a transfer's fixed latency has passed too).
struct Disaggregation {
    enum Phase { case routed, prefilling, waitingForRoom, transferring }

    struct Split {
        let prefill: ReplicaID
        let decode: ReplicaID
        var phase = Phase.routed
        /// Prompt tokens charged to the prefill replica's backlog and not yet settled.
        var prefillCharge: Int
        var flow: FlowNetwork.Flow?
        var transferStart = SimTime.zero
        var bytes = 0
        /// The transfer's fixed cost on its path, paid after its last byte.
        var latency = SimTime.zero
    }

    let spec: DisaggregationSpec?
    var isActive: Bool { spec != nil }
    /// For each pool, the pool of prefill replicas its requests may be split with; nil for none.
    let prefillPool: [PoolID?]
    private var splits: [RequestID: Split] = [:]
    /// Split requests whose KV waits for room on each decode replica, first come first served.
    private var waiting: [[RequestID]]
    private(set) var hasWaiting = false
    /// What each split request's row records, until it is handed out.
    private var outcomes: [RequestID: DisaggregatedServing] = [:]

    private let fabric: LinkFabric
    private var flowOwner: [FlowNetwork.Flow: RequestID] = [:]
    private let kvBytesPerToken: [Int]

    init(spec fleet: FleetSpec, replicaPools: [PoolID], fabric: LinkFabric) {
        self.spec = fleet.disaggregation
        self.fabric = fabric
        self.waiting = Array(repeating: [], count: fleet.disaggregation == nil ? 0 : replicaPools.count)
        // A decode (or both) pool is paired with the prefill pool serving the same model; the loader checks
        // there is at most one.
        self.prefillPool = fleet.pools.map { pool in
            guard fleet.disaggregation != nil, pool.role != .prefill else { return nil }
            return fleet.pools.indices.first { other in
                fleet.pools[other].role == .prefill
                    && fleet.pools[other].deployment?.model.name == pool.deployment?.model.name
            }.map(PoolID.init)
        }
        self.kvBytesPerToken = replicaPools.map { fleet.pools[$0.index].deployment?.kvBytesPerToken ?? 0 }
    }

    // MARK: A split request's way

    /// Whether a prompt with `uncached` tokens not held by its decode replica is worth a prefill replica
    /// (llm-d's `pd-profile-handler`: below the threshold it is served whole on the decode replica).
    func splits(uncached: Int) -> Bool { uncached >= (spec?.threshold ?? .max) }

    mutating func plan(_ id: RequestID, prefill: ReplicaID, decode: ReplicaID, prefillCharge: Int) {
        splits[id] = Split(prefill: prefill, decode: decode, prefillCharge: prefillCharge)
    }

    /// The split of a request about to reach its decode replica, which forwards it to its prefill replica.
    mutating func forwardToPrefill(_ id: RequestID) -> ReplicaID? {
        guard !splits.isEmpty, var split = splits[id], split.phase == .routed else { return nil }
        split.phase = .prefilling
        splits[id] = split
        return split.prefill
    }

    /// The prompt is in KV on the prefill replica: returns the split and the prefill charge to settle.
    mutating func prefilled(_ id: RequestID) -> (split: Split, charge: Int)? {
        guard var split = splits[id], split.phase == .prefilling else { return nil }
        let charge = split.prefillCharge
        split.prefillCharge = 0
        split.phase = .waitingForRoom
        splits[id] = split
        return (split, charge)
    }

    /// The decode replica has no room now: the request waits for it.
    mutating func waitForRoom(_ id: RequestID, on decode: ReplicaID) {
        waiting[decode.index].append(id)
        hasWaiting = true
    }

    /// The oldest request waiting for room on `decode`.
    func firstWaiting(on decode: ReplicaID) -> RequestID? {
        hasWaiting && decode.index < waiting.count ? waiting[decode.index].first : nil
    }

    mutating func removeFirstWaiting(on decode: ReplicaID) {
        waiting[decode.index].removeFirst()
        hasWaiting = waiting.contains { !$0.isEmpty }
    }

    /// The decode replica reserved room, holding `cachedTokens` of the prompt already: the rest of the KV
    /// starts across the fabric. Returns the transfer's fixed latency, and whether bytes are moving (if not, the
    /// transfer is only its latency).
    mutating func startTransfer(
        _ id: RequestID, promptTokens: Int, cachedTokens: Int, now: SimTime
    ) -> (latency: SimTime, moving: Bool) {
        guard var split = splits[id], let spec else { return (.zero, false) }
        split.phase = .transferring
        split.transferStart = now
        split.bytes = kvBytesPerToken[split.prefill.index] * max(0, promptTokens - cachedTokens)
        let (links, latency) = fabric.kvPath(from: split.prefill, to: split.decode, spec: spec.kvTransfer)
        split.latency = latency
        if split.bytes > 0 {
            let flow = fabric.network.start(bytes: Double(split.bytes), over: links, now: now)
            split.flow = flow
            flowOwner[flow] = id
        }
        splits[id] = split
        return (latency, split.bytes > 0)
    }

    /// When the fabric's next transfer ends, and the generation an event for it must carry.
    var nextFlowEnd: (at: SimTime, generation: UInt64)? {
        fabric.network.nextCompletion.map { ($0, fabric.network.generation) }
    }

    /// The fabric's transfers that have ended by `now` (if `generation` is still current): their requests, each
    /// with the fixed latency its path still adds.
    mutating func flowsDue(generation: UInt64, now: SimTime) -> [(id: RequestID, latency: SimTime)]? {
        guard generation == fabric.network.generation else { return nil }
        return fabric.network.completeDue(at: now).compactMap { done in
            flowOwner.removeValue(forKey: done.flow).map { ($0, splits[$0]?.latency ?? .zero) }
        }
    }

    /// The transfer (bytes and latency) is over: the split ends, and its row records it.
    mutating func transferred(_ id: RequestID, now: SimTime) -> Split? {
        guard let split = splits[id], split.phase == .transferring else { return nil }
        splits[id] = nil
        outcomes[id] = DisaggregatedServing(
            prefillReplica: split.prefill, kvTransferNanoseconds: (now - split.transferStart).nanoseconds,
            kvTransferBytes: Int64(split.bytes))
        return split
    }

    /// The decode replica had no room and the request decodes on its prefill replica instead.
    mutating func fellBack(_ id: RequestID) -> Split? {
        guard let split = splits.removeValue(forKey: id) else { return nil }
        outcomes[id] = DisaggregatedServing(
            prefillReplica: split.prefill, kvTransferNanoseconds: nil, kvTransferBytes: 0)
        return split
    }

    /// The request's attempt ended before its split did (a timeout, a failure, a retry): what is left of the
    /// split, for the fleet to abort on the prefill replica and settle.
    mutating func abandon(_ id: RequestID, now: SimTime) -> Split? {
        guard !splits.isEmpty, let split = splits.removeValue(forKey: id) else { return nil }
        if let flow = split.flow, flowOwner.removeValue(forKey: flow) != nil {
            _ = fabric.network.cancel(flow, now: now)
        }
        if split.phase == .waitingForRoom, let position = waiting[split.decode.index].firstIndex(of: id) {
            waiting[split.decode.index].remove(at: position)
            hasWaiting = waiting.contains { !$0.isEmpty }
        }
        // A prefill that started is in the row, with no transfer time (none finished).
        if split.phase != .routed {
            outcomes[id] = DisaggregatedServing(
                prefillReplica: split.prefill, kvTransferNanoseconds: nil, kvTransferBytes: 0)
        }
        return split
    }

    /// What the request's row records about its split; nil if it was served whole. Forgets it.
    mutating func takeOutcome(_ id: RequestID) -> DisaggregatedServing? {
        outcomes.isEmpty ? nil : outcomes.removeValue(forKey: id)
    }

    /// Splits still open (for the end-of-run invariant check).
    var openSplits: Int { splits.count }
}
