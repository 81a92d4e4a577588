/// `queue-scorer`: fewer waiting requests is better, min-max normalized over the candidates:
/// (max − waiting) / (max − min); every candidate scores 1 when all wait equally.
public struct QueueScorer: EndpointScorer {
    public var needs: PolicyNeeds { PolicyNeeds(metrics: true) }

    public init() {}

    public func score(_ request: RoutingRequest, _ candidates: [ReplicaView], into scores: inout [Double]) {
        MinMax.lowerIsBetter(candidates.map(\.waiting), into: &scores)
    }
}

/// `running-requests-size-scorer`: fewer running requests is better, min-max normalized like the queue scorer.
public struct RunningRequestsScorer: EndpointScorer {
    public var needs: PolicyNeeds { PolicyNeeds(metrics: true) }

    public init() {}

    public func score(_ request: RoutingRequest, _ candidates: [ReplicaView], into scores: inout [Double]) {
        MinMax.lowerIsBetter(candidates.map(\.running), into: &scores)
    }
}

/// `active-request-scorer`: fewer requests in flight from this router is better: (max − n) / max over the
/// candidates, 1 for none. The router counts its own requests as it sends them and as they end, so this term,
/// unlike the scraped ones, is never stale: it is what keeps a max-score picker from herding between scrapes.
public struct ActiveRequestScorer: EndpointScorer {
    public var needs: PolicyNeeds { PolicyNeeds() }

    public init() {}

    public func score(_ request: RoutingRequest, _ candidates: [ReplicaView], into scores: inout [Double]) {
        let most = candidates.map(\.outstanding).max() ?? 0
        for index in candidates.indices {
            let count = candidates[index].outstanding
            scores[index] = count == 0 || most == 0 ? 1 : Double(most - count) / Double(most)
        }
    }
}

/// `prefill-backlog-scorer` (InferMesh's): 1 − min(1, backlog / prompt), where the backlog is the prompt tokens
/// the router sent the replica that it did not expect cached there and that have not produced a first token
/// (queued or being prefilled), and the prompt is the request's own tokens.
///
/// Why in tokens: the queue scorer counts waiting requests, so one queued 30,000-token prompt looks as light as a
/// queued 500-token one. Why over the request's prompt: against `prefix-cache-scorer` at the same weight (which
/// scores the matched share of the prompt), a replica that holds m of the prompt's tokens behind a backlog of b
/// wins over an idle one exactly when m > b, that is when the prefill it saves is more than the prefill it waits
/// for. The router counts the backlog itself, so it is never stale.
public struct PrefillBacklogScorer: EndpointScorer {
    public var needs: PolicyNeeds { PolicyNeeds() }

    public init() {}

    public func score(_ request: RoutingRequest, _ candidates: [ReplicaView], into scores: inout [Double]) {
        let prompt = Double(max(1, request.inputTokens))
        for index in candidates.indices {
            scores[index] = 1 - min(1, Double(max(0, candidates[index].prefillBacklogTokens)) / prompt)
        }
    }
}

/// `kv-cache-utilization-scorer`: 1 − KV-cache usage.
public struct KVCacheUtilizationScorer: EndpointScorer {
    public var needs: PolicyNeeds { PolicyNeeds(metrics: true) }

    public init() {}

    public func score(_ request: RoutingRequest, _ candidates: [ReplicaView], into scores: inout [Double]) {
        for index in candidates.indices { scores[index] = 1 - min(1, max(0, candidates[index].kvCacheUsage)) }
    }
}

/// `load-aware-scorer` (llm-d's): 0.5 for an empty queue, falling linearly to 0 at `threshold` waiting
/// requests; so an idle replica is preferred, but load alone never outweighs a full prefix match.
public struct LoadAwareScorer: EndpointScorer {
    public let threshold: Double
    public var needs: PolicyNeeds { PolicyNeeds(metrics: true) }

    public init(threshold: Double = 128) { self.threshold = threshold }

    public func score(_ request: RoutingRequest, _ candidates: [ReplicaView], into scores: inout [Double]) {
        for index in candidates.indices {
            scores[index] = 0.5 * (1 - min(Double(candidates[index].waiting), threshold) / threshold)
        }
    }
}

