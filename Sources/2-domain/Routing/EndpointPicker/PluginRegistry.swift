/// One plugin instance built from its spec.
public enum EndpointPlugin {
    case filter(any EndpointFilter)
    case scorer(any EndpointScorer)
    case picker(any EndpointPicker)
}

/// One registered plugin type, under the inference extension's kebab-case name.
public struct PluginType: Sendable {
    public enum Kind: String, Sendable { case filter, scorer, picker }

    public let name: String
    public let kind: Kind
    public let summary: String
    /// Builds an instance; throws ``PluginError`` for bad parameters. Pickers draw from `stream`.
    public let make: @Sendable (PluginParameters, RandomStream) throws -> EndpointPlugin
}

/// Every endpoint-picker plugin type.
public enum PluginRegistry {
    public static let types: [PluginType] = [
        PluginType(
            name: "queue-scorer", kind: .scorer,
            summary: "Fewer waiting requests, min-max normalized over the candidates."
        ) { parameters, _ in
            try parameters.rejectUnknown([])
            return .scorer(QueueScorer())
        },
        PluginType(
            name: "kv-cache-utilization-scorer", kind: .scorer, summary: "1 − KV-cache usage."
        ) { parameters, _ in
            try parameters.rejectUnknown([])
            return .scorer(KVCacheUtilizationScorer())
        },
        PluginType(
            name: "prefix-cache-scorer", kind: .scorer,
            summary: "Share of the request's prefix blocks the replica holds (mode: approximate | precise)."
        ) { parameters, _ in
            try parameters.rejectUnknown(["mode", "blockSize", "maxPrefixBlocksToMatch", "lruCapacityPerServer"])
            let mode = try parameters.choice(
                "mode", default: "approximate", allowed: PrefixKnowledge.allCases.map(\.rawValue))
            return .scorer(
                PrefixCacheScorer(
                    matching: PrefixMatching(
                        knowledge: PrefixKnowledge(rawValue: mode)!,
                        blockSize: Int(try parameters.number("blockSize", default: 16, in: 1...1_048_576)),
                        maxBlocks: Int(
                            try parameters.number("maxPrefixBlocksToMatch", default: 256, in: 1...1_048_576)),
                        lruCapacityPerServer: Int(
                            try parameters.number("lruCapacityPerServer", default: 31_250, in: 1...1e9)))))
        },
        PluginType(
            name: "active-request-scorer", kind: .scorer,
            summary: "Fewer requests in flight from this router: (max − n) / max; never stale (llm-d)."
        ) { parameters, _ in
            // `requestTimeout` only bounds how long a lost request is counted; here no request is lost.
            try parameters.rejectUnknown(["requestTimeout"])
            return .scorer(ActiveRequestScorer())
        },
        PluginType(
            name: "prefill-backlog-scorer", kind: .scorer,
            summary: "1 − min(1, uncached prompt tokens queued or prefilling / the request's prompt); never stale."
        ) { parameters, _ in
            try parameters.rejectUnknown([])
            return .scorer(PrefillBacklogScorer())
        },
        PluginType(
            name: "load-aware-scorer", kind: .scorer,
            summary: "0.5 for an empty queue, falling to 0 at `threshold` waiting requests (llm-d)."
        ) { parameters, _ in
            try parameters.rejectUnknown(["threshold"])
            return .scorer(LoadAwareScorer(threshold: try parameters.number("threshold", default: 128, in: 1...1e9)))
        },
        PluginType(
            name: "running-requests-size-scorer", kind: .scorer,
            summary: "Fewer running requests, min-max normalized over the candidates."
        ) { parameters, _ in
            try parameters.rejectUnknown([])
            return .scorer(RunningRequestsScorer())
        },
        PluginType(
            name: "session-affinity-scorer", kind: .scorer,
            summary: "1 for the replica that served the request's session last."
        ) { parameters, _ in
            try parameters.rejectUnknown([])
            return .scorer(SessionAffinityScorer())
        },
        PluginType(
            name: "network-cost-scorer", kind: .scorer,
            summary: "1 − round trip / the largest among the candidates (InferMesh's, for multicluster routing)."
        ) { parameters, _ in
            try parameters.rejectUnknown([])
            return .scorer(NetworkCostScorer())
        },
        PluginType(
            name: "lora-affinity-scorer", kind: .scorer,
            summary: "1 if the request's adapter runs there, 0.8 if it has room for one more, 0.6 if it waits there."
        ) { parameters, _ in
            try parameters.rejectUnknown([])
            return .scorer(LoRAAffinityScorer())
        },
        PluginType(
            name: "low-queue", kind: .filter,
            summary: "Keeps replicas with at most `threshold` waiting requests (all if none)."
        ) { parameters, _ in
            try parameters.rejectUnknown(["threshold"])
            return .filter(
                LowQueueFilter(threshold: Int(try parameters.number("threshold", default: 128, in: 1...1e9))))
        },
        PluginType(
            name: "least-queue", kind: .filter,
            summary: "Keeps replicas whose waiting queue is in the lowest 1/n of the candidates' range."
        ) { parameters, _ in
            try parameters.rejectUnknown([])
            return .filter(LeastQueueFilter())
        },
        PluginType(
            name: "least-kv-cache", kind: .filter,
            summary: "Keeps replicas whose KV-cache usage is in the lowest 1/n of the candidates' range."
        ) { parameters, _ in
            try parameters.rejectUnknown([])
            return .filter(LeastKVCacheFilter())
        },
        PluginType(
            name: "fresh-metrics-filter", kind: .filter,
            summary: "Drops replicas whose metrics are older than the staleness limit (all kept if none is fresh)."
        ) { parameters, _ in
            try parameters.rejectUnknown([])
            return .filter(FreshMetricsFilter())
        },
        PluginType(
            name: "max-score-picker", kind: .picker, summary: "Highest total score; ties at random."
        ) { parameters, stream in
            try parameters.rejectUnknown([])
            return .picker(MaxScorePicker(stream: stream))
        },
        PluginType(name: "random-picker", kind: .picker, summary: "Uniform, ignoring scores.") { parameters, stream in
            try parameters.rejectUnknown([])
            return .picker(RandomPicker(stream: stream))
        },
        PluginType(
            name: "weighted-random-picker", kind: .picker, summary: "Probability proportional to the total score."
        ) { parameters, stream in
            try parameters.rejectUnknown([])
            return .picker(WeightedRandomPicker(stream: stream))
        },
    ]

    public static var names: [String] { types.map(\.name) }

    public static func type(named name: String) -> PluginType? { types.first { $0.name == name } }
}
