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
    /// The router scrapes one replica's metrics.
    case scrape(ReplicaID)
    /// A routed request reaches its replica; `attempt` tells a retry's delivery from a stale one.
    case deliver(RequestID, ReplicaID, attempt: Int32)
    /// A request's longest wait in the gateway queue is over.
    case gatewayDeadline(RequestID)
    /// A pool's autoscaler decides.
    case autoscale(PoolID)
    /// A provisioned replica is ready to serve.
    case replicaReady(ReplicaID)
    /// A request's attempt reaches its per-try timeout (the attempt number says which).
    case perTryTimeout(RequestID, Int)
    /// A mesh fault begins or ends.
    case fault(Int, starting: Bool)
    /// Kubernetes removes a downed replica's endpoint.
    case endpointRemoval(ReplicaID)
    /// Outlier detection's interval check.
    case outlierCheck
    /// An agent session sends its next turn (or retries one).
    case sessionTurn(Int)
    /// An agent session sends the sub-agent calls its last turn asked for, when the response reaches the
    /// client after a network delay (without one they are sent at once).
    case subagents(Int)
    /// An agent session's connection reaches the gateway's maximum connection duration.
    case connectionLimit(Int)
    /// The KV fabric's next transfer ends (if the fabric's generation is still this one).
    case kvFlowsDue(UInt64)
    /// A split request's KV has reached its decode replica.
    case kvTransferred(RequestID)

    public var digestCode: UInt64 {
        switch self {
        case .arrival(let w): return 1 << 56 | UInt64(w.index)
        case .replicaTimer(let r, let t):
            return 2 << 56 ^ UInt64(r.index) << 32 ^ UInt64(t.code) << 24 ^ StableHash.mix(t.token)
        case .timeout(let id): return 3 << 56 | UInt64(id.index)
        case .sample: return 4 << 56
        case .warmupEnd: return 5 << 56
        case .scrape(let replica): return 6 << 56 | UInt64(replica.index)
        case .deliver(let id, let replica, let attempt):
            return 7 << 56 ^ UInt64(attempt) << 48 ^ UInt64(id.index) << 20 ^ UInt64(replica.index)
        case .gatewayDeadline(let id): return 8 << 56 | UInt64(id.index)
        case .sessionTurn(let session): return 9 << 56 | UInt64(session)
        case .subagents(let session): return 13 << 56 | UInt64(session)
        case .perTryTimeout(let id, let attempt): return 14 << 56 ^ UInt64(id.index) << 8 ^ UInt64(attempt)
        case .fault(let index, let starting): return 15 << 56 | UInt64(index) << 1 | (starting ? 1 : 0)
        case .endpointRemoval(let replica): return 16 << 56 | UInt64(replica.index)
        case .outlierCheck: return 17 << 56
        case .autoscale(let pool): return 11 << 56 | UInt64(pool.index)
        case .replicaReady(let replica): return 12 << 56 | UInt64(replica.index)
        case .connectionLimit(let session): return 10 << 56 | UInt64(session)
        case .kvFlowsDue(let generation): return 18 << 56 ^ StableHash.mix(generation)
        case .kvTransferred(let id): return 19 << 56 | UInt64(id.index)
        }
    }
}

/// An internal inconsistency found at the end of a run; always a bug, never bad input.
public struct InvariantViolation: Error, CustomStringConvertible {
    public let description: String
}

/// A policy name that is neither in ``PolicyRegistry`` nor a scheduling profile of the scenario.
public struct UnknownPolicy: Error, CustomStringConvertible {
    public let name: String
    public var known: [String] = PolicyRegistry.names
    public var description: String {
        "unknown policy '\(name)'; registered: \(known.joined(separator: ", "))"
    }
}

extension FleetSpec {
    /// Every policy name a run of this spec may use: the registry's, then the scenario's profiles.
    public var policyNames: [String] {
        PolicyRegistry.names + (endpointPicker?.schedulingProfiles.map(\.name) ?? [])
    }

    /// The policy called `name`: a registered one, or one of the scenario's scheduling profiles.
    public func policyEntry(named name: String) -> PolicyEntry? {
        if let entry = PolicyRegistry.entry(named: name) { return entry }
        guard let config = endpointPicker, config.schedulingProfiles.contains(where: { $0.name == name }) else {
            return nil
        }
        return PolicyEntry(name: name, summary: "scheduling profile '\(name)' of the scenario") { context in
            // The scenario loader has validated the profile, so building it cannot fail here.
            try! config.policy(profile: name, stream: context.stream())
        }
    }
}
