import DequeModule

/// The mesh component: clusters and the links between them, east-west gateways, pooled connections, outlier
/// detection, endpoints, faults, and each request's network leg. Always present: a fleet without a mesh
/// section has an inactive mesh, which keeps no per-request state, adds no delay and schedules no events.
///
/// A class: it holds per-request state that grows with the run, and the fleet updates it in place on every
/// request.
///
/// Events it owns: `.perTryTimeout`, `.fault`, `.endpointRemoval` and `.outlierCheck`.
final class Mesh {
    /// One request's way through the mesh, kept while it is in flight.
    struct Leg {
        var attempt: Int32 = 0
        var origin: Int32 = 0
        /// The gateway it holds a stream of, or -1.
        var viaGateway: Int32 = -1
        /// Whether its current attempt crosses clusters.
        var crossCluster = false
        /// Whether it has reached its terminal status.
        var ended = false
        /// Every attempt's path both ways, handshakes and gateway waits, so far.
        var network: Int64 = 0
        /// The way back of its current attempt.
        var returnDelay = SimTime.zero
        /// The pooled connection its attempt holds (key and id), or -1: 32 bits each to keep a leg small.
        var connectionKey: Int32 = -1
        var connectionID: Int32 = -1
        var perTryTimer: EventID?
    }

    /// Whether the scenario has a mesh; nothing below is used without one.
    let isActive: Bool
    let spec: MeshSpec
    /// Each replica's cluster, and each workload's home cluster and current origin (a cluster outage moves its
    /// clients to the next cluster by failover priority).
    let replicaCluster: [Int]
    /// The fleet's shared links, when KV transfers can load the mesh's links (disaggregated fleets).
    var fabric: LinkFabric?
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
    /// Waiting for a stream: the request, its attempt, its replica, and when it was first routed (the wait
    /// counts as network time from then).
    var gatewayQueue: [Deque<(id: RequestID, attempt: Int32, replica: ReplicaID, routed: SimTime)>]
    var gatewayStreamSeconds: [Double]
    var gatewayLastChange: [SimTime]
    var gatewayQueued = 0
    /// Each request's leg, by request index.
    var legs = SlidingArray<Leg>(dropped: Leg(ended: true))
    /// Requests delivered to each replica and not ended, for cutting them when it fails.
    var onReplica: [[RequestID]]
    /// Replicas each retried request already failed on.
    var tried: [RequestID: [ReplicaID]] = [:]
    var counts = MeshCounts()
    var events: [MeshEvent] = []
    let jitter: RandomStream?
    let loss: RandomStream?

    init(spec meshSpec: MeshSpec?, fleet: FleetSpec, replicaCount: Int, streams: RandomStreams) {
        self.isActive = meshSpec != nil
        let spec = meshSpec ?? MeshSpec(clusters: [ClusterSpec(name: "", region: "", zone: "")])
        self.spec = spec
        var clusters: [Int] = []
        if isActive {
            for pool in fleet.pools {
                let placement =
                    pool.placement ?? [PoolPlacement(cluster: spec.clusters[0].name, replicas: pool.replicas)]
                for part in placement {
                    clusters += Array(repeating: spec.clusterIndex(part.cluster) ?? 0, count: part.replicas)
                }
                // Autoscaled slots beyond the placement sit in the pool's last cluster.
                let extra = pool.replicaSlots - placement.reduce(0) { $0 + $1.replicas }
                if extra > 0 {
                    clusters += Array(repeating: spec.clusterIndex(placement.last!.cluster) ?? 0, count: extra)
                }
            }
        } else {
            clusters = Array(repeating: 0, count: replicaCount)
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
        self.onReplica = Array(repeating: [], count: isActive ? replicaCount : 0)
        self.jitter = meshSpec == nil ? nil : streams.stream("mesh/jitter")
        self.loss = meshSpec == nil ? nil : streams.stream("mesh/loss")
    }

    /// Schedules the faults and outlier detection's first check.
    func start(in sim: inout Simulator<FleetEvent>) {
        guard isActive else { return }
        for (index, fault) in spec.faults.enumerated() { sim.schedule(.fault(index, starting: true), at: fault.at) }
        if let detection = spec.outlierDetection { sim.schedule(.outlierCheck, at: detection.interval) }
    }

    // MARK: per-request legs

    /// Starts the leg of a new request from `workload`.
    @inline(__always)
    func register(workload: WorkloadID) {
        guard isActive else { return }
        legs.append(Leg(origin: Int32(origin[workload.index])))
    }

    /// Drops the legs of the oldest `count` requests held (handed out by the ledger).
    @inline(__always)
    func dropOldest(_ count: Int) {
        if isActive && count > 0 { legs.dropOldest(count) }
    }

    /// The request's way through the mesh, for its row; nil without a mesh.
    @inline(__always)
    func path(of id: RequestID) -> RequestPath? {
        guard isActive else { return nil }
        let leg = legs[id.index]
        return RequestPath(
            origin: Int(leg.origin), networkNanoseconds: leg.network, attempts: Int(leg.attempt) + 1,
            crossCluster: leg.crossCluster)
    }

    /// The request's current attempt (0 without a mesh, which never retries).
    @inline(__always)
    func attempt(_ id: RequestID) -> Int32 { isActive ? legs[id.index].attempt : 0 }
    /// The cluster the request came from.
    @inline(__always)
    func origin(of id: RequestID) -> Int { isActive ? Int(legs[id.index].origin) : 0 }
    /// The way back from the request's replica to its client.
    @inline(__always)
    func returnDelay(_ id: RequestID) -> SimTime { isActive ? legs[id.index].returnDelay : .zero }

    /// Writes to legs of requests already handed out (a bug).
    var lateWrites: Int { legs.lateWrites }

    // MARK: integrals and logs

    /// Integrates a gateway's streams up to `now` before they change.
    func touchGateway(_ cluster: Int, at now: SimTime) {
        gatewayStreamSeconds[cluster] += Double(gatewayActive[cluster]) * (now - gatewayLastChange[cluster]).seconds
        gatewayLastChange[cluster] = now
    }

    /// Closes every gateway's integral at the horizon.
    func horizonReached(at now: SimTime) {
        guard isActive else { return }
        for cluster in gatewayActive.indices { touchGateway(cluster, at: now) }
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
