/// `prefix-affinity-until-saturated`: sticks to the replica with the longest prefix match while the gateway's
/// saturation detector says it is not full; otherwise, and for requests without a match, the least-loaded
/// replica.
///
/// Why: the simplest prefix-aware rule that gateways ship (route by prefix, spill on load). "Best match" is the
/// most matched blocks, then the fewest outstanding requests; "least loaded" is the fewest waiting requests at
/// the last scrape, then the fewest outstanding; remaining ties at random.
public struct PrefixAffinityUntilSaturatedPolicy: RoutingPolicy {
    public let saturation: SaturationDetectorSpec
    public let needs: PolicyNeeds
    private let stream: RandomStream
    private var ties: [ReplicaID] = []

    public init(
        stream: RandomStream, saturation: SaturationDetectorSpec = SaturationDetectorSpec(),
        matching: PrefixMatching = PrefixMatching()
    ) {
        self.stream = stream
        self.saturation = saturation
        self.needs = PolicyNeeds(metrics: true, prefix: matching)
    }

    public mutating func pick(_ request: RoutingRequest, from candidates: [ReplicaView]) -> ReplicaID {
        let bestMatch = candidates.map(\.prefixMatchedBlocks).max() ?? 0
        if bestMatch > 0 {
            let best = lowest(candidates.filter { $0.prefixMatchedBlocks == bestMatch }) { $0.outstanding }
            if !saturation.isSaturated(best) { return best.id }
        }
        let fewestWaiting = candidates.map(\.waiting).min()!
        return lowest(candidates.filter { $0.waiting == fewestWaiting }) { $0.outstanding }.id
    }

    /// The view with the lowest `key`; ties uniformly from the stream.
    private mutating func lowest(_ views: [ReplicaView], by key: (ReplicaView) -> Int) -> ReplicaView {
        let low = views.map(key).min()!
        let tied = views.filter { key($0) == low }
        return tied.count == 1 ? tied[0] : tied[stream.integer(below: tied.count)]
    }
}
