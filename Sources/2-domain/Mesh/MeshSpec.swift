@_exported public import InferenceModel

/// Clusters joined as Istio ambient multicluster joins them: node-level ztunnel proxies on every path, and
/// east-west gateways that carry double-HBONE (mTLS-in-mTLS) tunnels between clusters. Settings take Istio's
/// and Envoy's names where they exist (docs/multicluster.md).
public struct MeshSpec: Sendable, Equatable {
    public var clusters: [ClusterSpec]
    public var links: [LinkSpec]
    public var dataPath: DataPathSpec
    public var eastWestGateway: EastWestGatewaySpec
    public var connectionPool: ConnectionPoolSpec
    /// How the mesh's own load balancing (policy `uniform`) spreads requests over localities.
    public var trafficDistribution: TrafficDistribution
    /// Locality labels, most important first, that order failover (Istio's `failoverPriority`).
    public var failoverPriority: [LocalityLabel]
    public var outlierDetection: OutlierDetectionSpec?
    public var retries: RetrySpec
    /// Faults, in the order given.
    public var faults: [FaultSpec]
    /// One endpoint picker for the whole fleet, or one per cluster for the clients there (each with its own
    /// policy state and approximate prefix index; all read the same scraped metrics).
    public var gateways: GatewayScope = .global
    /// From a replica going down until Kubernetes removes its endpoint (readiness probe period × failure
    /// threshold, plus propagation); until then the router still sends to it, and only retries and outlier
    /// detection help.
    public var endpointRemovalDelay: SimTime = .seconds(5)

    public init(
        clusters: [ClusterSpec], links: [LinkSpec] = [], dataPath: DataPathSpec = DataPathSpec(),
        eastWestGateway: EastWestGatewaySpec = EastWestGatewaySpec(),
        connectionPool: ConnectionPoolSpec = ConnectionPoolSpec(),
        trafficDistribution: TrafficDistribution = .any, failoverPriority: [LocalityLabel] = [.region, .zone],
        outlierDetection: OutlierDetectionSpec? = nil, retries: RetrySpec = RetrySpec(), faults: [FaultSpec] = []
    ) {
        self.clusters = clusters
        self.links = links
        self.dataPath = dataPath
        self.eastWestGateway = eastWestGateway
        self.connectionPool = connectionPool
        self.trafficDistribution = trafficDistribution
        self.failoverPriority = failoverPriority
        self.outlierDetection = outlierDetection
        self.retries = retries
        self.faults = faults
    }

    /// The index of the cluster called `name`.
    public func clusterIndex(_ name: String) -> Int? { clusters.firstIndex { $0.name == name } }

    /// The link between clusters `a` and `b` (links are symmetric), if one is declared.
    public func link(_ a: Int, _ b: Int) -> LinkSpec? {
        let (x, y) = (clusters[a].name, clusters[b].name)
        return links.first { ($0.from == x && $0.to == y) || ($0.from == y && $0.to == x) }
    }

    /// How far cluster `b` is from `a` for failover: 0 for the same cluster, then one more for each label of
    /// `failoverPriority`, from the first, on which they differ.
    public func localityTier(from a: Int, to b: Int) -> Int {
        guard a != b else { return 0 }
        for (index, label) in failoverPriority.enumerated() where label.value(clusters[a]) != label.value(clusters[b]) {
            return failoverPriority.count - index + 1
        }
        return 1
    }
}

/// Where routing decisions are made.
public enum GatewayScope: String, Sendable, CaseIterable {
    case global
    case perCluster = "per-cluster"
}

/// A Kubernetes cluster and its locality.
public struct ClusterSpec: Sendable, Equatable {
    public var name: String
    public var region: String
    public var zone: String
    /// Nodes, each running one ztunnel; replicas are spread over them in order (for reports).
    public var nodes: Int

    public init(name: String, region: String, zone: String, nodes: Int = 1) {
        self.name = name
        self.region = region
        self.zone = zone
        self.nodes = nodes
    }
}

/// A locality label `failoverPriority` can name.
public enum LocalityLabel: String, Sendable, CaseIterable {
    case region = "topology.kubernetes.io/region"
    case zone = "topology.kubernetes.io/zone"
    case cluster = "topology.istio.io/cluster"

    func value(_ cluster: ClusterSpec) -> String {
        switch self {
        case .region: return cluster.region
        case .zone: return cluster.zone
        case .cluster: return cluster.name
        }
    }
}

/// The network between two clusters, the same both ways.
public struct LinkSpec: Sendable, Equatable {
    public var from: String
    public var to: String
    /// One-way latency.
    public var latency: SimTime
    /// Each traversal adds a uniform draw in [0, jitter).
    public var jitter: SimTime
    /// Bits per second; request and response bytes are serialized at this rate.
    public var bandwidthBitsPerSecond: Double
    /// Chance that a request attempt over the link is lost (a reset the client sees at once).
    public var loss: Double

    public init(
        from: String, to: String, latency: SimTime, jitter: SimTime = .zero, bandwidthBitsPerSecond: Double = 10e9,
        loss: Double = 0
    ) {
        self.from = from
        self.to = to
        self.latency = latency
        self.jitter = jitter
        self.bandwidthBitsPerSecond = bandwidthBitsPerSecond
        self.loss = loss
    }
}

