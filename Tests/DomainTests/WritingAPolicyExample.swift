public import Routing

/// `fewest-waiting`: the candidate with the fewest requests waiting at its last scrape.
///
/// Why: a replica's waiting queue is the most direct sign that it is full (the extension's `queue-scorer` reads
/// it too), and a request sent to a replica with an idle server starts at once.
/// Inputs: the scraped `waiting` gauge, so it declares `needs.metrics`, and the router's own `outstanding` count,
/// which is always current and separates replicas that a stale scrape shows alike.
/// Ties: fewer outstanding, then the lowest replica id: a stated rule, so it needs no random stream.
/// Configuration: none.
public struct FewestWaitingPolicy: RoutingPolicy {
    public init() {}

    public var needs: PolicyNeeds { PolicyNeeds(metrics: true) }

    public mutating func pick(_ request: RoutingRequest, from candidates: [ReplicaView]) -> ReplicaID {
        var best = candidates[0]
        for view in candidates.dropFirst() where (view.waiting, view.outstanding) < (best.waiting, best.outstanding) {
            best = view
        }
        return best.id
    }
}
