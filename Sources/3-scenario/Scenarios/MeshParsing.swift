import Fleet

/// Multicluster scenarios: the top-level `clusters` and `mesh`, a pool's `placement` and a workload's `cluster`.
///
/// Names of clusters and pools are checked where they are used, so an error points at the reference, with a
/// suggestion when a declared name is close.
extension NodeReader {
    /// `clusters`: a non-empty list of `{name, region, zone, nodes}` with unique names.
    func clusters() throws(ScenarioError) -> [ClusterSpec] {
        var clusters: [ClusterSpec] = []
        var names: [String: NodeReader] = [:]
        let what = "clusters like {name: us-east, region: us-east1, zone: us-east1-b}"
        for item in try sequence(nonEmpty: true, of: what) {
            let fields = try item.mapping(
                keys: ScenarioKeys.cluster, what: "a cluster mapping with `name`, `region` and `zone`")
            let name = try fields.required("name", expecting: "a name of letters, digits, `.`, `_` and `-`").name()
            if let first = names[name] {
                throw (item.nameReader ?? item).error(
                    "duplicate cluster name `\(name)`\(first.firstAt); cluster names must be unique")
            }
            names[name] = item.nameReader ?? item
            let region = try fields.required("region", expecting: "a region label, like us-east1").label(
                "a region label, like us-east1")
            let zone = try fields.required("zone", expecting: "a zone label, like us-east1-b").label(
                "a zone label, like us-east1-b")
            let nodes = try fields["nodes"]?.integer(in: 1...100_000) ?? 1
            clusters.append(ClusterSpec(name: name, region: region, zone: zone, nodes: nodes))
        }
        return clusters
    }

    /// The top-level `mesh` over `clusters`. `pools` are the scenario's pools, for `replica-crash` faults.
    func mesh(clusters: [ClusterSpec], pools: [PoolSpec]) throws(ScenarioError) -> MeshSpec {
        let fields = try mapping(
            keys: ScenarioKeys.mesh, what: "a mesh mapping, like {links: [...], trafficDistribution: PreferClose}")
        let names = clusters.map(\.name)
        var mesh = MeshSpec(clusters: clusters)
        if let links = fields["links"] { mesh.links = try links.links(among: names) }
        if let dataPath = fields["data-path"] { mesh.dataPath = try dataPath.dataPath() }
        if let gateway = fields["east-west-gateway"] {
            let block = try gateway.mapping(
                keys: ScenarioKeys.eastWestGateway, what: "a mapping like {latency: 45us, concurrency: 10000}")
            mesh.eastWestGateway.latency =
                try block["latency"]?.networkLatency() ?? mesh.eastWestGateway.latency
            mesh.eastWestGateway.concurrency =
                try block["concurrency"]?.integer(in: 1...10_000_000) ?? mesh.eastWestGateway.concurrency
        }
        if let pool = fields["connectionPool"] {
            let block = try pool.mapping(
                keys: ScenarioKeys.connectionPool,
                what: "a mapping like {maxConnections: 1024, maxConcurrentStreams: 100, idleTimeout: 1h}")
            var spec = mesh.connectionPool
            spec.maxConnections = try block["maxConnections"]?.integer(in: 1...1_000_000) ?? spec.maxConnections
            spec.maxStreamsPerConnection =
                try block["maxConcurrentStreams"]?.integer(in: 1...1_000_000) ?? spec.maxStreamsPerConnection
            spec.idleTimeout = try block["idleTimeout"]?.duration(allowZero: false) ?? spec.idleTimeout
            mesh.connectionPool = spec
        }
        if let distribution = fields["trafficDistribution"] {
            mesh.trafficDistribution = try distribution.choice("trafficDistribution")
        }
        if let gateways = fields["gateways"] { mesh.gateways = try gateways.choice("gateways") }
        if let priority = fields["failoverPriority"] { mesh.failoverPriority = try priority.failoverPriority() }
        if let delay = fields["endpoint-removal-delay"] {
            mesh.endpointRemovalDelay = try delay.duration(allowZero: true)
        }
        if let outlier = fields["outlierDetection"] { mesh.outlierDetection = try outlier.outlierDetection() }
        if let retries = fields["retries"] {
            let block = try retries.mapping(
                keys: ScenarioKeys.retries, what: "a mapping like {attempts: 2, perTryTimeout: 30s}")
            mesh.retries.attempts = try block["attempts"]?.integer(in: 0...100) ?? mesh.retries.attempts
            // As in Envoy, 0s switches the per-try limit off.
            if let timeout = block["perTryTimeout"] {
                let value = try timeout.duration(allowZero: true)
                mesh.retries.perTryTimeout = value == .zero ? nil : value
            }
        }
        if let faults = fields["faults"] {
            let what = "faults like {at: 5m, duration: 1m, cluster-outage: us-east}"
            mesh.faults = try faults.sequence(nonEmpty: false, of: what).map { item throws(ScenarioError) in
                try item.fault(clusters: names, pools: pools)
            }
        }
        return mesh
    }

