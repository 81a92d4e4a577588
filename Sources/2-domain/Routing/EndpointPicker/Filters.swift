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

/// `least-queue`: keeps the candidates whose waiting queue lies in the lowest 1/n of the range [min, max] over
/// the n candidates, so the next filter or the picker still has a choice among near-best replicas.
public struct LeastQueueFilter: EndpointFilter {
    public var needs: PolicyNeeds { PolicyNeeds(metrics: true) }

    public init() {}

    public func filter(_ request: RoutingRequest, _ candidates: [ReplicaView]) -> [ReplicaView] {
        guard let low = candidates.map(\.waiting).min(), let high = candidates.map(\.waiting).max() else {
            return candidates
        }
        // Integer division, as the extension computes the band.
        let ceiling = low + (high - low) / candidates.count
        return candidates.filter { $0.waiting <= ceiling }
    }
}

/// `least-kv-cache`: keeps the candidates whose KV-cache usage lies in the lowest 1/n of the range over the n
/// candidates.
public struct LeastKVCacheFilter: EndpointFilter {
    public var needs: PolicyNeeds { PolicyNeeds(metrics: true) }

    public init() {}

    public func filter(_ request: RoutingRequest, _ candidates: [ReplicaView]) -> [ReplicaView] {
        guard let low = candidates.map(\.kvCacheUsage).min(), let high = candidates.map(\.kvCacheUsage).max() else {
            return candidates
        }
        let ceiling = low + (high - low) / Double(candidates.count)
        return candidates.filter { $0.kvCacheUsage <= ceiling }
    }
}
