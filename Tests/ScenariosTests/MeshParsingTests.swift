import Testing

@testable import Scenarios

/// `clusters`, `mesh`, a pool's `placement` and a workload's `cluster`: read into a ``MeshSpec``, every mistake
/// located.
@Suite struct MeshParsingTests {
    /// Lines: 1 horizon, 2 clusters, 3-4 the two clusters, 5 mesh, 6 links, 7 the link, 8 data-path,
    /// 9 east-west-gateway, 10 connectionPool, 11 trafficDistribution, 12 failoverPriority, 13 outlierDetection,
    /// 14 retries, 15 faults, 16-20 the faults, 21 pools, 22 `- name: h100`, 23 replicas, 24 placement,
    /// 25 station, 26 workloads, 27 `- name: chat`, 28 cluster, 29 rate.
    static let full = """
        horizon: 10m
        clusters:
          - {name: us-east, region: us-east1, zone: us-east1-b, nodes: 4}
          - {name: eu-west, region: europe-west1, zone: europe-west1-c}
        mesh:
          links:
            - {from: us-east, to: eu-west, latency: 40ms, jitter: 2ms, bandwidth: 400Mbps, loss: 0.001}
          data-path: {intra-cluster-latency: 30us, ztunnel-latency: 40us, waypoint-latency: 50us, handshake-round-trips: 3, handshake-cpu: 100us, gateway-handshake-cpu: 1.5ms, bytes-per-token: 6}
          east-west-gateway: {latency: 60us, concurrency: 500}
          connectionPool: {maxConnections: 64, maxConcurrentStreams: 10, idleTimeout: 5m}
          trafficDistribution: PreferClose
          failoverPriority: [topology.kubernetes.io/zone, topology.istio.io/cluster]
          outlierDetection: {consecutive5xxErrors: 3, interval: 5s, baseEjectionTime: 1m, maxEjectionPercent: 50}
          retries: {attempts: 1, perTryTimeout: 30s}
          faults:
            - {at: 5m, duration: 2m, link-down: {from: us-east, to: eu-west}}
            - {at: 5m, duration: 1m, link-degraded: {from: eu-west, to: us-east, added-latency: 50ms, loss: 0.01}}
            - {at: 6m, cluster-outage: us-east}
            - {at: 0s, duration: 30s, replica-crash: {pool: h100, replica: 7}}
            - {at: 7m, duration: 1m, gateway-outage: eu-west}
        pools:
          - name: h100
            replicas: 8
            placement: [{cluster: us-east, replicas: 5}, {cluster: eu-west, replicas: 3}]
            station: {servers: 1, service: 1s}
        workloads:
          - name: chat
            cluster: eu-west
            rate: 20/s

        """

    static func edited(_ original: String, _ replacement: String) -> String {
        precondition(full.contains(original), "the example has no \(original)")
        return full.replacingOccurrences(of: original, with: replacement)
    }

    @Test func gatewaysAreGlobalUnlessSetPerCluster() throws {
        #expect(try ScenarioLoader.parse(Self.full, file: "t.yaml").fleet.mesh?.gateways == .global)
        let perCluster = Self.edited(
            "trafficDistribution: PreferClose", "trafficDistribution: PreferClose\n  gateways: per-cluster")
        #expect(try ScenarioLoader.parse(perCluster, file: "t.yaml").fleet.mesh?.gateways == .perCluster)
    }