    /// A pool's `placement`, read from the pool's `fields`: counts per cluster that sum to `replicas`. `clusters`
    /// is nil when the scenario declares none, which makes `placement` an error.
    static func placement(
        _ fields: MappingReader, replicas: Int, clusters: [String]?
    ) throws(ScenarioError) -> [PoolPlacement]? {
        guard let reader = fields["placement"], let key = fields.keyReader("placement") else { return nil }
        guard let clusters else {
            throw key.error("`placement` needs a top-level `clusters` list to place replicas in")
        }
        if fields["autoscaler"] != nil {
            throw key.error(
                "a pool with an `autoscaler` cannot have a `placement` yet (not supported: the autoscaler does not "
                    + "choose clusters); remove one of them")
        }
        var placement: [PoolPlacement] = []
        var seen: [String: NodeReader] = [:]
        for item in try reader.sequence(nonEmpty: true, of: "placements like {cluster: us-east, replicas: 4}") {
            let block = try item.mapping(
                keys: ScenarioKeys.placement, what: "a placement like {cluster: us-east, replicas: 4}")
            let clusterReader = try block.required("cluster", expecting: "the name of a cluster")
            let cluster = try clusterReader.clusterName(among: clusters)
            if let first = seen[cluster] {
                throw clusterReader.error("cluster `\(cluster)` is placed twice\(first.firstAt); give it one count")
            }
            seen[cluster] = clusterReader
            let count = try block.required("replicas", expecting: "an integer in 1...100000").integer(in: 1...100_000)
            placement.append(PoolPlacement(cluster: cluster, replicas: count))
        }
        let total = placement.reduce(0) { $0 + $1.replicas }
        guard total == replicas else {
            throw reader.error(
                "the placement's replicas sum to \(total), but the pool has `replicas: \(replicas)`; they must be equal"
            )
        }
        return placement
    }

    /// A workload's `cluster`, where its clients are; nil when absent (the fleet takes the first cluster).
    /// `clusters` is nil when the scenario declares none, which makes `cluster` an error.
    static func cluster(_ fields: MappingReader, among clusters: [String]?) throws(ScenarioError) -> String? {
        guard let reader = fields["cluster"] else { return nil }
        guard let clusters else {
            throw (fields.keyReader("cluster") ?? reader).error(
                "`cluster` needs a top-level `clusters` list to name a cluster from")
        }
        return try reader.clusterName(among: clusters)
    }

    // MARK: - Pieces

    /// A non-empty label (a region or zone).
    private func label(_ what: String) throws(ScenarioError) -> String {
        let text = try string(what)
        guard !text.isEmpty else { throw expected(what) }
        return text
    }

    /// The name of a declared cluster.
    func clusterName(among clusters: [String]) throws(ScenarioError) -> String {
        let name = try string("the name of a cluster")
        guard clusters.contains(name) else {
            throw error("unknown cluster `\(name)`" + Suggestions.hint(for: name, among: clusters))
        }
        return name
    }

    /// A number in 0...1.
    private func probability() throws(ScenarioError) -> Double {
        let what = "a probability in 0...1"
        guard isBareScalar, let text = scalarText, case .value(let value) = Units.number(text), (0...1).contains(value)
        else { throw expected(what) }
        return value
    }

