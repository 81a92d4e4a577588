/// `least-connections`: the candidate with the fewest requests outstanding at the router.
///
/// Why: the usual load-aware baseline (Envoy's LEAST_REQUEST with full scan). Ties are broken uniformly
/// from the policy's seeded stream, so equal replicas share load evenly and runs stay reproducible.
public struct LeastConnectionsPolicy: RoutingPolicy {
    private let stream: RandomStream
    private var ties: [ReplicaID] = []

    public init(stream: RandomStream) { self.stream = stream }

    public mutating func pick(_ request: RoutingRequest, from candidates: [ReplicaView]) -> ReplicaID {
        var fewest = Int.max
        ties.removeAll(keepingCapacity: true)
        for view in candidates {
            if view.outstanding < fewest {
                fewest = view.outstanding
                ties.removeAll(keepingCapacity: true)
            }
            if view.outstanding == fewest { ties.append(view.id) }
        }
        return ties.count == 1 ? ties[0] : ties[stream.integer(below: ties.count)]
    }
}
