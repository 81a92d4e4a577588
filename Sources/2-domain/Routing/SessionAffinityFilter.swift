/// Session affinity at the gateway: a session's next request goes to the replica that served its previous
/// turn, while that replica is a candidate and the saturation detector, on the router's scraped metrics, does
/// not call it full; otherwise the pool's policy decides.
///
/// It reads scraped metrics, and says so in ``needs``: the router then scrapes even under policies that read
/// none (round-robin, least-connections), so affinity does not see every replica as stale and saturated.
public struct SessionAffinityFilter: Sendable {
    public let saturation: SaturationDetectorSpec
    /// What it reads: the replicas' scraped metrics.
    public static let needs = PolicyNeeds(metrics: true)

    public init(saturation: SaturationDetectorSpec) { self.saturation = saturation }

    /// The replica to keep the session on, or nil to leave the pick to the policy. `view` is the previous
    /// replica's view with its metrics filled, asked for only if that replica is among `candidates`.
    public func pin(
        previous: ReplicaID?, candidates: [ReplicaID], view: (ReplicaID) -> ReplicaView
    ) -> ReplicaID? {
        guard let previous, candidates.contains(previous) else { return nil }
        return saturation.isSaturated(view(previous)) ? nil : previous
    }
}
