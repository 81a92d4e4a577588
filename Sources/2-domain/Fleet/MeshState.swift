import DequeModule

/// What the mesh adds to a run: where replicas and clients are, the state of links, gateways and endpoints,
/// pooled connections, and each request's network path.
///
/// A class: it holds per-request arrays that grow with the run, and the fleet updates it in place on every
/// request (a struct copied out of an optional and written back would copy those arrays each time).
final class MeshState {
    let spec: MeshSpec
    /// Each replica's cluster, and each workload's home cluster and current origin (a cluster outage moves its
    /// clients to the next cluster by failover priority).
    let replicaCluster: [Int]
    let homeOrigin: [Int]
    var origin: [Int]
    /// Path costs between clusters, recomputed when a fault changes a link; locality tiers between clusters.
    var paths: [[PathCost]]
    let tiers: [[Int]]
    /// The link between each pair of clusters, looked up once rather than per request.
    let links: [[LinkSpec?]]
    var clusterDown: [Bool]
    var gatewayDown: [Bool]
    var linkDown: [[Bool]]
    var linkAdded: [[SimTime]]
    var linkLoss: [[Double]]
    /// A crashed replica refuses connections; the router stops sending once Kubernetes removes its endpoint.
    var replicaDown: [Bool]
    var endpointRemoved: [Bool]
    /// Outlier detection per pool, over the pool's replica slots.
    var detectors: [OutlierDetector?]
    var connectionPools: [Int: ConnectionPool] = [:]
    /// Each cluster's east-west gateway: streams carried, requests waiting for one, and ∫ streams dt.
    var gatewayActive: [Int]
    var gatewayQueue: [Deque<(id: RequestID, attempt: Int32)>]
    var gatewayStreamSeconds: [Double]
    var gatewayLastChange: [SimTime]
    var gatewayQueued = 0
    /// Per request, by request index: the attempt, the origin, the network time so far, the return delay of
    /// its current attempt, its connection, the gateway it holds a stream of.
    var attempt = SlidingArray<Int32>(dropped: 0)
    var requestOrigin = SlidingArray<Int32>(dropped: 0)
    var network = SlidingArray<Int64>(dropped: 0)
    var returnDelay = SlidingArray<SimTime>(dropped: .zero)
    var connection = SlidingArray<(key: Int, id: Int)?>(dropped: nil)
    var viaGateway = SlidingArray<Int32>(dropped: -1)
    var crossCluster = SlidingArray<Bool>(dropped: false)
    var perTryTimer = SlidingArray<EventID?>(dropped: nil)
    /// Requests delivered to each replica and not ended, for cutting them when it fails.
    var onReplica: [[RequestID]]
    /// Replicas each retried request already failed on, and the requests in flight (to retry them).
    var tried: [RequestID: [ReplicaID]] = [:]
    var pending: [RequestID: PendingRequest] = [:]
    var counts = MeshCounts()
    var events: [MeshEvent] = []
    let jitter: RandomStream
    let loss: RandomStream

    init(spec: MeshSpec, fleet: FleetSpec, replicaCount: Int, streams: RandomStreams) {
        self.spec = spec
        var clusters: [Int] = []
        for pool in fleet.pools {
            let placement = pool.placement ?? [PoolPlacement(cluster: spec.clusters[0].name, replicas: pool.replicas)]
            for part in placement {
                clusters += Array(repeating: spec.clusterIndex(part.cluster) ?? 0, count: part.replicas)
            }
            // Autoscaled slots beyond the placement sit in the pool's last cluster.
            let extra = pool.replicaSlots - placement.reduce(0) { $0 + $1.replicas }
            if extra > 0 {
                clusters += Array(repeating: spec.clusterIndex(placement.last!.cluster) ?? 0, count: extra)
            }
        }
        self.replicaCluster = clusters
        self.homeOrigin = fleet.workloads.map { workload in workload.cluster.flatMap { spec.clusterIndex($0) } ?? 0 }
        self.origin = homeOrigin
        let count = spec.clusters.count
        self.clusterDown = Array(repeating: false, count: count)
        self.gatewayDown = Array(repeating: false, count: count)
        self.linkDown = Array(repeating: Array(repeating: false, count: count), count: count)
        self.linkAdded = Array(repeating: Array(repeating: .zero, count: count), count: count)
        self.paths = (0..<count).map { a in (0..<count).map { b in PathCost.of(spec, from: a, to: b) } }
        self.tiers = (0..<count).map { a in (0..<count).map { b in spec.localityTier(from: a, to: b) } }
        self.links = (0..<count).map { a in (0..<count).map { b in a == b ? nil : spec.link(a, b) } }
        self.linkLoss = links.map { row in row.map { $0?.loss ?? 0 } }
        self.replicaDown = Array(repeating: false, count: replicaCount)
        self.endpointRemoved = Array(repeating: false, count: replicaCount)
        self.detectors = fleet.pools.map { pool in
            spec.outlierDetection.map { OutlierDetector(spec: $0, endpoints: pool.replicaSlots) }
        }
        self.gatewayActive = Array(repeating: 0, count: count)
        self.gatewayQueue = Array(repeating: Deque(), count: count)
        self.gatewayStreamSeconds = Array(repeating: 0, count: count)
        self.gatewayLastChange = Array(repeating: .zero, count: count)
        self.onReplica = Array(repeating: [], count: replicaCount)
        self.jitter = streams.stream("mesh/jitter")
        self.loss = streams.stream("mesh/loss")
    }

