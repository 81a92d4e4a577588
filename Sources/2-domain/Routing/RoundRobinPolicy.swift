/// `round-robin`: the i-th request of the pool goes to candidate i mod n.
///
/// Why: the baseline every gateway ships (Envoy's default). Inputs: none but the candidate list.
public struct RoundRobinPolicy: RoutingPolicy {
    private var next = 0

    public init() {}

    public mutating func pick(_ request: RoutingRequest, from candidates: [ReplicaView]) -> ReplicaID {
        let chosen = candidates[next % candidates.count].id
        next = (next + 1) % candidates.count
        return chosen
    }
}