    @Test func aFullMeshIsRead() throws {
        let fleet = try ScenarioLoader.parse(Self.full, file: "t.yaml").fleet
        let expected = MeshSpec(
            clusters: [
                ClusterSpec(name: "us-east", region: "us-east1", zone: "us-east1-b", nodes: 4),
                ClusterSpec(name: "eu-west", region: "europe-west1", zone: "europe-west1-c", nodes: 1),
            ],
            links: [
                LinkSpec(
                    from: "us-east", to: "eu-west", latency: .milliseconds(40), jitter: .milliseconds(2),
                    bandwidthBitsPerSecond: 400e6, loss: 0.001)
            ],
            dataPath: DataPathSpec(
                intraClusterLatency: .microseconds(30), ztunnelLatency: .microseconds(40),
                waypointLatency: .microseconds(50), handshakeRoundTrips: 3, handshakeCPU: .microseconds(100),
                gatewayHandshakeCPU: .microseconds(1500), bytesPerToken: 6),
            eastWestGateway: EastWestGatewaySpec(latency: .microseconds(60), concurrency: 500),
            connectionPool: ConnectionPoolSpec(
                maxConnections: 64, maxStreamsPerConnection: 10, idleTimeout: .seconds(300)),
            trafficDistribution: .preferClose,
            failoverPriority: [.zone, .cluster],
            outlierDetection: OutlierDetectionSpec(
                consecutiveErrors: 3, interval: .seconds(5), baseEjectionTime: .seconds(60), maxEjectionPercent: 50),
            retries: RetrySpec(attempts: 1, perTryTimeout: .seconds(30)),
            faults: [
                FaultSpec(.linkDown("us-east", "eu-west"), at: .seconds(300), duration: .seconds(120)),
                FaultSpec(
                    .linkDegraded("eu-west", "us-east", addedLatency: .milliseconds(50), loss: 0.01),
                    at: .seconds(300), duration: .seconds(60)),
                FaultSpec(.clusterOutage("us-east"), at: .seconds(360)),
                FaultSpec(.replicaCrash(pool: "h100", replica: 7), at: .zero, duration: .seconds(30)),
                FaultSpec(.gatewayOutage("eu-west"), at: .seconds(420), duration: .seconds(60)),
            ])
        #expect(fleet.mesh == expected)
        #expect(
            fleet.pools[0].placement == [
                PoolPlacement(cluster: "us-east", replicas: 5), PoolPlacement(cluster: "eu-west", replicas: 3),
            ])
        #expect(fleet.workloads[0].cluster == "eu-west")
    }

    @Test func clustersWithoutAMeshBlockTakeTheDefaults() throws {
        let text = """
            horizon: 10m
            clusters:
              - {name: a, region: r1, zone: z1}
              - {name: b, region: r2, zone: z2, nodes: 3}
            pools:
              - {name: p, replicas: 2, station: {servers: 1, service: 1s}}
            workloads:
              - {name: w, rate: 1/s}

            """
        let fleet = try ScenarioLoader.parse(text, file: "t.yaml").fleet
        let clusters = [
            ClusterSpec(name: "a", region: "r1", zone: "z1"),
            ClusterSpec(name: "b", region: "r2", zone: "z2", nodes: 3),
        ]
        #expect(fleet.mesh == MeshSpec(clusters: clusters))
        // The fleet puts these in the first cluster; the spec leaves them unset.
        #expect(fleet.pools[0].placement == nil && fleet.workloads[0].cluster == nil)
    }

    @Test func emptyBlocksTakeTheDefaults() throws {
        var text = Self.full
        let block = try #require(text.range(of: "mesh:\n")).lowerBound..<#require(text.range(of: "pools:\n")).lowerBound
        text.replaceSubrange(block, with: "mesh:\n  data-path: {}\n  retries: {}\n  links: []\n  faults: []\n")
        let mesh = try #require(try ScenarioLoader.parse(text, file: "t.yaml").fleet.mesh)
        #expect(mesh.links.isEmpty && mesh.faults.isEmpty && mesh.outlierDetection == nil)
        #expect(mesh.dataPath == DataPathSpec() && mesh.retries == RetrySpec())
        #expect(mesh.trafficDistribution == .any && mesh.failoverPriority == [.region, .zone])
    }

    @Test func linkDefaultsAndOutlierDefaults() throws {
        let text = Self.edited(
            "latency: 40ms, jitter: 2ms, bandwidth: 400Mbps, loss: 0.001}", "latency: 40ms}"
        ).replacingOccurrences(
            of: "{consecutive5xxErrors: 3, interval: 5s, baseEjectionTime: 1m, maxEjectionPercent: 50}", with: "{}")
        let mesh = try #require(try ScenarioLoader.parse(text, file: "t.yaml").fleet.mesh)
        #expect(mesh.links == [LinkSpec(from: "us-east", to: "eu-west", latency: .milliseconds(40))])
        #expect(mesh.links[0].bandwidthBitsPerSecond == 10e9)
        #expect(mesh.outlierDetection == OutlierDetectionSpec())
    }

    @Test(arguments: [("10Gbps", 10e9), ("400Mbps", 400e6), ("1e9bps", 1e9), ("2.5Kbps", 2500), ("1Tbps", 1e12)])
    func bandwidthsAreReadInBitsPerSecond(written: String, bitsPerSecond: Double) throws {
        let text = Self.edited("bandwidth: 400Mbps", "bandwidth: \(written)")
        let mesh = try #require(try ScenarioLoader.parse(text, file: "t.yaml").fleet.mesh)
        #expect(mesh.links[0].bandwidthBitsPerSecond == bitsPerSecond)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let original: String
        let replacement: String
        let expected: String
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(
            label: "duplicate cluster", original: "{name: eu-west, region", replacement: "{name: us-east, region",
            expected:
                "t.yaml:4:12: error: at clusters[1].name: duplicate cluster name `us-east` (first at 3:12); cluster names must be unique"
        ),
        Case(
            label: "invalid cluster name", original: "{name: eu-west, region", replacement: "{name: eu west, region",
            expected:
                "t.yaml:4:12: error: at clusters[1].name: expected a name of letters, digits, `.`, `_` and `-`, found \"eu west\""
        ),
        Case(
            label: "cluster without zone", original: ", zone: europe-west1-c}", replacement: "}",
            expected: "t.yaml:4:5: error: at clusters[1]: missing required key `zone` (a zone label, like us-east1-b)"
        ),
        Case(
            label: "unknown cluster in a link", original: "{from: us-east, to: eu-west, latency: 40ms",
            replacement: "{from: us-east, to: eu-wst, latency: 40ms",
            expected:
                "t.yaml:7:27: error: at mesh.links[0].to: unknown cluster `eu-wst`; did you mean `eu-west`?"
        ),
        Case(
            label: "link to itself", original: "{from: us-east, to: eu-west, latency: 40ms",
            replacement: "{from: us-east, to: us-east, latency: 40ms",
            expected:
                "t.yaml:7:27: error: at mesh.links[0].to: a link joins two different clusters; `from` and `to` are both `us-east`"
        ),
        Case(
            label: "duplicate link in the other order",
            original: "loss: 0.001}\n",
            replacement: "loss: 0.001}\n    - {from: eu-west, to: us-east, latency: 30ms}\n",
            expected:
                "t.yaml:8:7: error: at mesh.links[1]: duplicate link between `eu-west` and `us-east` (first at 7:7); links are symmetric, so declare each pair once"
        ),
        Case(
            label: "bandwidth without a unit", original: "bandwidth: 400Mbps", replacement: "bandwidth: 400",
            expected:
                "t.yaml:7:75: error: at mesh.links[0].bandwidth: expected a bandwidth > 0 with a unit (bps, Kbps, Mbps, Gbps, Tbps), like 10Gbps or 400Mbps, found 400"
        ),
        Case(
            label: "loss above 1", original: "loss: 0.001}", replacement: "loss: 2}",
            expected: "t.yaml:7:90: error: at mesh.links[0].loss: expected a probability in 0...1, found 2"
        ),
        Case(
            label: "negative jitter", original: "jitter: 2ms", replacement: "jitter: -2ms",
            expected:
                "t.yaml:7:59: error: at mesh.links[0].jitter: expected a non-negative duration, found \"-2ms\""
        ),
        // A path adds its latencies and multiplies them by its round trips: 292 years trapped on overflow
        // (found by the scenario fuzzer); an hour is the most any mesh latency takes.
        Case(
            label: "link latency beyond an hour", original: "latency: 40ms", replacement: "latency: 2562047h",
            expected:
                "t.yaml:7:45: error: at mesh.links[0].latency: expected a network latency of at most 1h, found \"2562047h\""
        ),
        Case(
            label: "added latency beyond an hour", original: "added-latency: 50ms", replacement: "added-latency: 61m",
            expected:
                "t.yaml:17:89: error: at mesh.faults[1].link-degraded.added-latency: expected a network latency of at most 1h, found \"61m\""
        ),
        Case(
            label: "waypoint latency beyond an hour", original: "waypoint-latency: 50us",
            replacement: "waypoint-latency: 3601s",
            expected:
                "t.yaml:8:85: error: at mesh.data-path.waypoint-latency: expected a network latency of at most 1h, found \"3601s\""
        ),
        Case(
            label: "placement counts do not sum", original: "{cluster: eu-west, replicas: 3}",
            replacement: "{cluster: eu-west, replicas: 2}",
            expected:
                "t.yaml:24:16: error: at pools[0].placement: the placement's replicas sum to 7, but the pool has `replicas: 8`; they must be equal"
        ),
        Case(
            label: "placement count zero", original: "{cluster: us-east, replicas: 5}",
            replacement: "{cluster: us-east, replicas: 0}",
            expected: "t.yaml:24:46: error: at pools[0].placement[0].replicas: expected a positive integer, found 0"
        ),
        Case(
            label: "placement in an unknown cluster", original: "{cluster: eu-west, replicas: 3}",
            replacement: "{cluster: ap-south, replicas: 3}",
            expected:
                "t.yaml:24:60: error: at pools[0].placement[1].cluster: unknown cluster `ap-south`; expected one of: us-east, eu-west"
        ),
        Case(
            label: "placement names a cluster twice", original: "{cluster: eu-west, replicas: 3}",
            replacement: "{cluster: us-east, replicas: 3}",
            expected:
                "t.yaml:24:60: error: at pools[0].placement[1].cluster: cluster `us-east` is placed twice (first at 24:27); give it one count"
        ),
        Case(
            label: "failover label twice", original: "topology.istio.io/cluster]",
            replacement: "topology.kubernetes.io/zone]",
            expected:
                "t.yaml:12:51: error: at mesh.failoverPriority[1]: locality label `topology.kubernetes.io/zone` is listed twice"
        ),
        Case(
            label: "placement with an autoscaler", original: "    station: {servers: 1",
            replacement: "    autoscaler: {metric: concurrency, target: 5, max-replicas: 16}\n    station: {servers: 1",
            expected:
                "t.yaml:24:5: error: at pools[0].placement: a pool with an `autoscaler` cannot have a `placement` yet (not supported: the autoscaler does not choose clusters); remove one of them"
        ),
        Case(
            label: "workload in an unknown cluster", original: "    cluster: eu-west\n",
            replacement: "    cluster: euwest\n",
            expected: "t.yaml:28:14: error: at workloads[0].cluster: unknown cluster `euwest`; did you mean `eu-west`?"
        ),
        Case(
            label: "fault with two kinds", original: "{at: 6m, cluster-outage: us-east}",
            replacement: "{at: 6m, cluster-outage: us-east, gateway-outage: us-east}",
            expected:
                "t.yaml:18:41: error: at mesh.faults[2].gateway-outage: expected one fault kind, found cluster-outage and gateway-outage"
        ),
        Case(
            label: "fault with no kind", original: "{at: 6m, cluster-outage: us-east}", replacement: "{at: 6m}",
            expected:
                "t.yaml:18:7: error: at mesh.faults[2]: expected one fault kind: link-down, link-degraded, cluster-outage, replica-crash, gateway-outage"
        ),
        Case(
            label: "fault in an unknown cluster", original: "cluster-outage: us-east}",
            replacement: "cluster-outage: us-esat}",
            expected:
                "t.yaml:18:32: error: at mesh.faults[2].cluster-outage: unknown cluster `us-esat`; did you mean `us-east`?"
        ),
        Case(
            label: "replica index out of range", original: "replica: 7}", replacement: "replica: 8}",
            expected:
                "t.yaml:19:68: error: at mesh.faults[3].replica-crash.replica: expected a replica index in 0...7 (pool `h100` has 8 replicas, counted from 0), found 8"
        ),
        Case(
            label: "replica crash in an unknown pool", original: "{pool: h100, replica: 7}",
            replacement: "{pool: h10, replica: 7}",
            expected:
                "t.yaml:19:53: error: at mesh.faults[3].replica-crash.pool: unknown pool `h10`; did you mean `h100`?"
        ),
        Case(
            label: "unknown failover label", original: "topology.istio.io/cluster]",
            replacement: "topology.istio.io/clusters]",
            expected:
                "t.yaml:12:51: error: at mesh.failoverPriority[1]: unknown locality label `topology.istio.io/clusters`; did you mean `topology.istio.io/cluster`?"
        ),
        Case(
            label: "unknown traffic distribution", original: "trafficDistribution: PreferClose",
            replacement: "trafficDistribution: preferclose",
            expected:
                "t.yaml:11:24: error: at mesh.trafficDistribution: unknown trafficDistribution `preferclose`; did you mean `PreferClose`?"
        ),
        Case(
            label: "unknown gateway scope", original: "trafficDistribution: PreferClose",
            replacement: "trafficDistribution: PreferClose\n  gateways: per-clustr",
            expected:
                "t.yaml:12:13: error: at mesh.gateways: unknown gateways `per-clustr`; did you mean `per-cluster`?"
        ),
        Case(
            label: "kebab-case Istio key", original: "connectionPool: {", replacement: "connection-pool: {",
            expected:
                "t.yaml:10:3: error: at mesh.connection-pool: unknown key `connection-pool`; did you mean `connectionPool`?"
        ),
        Case(
            label: "mesh without clusters",
            original:
                "clusters:\n  - {name: us-east, region: us-east1, zone: us-east1-b, nodes: 4}\n  - {name: eu-west, region: europe-west1, zone: europe-west1-c}\n",
            replacement: "",
            expected:
                "t.yaml:2:1: error: at mesh: `mesh` needs a top-level `clusters` list of the clusters it joins"
        ),
    ]

    @Test(arguments: cases)
    func meshMistakesAreLocated(_ example: Case) {
        #expect(Support.error(Self.edited(example.original, example.replacement))?.description == example.expected)
    }

    /// Every mesh latency at its largest, an hour, with the most handshake round trips: the paths' costs fit in
    /// the clock and a run goes through (the arithmetic trapped on longer ones before they were refused).
    @Test func theLongestLatenciesRun() throws {
        var text = Self.full
        for (original, replacement) in [
            ("latency: 40ms, jitter: 2ms", "latency: 1h, jitter: 1h"),
            ("intra-cluster-latency: 30us, ztunnel-latency: 40us", "intra-cluster-latency: 1h, ztunnel-latency: 1h"),
            ("waypoint-latency: 50us, handshake-round-trips: 3", "waypoint-latency: 1h, handshake-round-trips: 10"),
            ("handshake-cpu: 100us, gateway-handshake-cpu: 1.5ms", "handshake-cpu: 1h, gateway-handshake-cpu: 1h"),
            ("east-west-gateway: {latency: 60us", "east-west-gateway: {latency: 1h"),
            ("added-latency: 50ms", "added-latency: 1h"),
        ] {
            #expect(text.contains(original))
            text = text.replacingOccurrences(of: original, with: replacement)
        }
        let scenario = try ScenarioLoader.parse(text, file: "t.yaml")
        let mesh = try #require(scenario.fleet.mesh)
        let path = PathCost.of(mesh, from: 0, to: 1, added: .seconds(3600))
        #expect(path.oneWay == .seconds(7 * 3600))  // two ztunnels, the waypoint, link + added, gateway, intra
        #expect(path.handshake > path.oneWay && path.handshake < .seconds(1_000 * 3600))
        var fleet = scenario.fleet
        fleet.horizon = .seconds(2)
        let output = try FleetRun.execute(fleet, policy: "round-robin", seed: 1, eventLimit: 20_000)
        #expect(output.requestCount > 0)
    }

    @Test func placementAndClusterWithoutClustersAreErrors() {
        let placement = Support.scenario([
            "    replicas: 4\n": "    replicas: 4\n    placement: [{cluster: a, replicas: 4}]\n"
        ])
        #expect(
            Support.error(placement)?.description
                == "t.yaml:6:5: error: at pools[0].placement: `placement` needs a top-level `clusters` list to place replicas in"
        )
        let cluster = Support.scenario(["    rate: 20/s\n": "    rate: 20/s\n    cluster: a\n"])
        #expect(
            Support.error(cluster)?.description
                == "t.yaml:12:5: error: at workloads[0].cluster: `cluster` needs a top-level `clusters` list to name a cluster from"
        )
    }
}
