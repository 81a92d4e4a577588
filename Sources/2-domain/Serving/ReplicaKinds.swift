/// Every replica kind, by the name scenarios write it under; the one list `infermesh list replica-kinds`, the
/// scenario reader and its key list take their names from. A new kind is one case here and in ``ReplicaSpec``,
/// plus one file with its model.
public enum ReplicaKind: String, Sendable, CaseIterable {
    /// A c-server queueing station (validation model).
    case station
    /// A vLLM-style GPU inference engine.
    case gpu
}

/// The settings of one replica kind. Each kind is one case here plus one file with its model.
public enum ReplicaSpec: Sendable, Equatable {
    /// A c-server queueing station (validation model).
    case station(StationSpec)
    /// A vLLM-style GPU inference engine.
    case gpu(GPUReplicaSpec)

    /// The kind of replica this builds.
    public var replicaKind: ReplicaKind {
        switch self {
        case .station: return .station
        case .gpu: return .gpu
        }
    }

    /// The kind's registry name, as written in scenarios.
    public var kind: String { replicaKind.rawValue }

    /// Every kind's name, in registry order, for errors and `infermesh list`.
    public static let kindNames = ReplicaKind.allCases.map(\.rawValue)

    /// Builds one replica of this kind, drawing from streams named `serving/<replica name>/...`.
    public func makeReplica(name: String, streams: RandomStreams) -> any ReplicaModel {
        switch self {
        case .station(let spec):
            return StationReplica(spec: spec, serviceStream: streams.stream("serving/\(name)/service"))
        case .gpu(let spec):
            guard let timing = spec.timing.make() else {
                preconditionFailure("unvalidated timing model \(spec.timing)")  // the scenario loader checks names
            }
            return GPUReplica(
                settings: spec.engine, kvBlocks: spec.kvBlocks, timing: timing, lora: spec.lora,
                offload: spec.kvOffload)
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
    /// Sizes the pool at run time; `replicas` is then the count at time 0.
    public var autoscaler: AutoscalerSpec?
    /// Which cluster each replica runs in, in replica order: `replicas` counts summing to the pool's size.
    /// Nil: the first cluster (or no mesh).
    public var placement: [PoolPlacement]?
    /// What its replicas do in disaggregated serving (llm-d's `llm-d.ai/role` label).
    public var role = PoolRole.both

    /// Whether its replicas keep a CPU tier of KV blocks (`kv-offloading-size`).
    public var hasKVOffload: Bool {
        if case .gpu(let gpu) = replica { gpu.kvOffload != nil } else { false }
    }

    public init(name: String, replicas: Int, replica: ReplicaSpec) {
        self.name = name
        self.replicas = replicas
        self.replica = replica
    }

    /// The model on its GPUs, for GPU replicas whose timing model knows it (roofline, fitted or a profile).
    public var deployment: ModelDeployment? {
        guard case .gpu(let gpu) = replica else { return nil }
        return gpu.timing.deployment
    }
}

/// Replicas of a pool that run in one cluster.
public struct PoolPlacement: Sendable, Equatable {
    public var cluster: String
    public var replicas: Int

    public init(cluster: String, replicas: Int) {
        self.cluster = cluster
        self.replicas = replicas
    }
}

/// A pool's part in disaggregated serving, as llm-d labels pods (`llm-d.ai/role`): prefill replicas compute
/// prompts and hand their KV to decode replicas; `both` serves whole requests (and decodes, in llm-d's scheme).
public enum PoolRole: String, Sendable, CaseIterable {
    case prefill, decode, both
}
