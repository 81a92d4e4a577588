/// `low-queue`: keeps candidates with at most `threshold` waiting requests (all of them when none
/// qualifies).
public struct LowQueueFilter: EndpointFilter {
    public let threshold: Int
    public var needs: PolicyNeeds { PolicyNeeds(metrics: true) }

    public init(threshold: Int = 128) { self.threshold = threshold }

    public func filter(_ request: RoutingRequest, _ candidates: [ReplicaView]) -> [ReplicaView] {
        let kept = candidates.filter { $0.waiting <= threshold }
        return kept.isEmpty ? candidates : kept
    }
}

/// `fresh-metrics-filter`: drops candidates whose last scrape is older than the staleness limit, as the
/// extension treats a replica whose metrics it cannot trust (all of them when none is fresh).
public struct FreshMetricsFilter: EndpointFilter {
    public var needs: PolicyNeeds { PolicyNeeds(metrics: true) }

    public init() {}

    public func filter(_ request: RoutingRequest, _ candidates: [ReplicaView]) -> [ReplicaView] {
        let kept = candidates.filter(\.fresh)
        return kept.isEmpty ? candidates : kept
    }
}