/// The costs along one path, in ambient mode. The defaults are fitted to Istio's published ambient
/// multicluster measurement (docs/multicluster.md, "Calibration").
public struct DataPathSpec: Sendable, Equatable {
    /// One-way network latency between two nodes of one cluster.
    public var intraClusterLatency: SimTime
    /// A ztunnel's processing per request traversal, each way.
    public var ztunnelLatency: SimTime
    /// A waypoint proxy on the path (L7 policy), per traversal each way; nil: no waypoint.
    public var waypointLatency: SimTime?
    /// Round trips to open an HBONE connection (TCP, then TLS 1.3; the CONNECT rides on the first request).
    public var handshakeRoundTrips: Int
    /// CPU time of one mTLS handshake (both ends together).
    public var handshakeCPU: SimTime
    /// Extra CPU time when an east-west gateway terminates the outer tunnel's handshake.
    public var gatewayHandshakeCPU: SimTime
    /// Bytes on the wire per prompt or output token (text plus framing), for serialization over links.
    public var bytesPerToken: Double

    public init(
        intraClusterLatency: SimTime = .microseconds(20), ztunnelLatency: SimTime = .nanoseconds(35_139),
        waypointLatency: SimTime? = nil, handshakeRoundTrips: Int = 2, handshakeCPU: SimTime = .nanoseconds(94_171),
        gatewayHandshakeCPU: SimTime = .nanoseconds(1_625_829), bytesPerToken: Double = 4
    ) {
        self.intraClusterLatency = intraClusterLatency
        self.ztunnelLatency = ztunnelLatency
        self.waypointLatency = waypointLatency
        self.handshakeRoundTrips = handshakeRoundTrips
        self.handshakeCPU = handshakeCPU
        self.gatewayHandshakeCPU = gatewayHandshakeCPU
        self.bytesPerToken = bytesPerToken
    }
}

/// A cluster's east-west gateway: what it adds per traversal, and how many streams it carries at once.
public struct EastWestGatewaySpec: Sendable, Equatable {
    /// Processing per traversal, each way.
    public var latency: SimTime
    /// Streams (cross-cluster requests) it carries at once; more wait in its queue.
    public var concurrency: Int

    public init(latency: SimTime = .microseconds(45), concurrency: Int = 10_000) {
        self.latency = latency
        self.concurrency = concurrency
    }
}

/// HBONE connection pooling between a client's ztunnel and a destination.
public struct ConnectionPoolSpec: Sendable, Equatable {
    /// Connections per (origin cluster, destination) (Istio's `connectionPool.tcp.maxConnections`).
    public var maxConnections: Int
    /// Concurrent requests one connection carries (`http2MaxRequests` per connection); a new connection opens
    /// when every one is full.
    public var maxStreamsPerConnection: Int
    /// A connection idle this long is closed; the next request pays a new handshake.
    public var idleTimeout: SimTime

    public init(maxConnections: Int = 1_024, maxStreamsPerConnection: Int = 100, idleTimeout: SimTime = .seconds(3600))
    {
        self.maxConnections = maxConnections
        self.maxStreamsPerConnection = maxStreamsPerConnection
        self.idleTimeout = idleTimeout
    }
}

/// Istio's `trafficDistribution` for the mesh's own balancing.
public enum TrafficDistribution: String, Sendable, CaseIterable {
    /// Every healthy endpoint in every cluster alike (ambient's default across clusters).
    case any = "Any"
    /// The closest locality with a healthy endpoint, by `failoverPriority`.
    case preferClose = "PreferClose"
}

/// Envoy's outlier detection: eject an endpoint after consecutive errors, for the base ejection time times the
/// number of times it has been ejected; ejections end at the first check interval after they expire.
public struct OutlierDetectionSpec: Sendable, Equatable {
    public var consecutiveErrors: Int
    public var interval: SimTime
    public var baseEjectionTime: SimTime
    /// At most this share of a pool's endpoints is ejected at once.
    public var maxEjectionPercent: Double

    public init(
        consecutiveErrors: Int = 5, interval: SimTime = .seconds(10), baseEjectionTime: SimTime = .seconds(30),
        maxEjectionPercent: Double = 100
    ) {
        self.consecutiveErrors = consecutiveErrors
        self.interval = interval
        self.baseEjectionTime = baseEjectionTime
        self.maxEjectionPercent = maxEjectionPercent
    }
}

/// Istio's retry policy: a failed attempt (connection failure, reset, an endpoint gone) is sent again, to
/// another endpoint when there is one.
public struct RetrySpec: Sendable, Equatable {
    /// Attempts after the first.
    public var attempts: Int
    /// An attempt not completed this long after it was sent is cut and retried; nil: no limit.
    public var perTryTimeout: SimTime?

    public init(attempts: Int = 2, perTryTimeout: SimTime? = nil) {
        self.attempts = attempts
        self.perTryTimeout = perTryTimeout
    }
}

/// A fault, from `at` for `duration` (nil: until the run ends).
public struct FaultSpec: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The link between two clusters carries nothing (a partition).
        case linkDown(String, String)
        /// The link adds latency and loses a share of attempts.
        case linkDegraded(String, String, addedLatency: SimTime, loss: Double)
        /// Every replica of the cluster and its east-west gateway go down; its clients fail over.
        case clusterOutage(String)
        /// One replica (pool, index within the pool) crashes, and restarts when the fault ends.
        case replicaCrash(pool: String, replica: Int)
        /// The cluster's east-west gateway goes down: nothing enters the cluster from outside.
        case gatewayOutage(String)
    }

    public var kind: Kind
    public var at: SimTime
    public var duration: SimTime?

    public init(_ kind: Kind, at: SimTime, duration: SimTime? = nil) {
        self.kind = kind
        self.at = at
        self.duration = duration
    }
}
