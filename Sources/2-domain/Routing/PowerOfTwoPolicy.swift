/// `power-of-two`: samples two distinct candidates and takes the one with fewer requests outstanding at the
/// router (ties: the first sampled).
///
/// Why: the classic "power of two choices" balancer (Envoy's LEAST_REQUEST default); nearly as good as a full
/// scan at a fraction of its cost, and less prone to herding on stale counts.
public struct PowerOfTwoPolicy: RoutingPolicy {
    private let stream: RandomStream

    public init(stream: RandomStream) { self.stream = stream }

    public func pick(_ request: RoutingRequest, from candidates: [ReplicaView]) -> ReplicaID {
        guard candidates.count > 1 else { return candidates[0].id }
        let first = stream.integer(below: candidates.count)
        var second = stream.integer(below: candidates.count - 1)
        if second >= first { second += 1 }
        return candidates[second].outstanding < candidates[first].outstanding
            ? candidates[second].id : candidates[first].id
    }
}