/// `prefix-cache-scorer`: the share of the request's prefix blocks the candidate holds (0 without a prefix).
/// Where that knowledge comes from (`mode`) is the router's: its own approximate index, or the replicas'
/// caches.
public struct PrefixCacheScorer: EndpointScorer {
    public let matching: PrefixMatching
    public var needs: PolicyNeeds { PolicyNeeds(prefix: matching) }

    public init(matching: PrefixMatching = PrefixMatching()) { self.matching = matching }

    public func score(_ request: RoutingRequest, _ candidates: [ReplicaView], into scores: inout [Double]) {
        let total = Double(request.prefixBlocks)
        for index in candidates.indices {
            scores[index] = total > 0 ? min(1, Double(candidates[index].prefixMatchedBlocks) / total) : 0
        }
    }
}

/// `session-affinity-scorer`: 1 for the replica that served the request's session last, 0 elsewhere (and for
/// requests without a session). The endpoint-picker policy tells it where each session went.
public final class SessionAffinityScorer: EndpointScorer, @unchecked Sendable {
    // @unchecked: one instance belongs to one policy instance, which one run drives from one thread.
    private var lastReplica: [UInt64: ReplicaID] = [:]
    public var needs: PolicyNeeds { PolicyNeeds() }

    public init() {}

    public func score(_ request: RoutingRequest, _ candidates: [ReplicaView], into scores: inout [Double]) {
        let last = request.session.flatMap { lastReplica[$0] }
        for index in candidates.indices { scores[index] = candidates[index].id == last ? 1 : 0 }
    }

    public func routed(_ request: RoutingRequest, to replica: ReplicaID) {
        if let session = request.session { lastReplica[session] = replica }
    }
}

/// `lora-affinity-scorer`: prefers replicas where the request's LoRA adapter is already loaded, as the inference
/// extension scores `vllm:lora_requests_info`: 1 when the adapter is running there; 0.8 when the replica has room
/// for one more adapter (fewer adapters running or waiting, counted once, than `max_lora`); 0.6 when the adapter is
/// only waiting there; 0 otherwise, and for a replica without LoRA.
///
/// A request for the base model scores 1 everywhere (the extension would compare the base model's name with the
/// adapter sets and score by room alone, which says nothing about serving it). It reads scraped metrics, so it sees
/// the adapter sets as of the last scrape, as in production.
public struct LoRAAffinityScorer: EndpointScorer {
    public var needs: PolicyNeeds { PolicyNeeds(metrics: true) }

    public init() {}

    public func score(_ request: RoutingRequest, _ candidates: [ReplicaView], into scores: inout [Double]) {
        for index in candidates.indices { scores[index] = Self.score(candidates[index].loraAffinity) }
    }

    /// The score of an adapter's standing on a replica.
    public static func score(_ affinity: LoRAAffinity) -> Double {
        switch affinity {
        case .baseModel, .running: return 1
        case .room: return 0.8
        case .waitingOnly: return 0.6
        case .none: return 0
        }
    }

    /// One replica's score for `adapter` (-1: the base model) given what it last reported.
    public static func score(adapter: Int32, _ info: LoRARequestsInfo?) -> Double {
        score(LoRAAffinity(adapter: adapter, info))
    }
}

enum MinMax {
    /// (max − v) / (max − min) per value; all 1 when they are equal.
    static func lowerIsBetter(_ values: [Int], into scores: inout [Double]) {
        guard let low = values.min(), let high = values.max() else { return }
        for index in values.indices {
            scores[index] = high == low ? 1 : Double(high - values[index]) / Double(high - low)
        }
    }
}

/// `network-cost-scorer` (InferMesh's): 1 − round trip / the largest round trip among the candidates, so a
/// replica across a slow link scores low; 1 for all when they are equally close.
public struct NetworkCostScorer: EndpointScorer {
    public var needs: PolicyNeeds { PolicyNeeds() }

    public init() {}

    public func score(_ request: RoutingRequest, _ candidates: [ReplicaView], into scores: inout [Double]) {
        let largest = candidates.map(\.networkRoundTrip).max() ?? 0
        for index in candidates.indices {
            scores[index] = largest > 0 ? 1 - candidates[index].networkRoundTrip / largest : 1
        }
    }
}
