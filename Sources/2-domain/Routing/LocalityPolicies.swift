/// Cross-cluster routing policies. Each sees every healthy replica of the pool with its locality tier and the
/// network round trip from the request's origin.

/// `uniform`: every candidate alike, as ambient mode balances across clusters by default; the mesh's pooled
/// connections pick the backend in a remote cluster (``RoutingPolicy/meshBalanced``).
public struct UniformPolicy: RoutingPolicy {
    private let stream: RandomStream

    public init(stream: RandomStream) { self.stream = stream }

    public var meshBalanced: Bool { true }

    public mutating func pick(_ request: RoutingRequest, from candidates: [ReplicaView]) -> ReplicaID {
        candidates[stream.integer(below: candidates.count)].id
    }
}

/// `local-first` and `spillover`: an inner policy over the closest locality tier that has candidates; with
/// `spillover`, when every replica there is saturated (the saturation detector, on the router's metrics), the
/// next tiers join until one has a replica that is not.
public struct LocalityFirstPolicy: RoutingPolicy {
    private var inner: any RoutingPolicy
    private let saturation: SaturationDetectorSpec?
    private var subset: [ReplicaView] = []

    /// `saturation` nil: never spill (local-first, which only fails over when the local tier is empty).
    public init(inner: any RoutingPolicy, spillAt saturation: SaturationDetectorSpec?) {
        self.inner = inner
        self.saturation = saturation
    }

    public var needs: PolicyNeeds {
        saturation == nil ? inner.needs : inner.needs.union(PolicyNeeds(metrics: true))
    }

    public mutating func pick(_ request: RoutingRequest, from candidates: [ReplicaView]) -> ReplicaID {
        // The closest tier; spilling, the closest with a replica that is not saturated (else the farthest).
        var limit = candidates.lazy.map(\.localityTier).min()!
        if let saturation {
            while !candidates.contains(where: { $0.localityTier == limit && !saturation.isSaturated($0) }),
                let next = candidates.lazy.map(\.localityTier).filter({ $0 > limit }).min()
            {
                limit = next
            }
        }
        subset.removeAll(keepingCapacity: true)
        subset.append(contentsOf: candidates.lazy.filter { $0.localityTier <= limit })
        return inner.pick(request, from: subset)
    }

    public mutating func routed(_ request: RoutingRequest, to replica: ReplicaID) {
        inner.routed(request, to: replica)
    }
}