    /// `from` and `to` of a link or a link fault: two different declared clusters.
    private static func clusterPair(
        _ fields: MappingReader, among clusters: [String]
    ) throws(ScenarioError) -> (String, String) {
        let from = try fields.required("from", expecting: "the name of a cluster").clusterName(among: clusters)
        let toReader = try fields.required("to", expecting: "the name of a cluster")
        let to = try toReader.clusterName(among: clusters)
        guard from != to else {
            throw toReader.error("a link joins two different clusters; `from` and `to` are both `\(from)`")
        }
        return (from, to)
    }

    /// `links`: one per pair of clusters, in either order (links are symmetric).
    private func links(among clusters: [String]) throws(ScenarioError) -> [LinkSpec] {
        var links: [LinkSpec] = []
        var pairs: [String: NodeReader] = [:]
        for item in try sequence(nonEmpty: false, of: "links like {from: us-east, to: eu-west, latency: 40ms}") {
            let fields = try item.mapping(
                keys: ScenarioKeys.link, what: "a link mapping like {from: us-east, to: eu-west, latency: 40ms}")
            let (from, to) = try Self.clusterPair(fields, among: clusters)
            // Names have no spaces, so this key is unambiguous.
            let pair = from < to ? "\(from) \(to)" : "\(to) \(from)"
            if let first = pairs[pair] {
                throw item.error(
                    "duplicate link between `\(from)` and `\(to)`\(first.firstAt); links are symmetric, "
                        + "so declare each pair once")
            }
            pairs[pair] = item
            let latency = try fields.required("latency", expecting: "the one-way latency, a duration like 40ms")
                .networkLatency()
            var link = LinkSpec(from: from, to: to, latency: latency)
            link.jitter = try fields["jitter"]?.networkLatency() ?? link.jitter
            link.bandwidthBitsPerSecond = try fields["bandwidth"]?.bandwidth() ?? link.bandwidthBitsPerSecond
            link.loss = try fields["loss"]?.probability() ?? link.loss
            links.append(link)
        }
        return links
    }

    /// `data-path`: every field optional (defaults in ``DataPathSpec``).
    private func dataPath() throws(ScenarioError) -> DataPathSpec {
        let fields = try mapping(
            keys: ScenarioKeys.dataPath, what: "a mapping of path costs, like {ztunnel-latency: 35us}")
        var spec = DataPathSpec()
        spec.intraClusterLatency =
            try fields["intra-cluster-latency"]?.networkLatency() ?? spec.intraClusterLatency
        spec.ztunnelLatency = try fields["ztunnel-latency"]?.networkLatency() ?? spec.ztunnelLatency
        if let waypoint = fields["waypoint-latency"] {
            let none = waypoint.isNull || (waypoint.isBareScalar && waypoint.scalarText == "none")
            spec.waypointLatency = none ? nil : try waypoint.networkLatency()
        }
        spec.handshakeRoundTrips = try fields["handshake-round-trips"]?.integer(in: 0...10) ?? spec.handshakeRoundTrips
        spec.handshakeCPU = try fields["handshake-cpu"]?.networkLatency() ?? spec.handshakeCPU
        spec.gatewayHandshakeCPU =
            try fields["gateway-handshake-cpu"]?.networkLatency() ?? spec.gatewayHandshakeCPU
        spec.bytesPerToken = try fields["bytes-per-token"]?.number(.positive) ?? spec.bytesPerToken
        return spec
    }

    /// `failoverPriority`: distinct locality labels, most important first.
    private func failoverPriority() throws(ScenarioError) -> [LocalityLabel] {
        let known = LocalityLabel.allCases.map(\.rawValue)
        var labels: [LocalityLabel] = []
        for item in try sequence(nonEmpty: false, of: "locality labels (\(known.joined(separator: ", ")))") {
            let name = try item.string("a locality label (\(known.joined(separator: ", ")))")
            guard let label = LocalityLabel(rawValue: name) else {
                throw item.error("unknown locality label `\(name)`" + Suggestions.hint(for: name, among: known))
            }
            guard !labels.contains(label) else { throw item.error("locality label `\(name)` is listed twice") }
            labels.append(label)
        }
        return labels
    }

