/// The settings of one replica kind. Each kind is one case here plus one file with its model.
///
/// The GPU inference replica (continuous batching, paged KV cache) is the next kind to add.
public enum ReplicaSpec: Sendable, Equatable {
    /// A c-server queueing station (validation model).
    case station(StationSpec)

    /// The kind's registry name, as written in scenarios.
    public var kind: String {
        switch self {
        case .station: return "station"
        }
    }

    /// Every kind's name, for errors and `infermesh list`.
    public static let kindNames = ["station"]

    /// Builds one replica of this kind, drawing from streams named `serving/<replica name>/...`.
    public func makeReplica(name: String, streams: RandomStreams) -> any ReplicaModel {
        switch self {
        case .station(let spec):
            return StationReplica(spec: spec, serviceStream: streams.stream("serving/\(name)/service"))
        }
    }
}

/// A named group of identical replicas that routing picks among.
public struct PoolSpec: Sendable, Equatable {
    /// The pool's name, unique in the scenario.
    public var name: String
    /// How many replicas.
    public var replicas: Int
    /// What each replica is.
    public var replica: ReplicaSpec

    public init(name: String, replicas: Int, replica: ReplicaSpec) {
        self.name = name
        self.replicas = replicas
        self.replica = replica
    }
}
