/// HBONE connections from one origin to one destination, each carrying up to `maxStreamsPerConnection`
/// requests at once and pinned, when the mesh balances, to the backend chosen when it opened.
///
/// This reproduces the skew reported for double-HBONE pooling: a pooled east-west connection keeps sending
/// its requests to one remote backend, so until the per-connection stream limit is low enough that many
/// connections open, remote load is uneven.
public struct ConnectionPool: Sendable {
    public struct Connection: Sendable, Equatable {
        /// Unique within the pool, in opening order.
        public var id: Int
        /// The backend (replica index) its streams reach.
        public var backend: Int
        public var streams: Int
        public var lastUsed: SimTime
    }

    public let spec: ConnectionPoolSpec
    public private(set) var connections: [Connection] = []
    private var opened = 0

    public init(spec: ConnectionPoolSpec) { self.spec = spec }

    /// What acquiring a stream did.
    public enum Outcome: Sendable, Equatable {
        /// Reused connection `id`, whose backend is fixed.
        case reused(id: Int, backend: Int)
        /// Opened connection `id` to the backend asked for.
        case opened(id: Int, backend: Int)

        public var id: Int {
            switch self {
            case .reused(let id, _), .opened(let id, _): return id
            }
        }
        public var backend: Int {
            switch self {
            case .reused(_, let backend), .opened(_, let backend): return backend
            }
        }
    }

    /// A stream for a request at `now`: on an open connection to `backend` with room (or, with `pinned`, on any
    /// connection with room, whatever its backend); otherwise a new connection to `backend`;
    /// when the pool is full, the least-loaded connection is shared beyond its stream limit. Idle connections
    /// past the idle timeout are closed first.
    public mutating func acquire(backend: Int, pinned: Bool, now: SimTime) -> Outcome {
        connections.removeAll { $0.streams == 0 && now - $0.lastUsed >= spec.idleTimeout }
        let limit = spec.maxStreamsPerConnection
        // Among connections with room, the least loaded, then the least recently used: requests rotate over the
        // pool's connections, and so over the backends those connections are pinned to.
        let open = connections.indices.filter {
            connections[$0].streams < limit && (pinned || connections[$0].backend == backend)
        }
        if let index = open.min(by: {
            (connections[$0].streams, connections[$0].lastUsed) < (connections[$1].streams, connections[$1].lastUsed)
        }) {
            connections[index].streams += 1
            connections[index].lastUsed = now
            return .reused(id: connections[index].id, backend: connections[index].backend)
        }
        if connections.count < spec.maxConnections {
            opened += 1
            connections.append(Connection(id: opened, backend: backend, streams: 1, lastUsed: now))
            return .opened(id: opened, backend: backend)
        }
        let candidates = connections.indices.filter { pinned || connections[$0].backend == backend }
        let index = candidates.min { connections[$0].streams < connections[$1].streams } ?? 0
        connections[index].streams += 1
        connections[index].lastUsed = now
        return .reused(id: connections[index].id, backend: connections[index].backend)
    }

    /// Frees the stream a request held on connection `id` (gone already if its backend was dropped).
    public mutating func release(id: Int, now: SimTime) {
        if let index = connections.firstIndex(where: { $0.id == id && $0.streams > 0 }) {
            connections[index].streams -= 1
            connections[index].lastUsed = now
        }
    }

    /// Drops every connection (the path broke).
    public mutating func dropAll() { connections.removeAll() }
}