    /// `outlierDetection`: Envoy's names, every field optional (defaults in ``OutlierDetectionSpec``).
    private func outlierDetection() throws(ScenarioError) -> OutlierDetectionSpec {
        let fields = try mapping(
            keys: ScenarioKeys.outlierDetection,
            what: "a mapping like {consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s}")
        var spec = OutlierDetectionSpec()
        spec.consecutiveErrors =
            try fields["consecutive5xxErrors"]?.integer(in: 1...1_000_000) ?? spec.consecutiveErrors
        spec.interval = try fields["interval"]?.duration(allowZero: false) ?? spec.interval
        spec.baseEjectionTime = try fields["baseEjectionTime"]?.duration(allowZero: false) ?? spec.baseEjectionTime
        if let percent = fields["maxEjectionPercent"] {
            spec.maxEjectionPercent = try percent.number(.nonNegative)
            if spec.maxEjectionPercent > 100 { throw percent.expected("a percentage in 0...100") }
        }
        return spec
    }

    /// One entry of `faults`: `at`, an optional `duration`, and exactly one kind.
    private func fault(clusters: [String], pools: [PoolSpec]) throws(ScenarioError) -> FaultSpec {
        let kinds = ScenarioKeys.faultKinds
        let fields = try mapping(
            keys: ScenarioKeys.fault, what: "a fault mapping with `at` and one kind (\(kinds.joined(separator: ", ")))")
        let at = try fields.required("at", expecting: "when the fault starts, a duration like 5m").duration(
            allowZero: true)
        let duration = try fields["duration"]?.duration(allowZero: false)
        let present = kinds.filter { fields[$0] != nil }
        guard let kind = present.first, let block = fields[kind] else {
            throw error("expected one fault kind: \(kinds.joined(separator: ", "))")
        }
        if present.count > 1, let second = fields.keyReader(present[1]) {
            throw second.error("expected one fault kind, found \(present.joined(separator: " and "))")
        }
        switch ScenarioKeys.FaultKind(rawValue: kind)! {
        case .linkDown:
            let ends = try block.mapping(
                keys: ScenarioKeys.linkDown, what: "a mapping like {from: us-east, to: eu-west}")
            let (from, to) = try Self.clusterPair(ends, among: clusters)
            return FaultSpec(.linkDown(from, to), at: at, duration: duration)
        case .linkDegraded:
            let link = try block.mapping(
                keys: ScenarioKeys.linkDegraded,
                what: "a mapping like {from: us-east, to: eu-west, added-latency: 50ms, loss: 0.01}")
            let (from, to) = try Self.clusterPair(link, among: clusters)
            let added = try link["added-latency"]?.networkLatency() ?? .zero
            let loss = try link["loss"]?.probability() ?? 0
            return FaultSpec(.linkDegraded(from, to, addedLatency: added, loss: loss), at: at, duration: duration)
        case .clusterOutage:
            return FaultSpec(.clusterOutage(try block.clusterName(among: clusters)), at: at, duration: duration)
        case .gatewayOutage:
            return FaultSpec(.gatewayOutage(try block.clusterName(among: clusters)), at: at, duration: duration)
        case .replicaCrash:
            let crash = try block.mapping(
                keys: ScenarioKeys.replicaCrash, what: "a mapping like {pool: h100, replica: 3}")
            let poolReader = try crash.required("pool", expecting: "the name of a pool")
            let name = try poolReader.string("the name of a pool")
            guard let pool = pools.first(where: { $0.name == name }) else {
                throw poolReader.error("unknown pool `\(name)`" + Suggestions.hint(for: name, among: pools.map(\.name)))
            }
            // With an autoscaler, replicas up to its maximum may exist.
            let count = pool.autoscaler?.maxReplicas ?? pool.replicas
            let replicaReader = try crash.required("replica", expecting: "a replica index from 0")
            let replica = try replicaReader.integer(in: 0...Int.max)
            guard replica < count else {
                throw replicaReader.expected(
                    "a replica index in 0...\(count - 1) (pool `\(name)` has \(count) replicas, counted from 0)")
            }
            return FaultSpec(.replicaCrash(pool: name, replica: replica), at: at, duration: duration)
        }
    }
}