    /// Starts the per-request entries of a new request from `workload`.
    func register(workload: WorkloadID) {
        attempt.append(0)
        requestOrigin.append(Int32(origin[workload.index]))
        network.append(0)
        returnDelay.append(.zero)
        connection.append(nil)
        viaGateway.append(-1)
        crossCluster.append(false)
        perTryTimer.append(nil)
    }

    /// Drops the per-request entries of the oldest `n` requests held (handed out by the fleet).
    func dropOldest(_ n: Int) {
        attempt.dropOldest(n)
        requestOrigin.dropOldest(n)
        network.dropOldest(n)
        returnDelay.dropOldest(n)
        connection.dropOldest(n)
        viaGateway.dropOldest(n)
        crossCluster.dropOldest(n)
        perTryTimer.dropOldest(n)
    }

    /// The connection-pool key of traffic from `origin` to a replica, or to a remote cluster as a whole.
    func poolKey(origin: Int, replica: ReplicaID?, cluster: Int) -> Int {
        let size = replicaCluster.count + spec.clusters.count
        return origin * size + (replica.map(\.index) ?? replicaCluster.count + cluster)
    }

    /// A one-way traversal of the link between `a` and `b`: its jitter draw (nothing inside a cluster).
    func jitterDraw(_ a: Int, _ b: Int) -> SimTime {
        guard let link = links[a][b], link.jitter > .zero else { return .zero }
        return SimTime(nanoseconds: Int64(jitter.uniform() * Double(link.jitter.nanoseconds)))
    }

    /// Time to put `tokens` tokens' bytes on the link between `a` and `b`.
    func serialization(tokens: Int, _ a: Int, _ b: Int) -> SimTime {
        guard let link = links[a][b], link.bandwidthBitsPerSecond > 0 else { return .zero }
        return .seconds(Double(tokens) * spec.dataPath.bytesPerToken * 8 / link.bandwidthBitsPerSecond)
    }

    /// Whether a request from `origin` can reach a replica in `destination` now.
    func reachable(from origin: Int, to destination: Int) -> Bool {
        guard !clusterDown[destination] else { return false }
        return origin == destination || (!gatewayDown[destination] && !linkDown[origin][destination])
    }

    /// Integrates a gateway's streams up to `now` before they change.
    func touchGateway(_ cluster: Int, at now: SimTime) {
        gatewayStreamSeconds[cluster] += Double(gatewayActive[cluster]) * (now - gatewayLastChange[cluster]).seconds
        gatewayLastChange[cluster] = now
    }

    func log(_ kind: MeshEvent.Kind, _ subject: String, at now: SimTime, detail: String = "") {
        events.append(MeshEvent(time: now, kind: kind, subject: subject, detail: detail))
    }
}

/// Totals of a run's mesh activity.
public struct MeshCounts: Sendable, Equatable {
    public var connectionsOpened = 0
    public var connectionsReused = 0
    public var retries = 0
    public var ejections = 0
    public var failovers = 0

    public init() {}
}

/// One thing that happened in the mesh: a fault, an ejection, a restore, a failover.
public struct MeshEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case faultStart = "fault_start", faultEnd = "fault_end", ejected, restored, failover
        case endpointRemoved = "endpoint_removed", endpointRestored = "endpoint_restored"
    }

    public var time: SimTime
    public var kind: Kind
    /// What it happened to: a replica's name, a cluster, a link `a<->b`, a workload.
    public var subject: String
    public var detail: String

    public init(time: SimTime, kind: Kind, subject: String, detail: String) {
        self.time = time
        self.kind = kind
        self.subject = subject
        self.detail = detail
    }
}
