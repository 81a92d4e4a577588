/// The fleet's events. The kernel orders them; only their `digestCode` is mixed into the digest.
public enum FleetEvent: DigestibleEvent {
    /// The next request of a workload arrives.
    case arrival(WorkloadID)
    /// A timer a replica asked for.
    case replicaTimer(ReplicaID, ReplicaTimer)
    /// A request's deadline.
    case timeout(RequestID)
    /// Sample every replica's gauges.
    case sample
    /// The warm-up ends: snapshot the replicas' integrals.
    case warmupEnd

    public var digestCode: UInt64 {
        switch self {
        case .arrival(let w): return 1 << 56 | UInt64(w.index)
        case .replicaTimer(let r, let t):
            return 2 << 56 ^ UInt64(r.index) << 32 ^ UInt64(t.code) << 24 ^ StableHash.mix(t.token)
        case .timeout(let id): return 3 << 56 | UInt64(id.index)
        case .sample: return 4 << 56
        case .warmupEnd: return 5 << 56
        }
    }
}

/// An internal inconsistency found at the end of a run; always a bug, never bad input.
public struct InvariantViolation: Error, CustomStringConvertible {
    public let description: String
}

/// A policy name that is not in ``PolicyRegistry``.
public struct UnknownPolicy: Error, CustomStringConvertible {
    public let name: String
    public var description: String {
        "unknown policy '\(name)'; registered: \(PolicyRegistry.names.joined(separator: ", "))"
    }
}
