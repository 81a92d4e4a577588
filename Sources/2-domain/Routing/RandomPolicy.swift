/// `random`: a uniform pick from the policy's seeded stream.
///
/// Why: the memoryless baseline; with n replicas each sees a Poisson share of a Poisson stream.
public struct RandomPolicy: RoutingPolicy {
    private let stream: RandomStream

    public init(stream: RandomStream) { self.stream = stream }

    public func pick(_ request: RoutingRequest, from candidates: [ReplicaView]) -> ReplicaID {
        candidates[stream.integer(below: candidates.count)].id
    }
}
