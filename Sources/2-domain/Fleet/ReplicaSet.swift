/// The fleet's replicas: every slot of every pool, each slot's place in its lifecycle, and the integrals the
/// run reports over its measurement window.
///
/// Replicas are state machines that return effects; this component owns them, lends effect buffers for their
/// calls, and answers which replicas of a pool take requests now.
struct ReplicaSet {
    let models: [any ReplicaModel]
    /// The pool of each replica, and every slot of each pool in id order.
    let pool: [PoolID]
    let poolSlots: [[ReplicaID]]
    /// The replicas of each pool that take requests now, in id order (all of them without an autoscaler).
    private(set) var ready: [[ReplicaID]]
    /// Each replica's place in its lifecycle (all `ready` without autoscalers).
    private(set) var states: [ReplicaState]
    let info: [(pool: String, name: String, kind: String, capacity: Int)]
    /// Integrals at the last sample, at the end of the warm-up and at the horizon.
    private var lastSampleIntegrals: [ReplicaIntegrals]
    private(set) var warmupIntegrals: [ReplicaIntegrals]
    private(set) var horizonIntegrals: [ReplicaIntegrals] = []
    /// Effect buffers lent to replica calls. A call made while another's effects are being applied takes its
    /// own buffer, so effects are always applied to the replica that produced them.
    private var spareEffects: [ReplicaEffects] = []

    init(spec: FleetSpec, streams: RandomStreams) {
        var models: [any ReplicaModel] = []
        var slots: [[ReplicaID]] = []
        var info: [(String, String, String, Int)] = []
        var states: [ReplicaState] = []
        for pool in spec.pools {
            var ids: [ReplicaID] = []
            for index in 0..<pool.replicaSlots {
                let name = "\(pool.name)/\(index)"
                let replica = pool.replica.makeReplica(name: name, streams: streams)
                ids.append(ReplicaID(models.count))
                models.append(replica)
                info.append((pool.name, name, replica.kind, replica.capacity))
                states.append(index < pool.replicas ? .ready : .off)
            }
            slots.append(ids)
        }
        self.models = models
        self.poolSlots = slots
        self.states = states
        self.ready = slots.map { ids in ids.filter { states[$0.index] == .ready } }
        self.pool = slots.enumerated().flatMap { pool, ids in ids.map { _ in PoolID(pool) } }
        self.info = info
        self.lastSampleIntegrals = Array(repeating: ReplicaIntegrals(), count: models.count)
        self.warmupIntegrals = Array(repeating: ReplicaIntegrals(), count: models.count)
    }

    subscript(_ replica: ReplicaID) -> any ReplicaModel { models[replica.index] }

    var count: Int { models.count }

    /// A replica's slot number within its pool.
    func slot(of replica: ReplicaID) -> Int { replica.index - poolSlots[pool[replica.index].index][0].index }

    /// An empty effect buffer for one replica call; give it back with ``recycle(_:)``.
    mutating func borrowEffects() -> ReplicaEffects { spareEffects.popLast() ?? ReplicaEffects() }

    mutating func recycle(_ effects: ReplicaEffects) {
        var effects = effects
        effects.removeAll()
        spareEffects.append(effects)
    }

    /// Moves a replica to `state`, keeping each pool's ready list in id order.
    mutating func setState(_ replica: ReplicaID, _ state: ReplicaState) {
        let pool = self.pool[replica.index].index
        let wasReady = states[replica.index] == .ready
        states[replica.index] = state
        if wasReady && state != .ready {
            ready[pool].removeAll { $0 == replica }
        } else if !wasReady && state == .ready {
            ready[pool].append(replica)
            ready[pool].sort { $0.index < $1.index }
        }
    }

    /// Switches measurement on or off on every replica (at the warm-up's end and the horizon).
    func setMeasuring(_ measuring: Bool) {
        for model in models { model.setMeasuring(measuring) }
    }

    mutating func warmupEnded(at now: SimTime) {
        warmupIntegrals = models.map { $0.integrals(now: now) }
        setMeasuring(true)
    }

    mutating func horizonReached(at now: SimTime) {
        horizonIntegrals = models.map { $0.integrals(now: now) }
        setMeasuring(false)
    }

    /// One gauge sample per replica that is not off, over the interval that ends now.
    mutating func sample(at now: SimTime, interval: SimTime) -> [GaugeSample] {
        let seconds = interval.seconds
        var samples: [GaugeSample] = []
        for (index, replica) in models.enumerated() where states[index] != .off {
            let integrals = replica.integrals(now: now)
            let delta = integrals - lastSampleIntegrals[index]
            let capacity = Double(replica.capacity) * Double(interval.nanoseconds)
            samples.append(
                GaugeSample(
                    time: now, replica: ReplicaID(index), gauges: replica.gauges(now: now),
                    busyFraction: delta.busy / capacity,
                    tokensPerSecond: replica.countsTokens
                        ? Double(delta.promptTokens + delta.generationTokens) / seconds : nil,
                    generationTokensPerSecond: replica.countsTokens ? Double(delta.generationTokens) / seconds : nil,
                    prefixCacheHitRate: replica.hasPrefixCache && delta.prefixCacheQueries > 0
                        ? Double(delta.prefixCacheHits) / Double(delta.prefixCacheQueries) : nil))
            lastSampleIntegrals[index] = integrals
        }
        return samples
    }

    /// What each replica reports about itself, with its integrals over the measurement window.
    func runInfo() -> [ReplicaInfo] {
        info.enumerated().map { index, info in
            let model = models[index]
            return ReplicaInfo(
                id: ReplicaID(index), pool: info.pool, name: info.name, kind: info.kind, capacity: info.capacity,
                countsTokens: model.countsTokens, hasPrefixCache: model.hasPrefixCache,
                kvCacheBlocks: model.kvCacheBlocks, window: horizonIntegrals[index] - warmupIntegrals[index])
        }
    }

    /// Each replica's inter-token latencies over the window, by replica index (nil for kinds without them).
    var interTokenLatencies: [InterTokenLatencyStats?] { models.map { $0.interTokenLatencies() } }
}
