/// What the network adds to one request between a client in one cluster and a replica, in ambient mode.
///
/// Same cluster: client → its node's ztunnel → the network → the replica's ztunnel → replica (plus a waypoint
/// if configured). Across clusters: client → ztunnel → the link → the remote east-west gateway → the network →
/// the replica's ztunnel, inside two tunnels (double HBONE): an outer one to the gateway, and an inner one,
/// through it, to the replica's ztunnel. A new connection pays the handshakes first: the outer tunnel's
/// round trips to the gateway and the gateway's handshake, then the inner one's over the whole path.
public struct PathCost: Sendable, Equatable {
    /// Fixed one-way latency of the path, either way (hops and links, no jitter, no bytes).
    public var oneWay: SimTime
    /// Time to open a new connection over the path.
    public var handshake: SimTime
    /// Whether the path crosses clusters (and so an east-west gateway).
    public var crossesClusters: Bool

    /// The round trip of a request that needs nothing but the path (a reused connection, an instant reply).
    public var roundTrip: SimTime { oneWay + oneWay }

    /// The path from a client in cluster `origin` to a replica in cluster `destination`; `added` is extra
    /// latency a fault puts on the link between them.
    public static func of(
        _ mesh: MeshSpec, from origin: Int, to destination: Int, added: SimTime = .zero
    ) -> PathCost {
        let path = mesh.dataPath
        let hops = path.ztunnelLatency + path.ztunnelLatency + (path.waypointLatency ?? .zero)
        let rounds = Int64(path.handshakeRoundTrips)
        guard origin != destination else {
            let oneWay = hops + path.intraClusterLatency
            let handshake = SimTime(nanoseconds: (oneWay + oneWay).nanoseconds * rounds) + path.handshakeCPU
            return PathCost(oneWay: oneWay, handshake: handshake, crossesClusters: false)
        }
        let link = (mesh.link(origin, destination)?.latency ?? .zero) + added
        let gateway = mesh.eastWestGateway.latency
        let oneWay = hops + link + gateway + path.intraClusterLatency
        // The outer tunnel ends at the gateway: TCP and TLS to it, and its handshake work.
        let toGateway = path.ztunnelLatency + link + gateway
        let outer =
            SimTime(nanoseconds: (toGateway + toGateway).nanoseconds * rounds) + path.handshakeCPU
            + path.gatewayHandshakeCPU
        // The inner tunnel runs inside it, end to end: TLS only, no TCP of its own.
        let inner = SimTime(nanoseconds: (oneWay + oneWay).nanoseconds * max(0, rounds - 1)) + path.handshakeCPU
        return PathCost(oneWay: oneWay, handshake: outer + inner, crossesClusters: true)
    }
}
