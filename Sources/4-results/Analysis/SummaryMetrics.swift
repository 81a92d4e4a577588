public import Fleet

/// One summary metric, or one latency family of them (`e2e_ms` stands for `e2e_ms_mean`, its percentiles and
/// `e2e_ms_max`).
public struct SummaryMetric: Sendable, Equatable {
    /// When a run reports the metric, and under which names.
    public enum Scope: String, Sendable, CaseIterable {
        /// Every run, fleet-wide.
        case run
        /// Every run, fleet-wide, and again per workload (`workload.<name>.`) when there are several.
        case requests
        /// When a pool has an autoscaler.
        case autoscaling
        /// With session workloads, fleet-wide, and per session workload when there are several workloads.
        case sessions
        /// When a schedule raises some workload's rate (a spike window exists).
        case spike
        /// When some workload names LoRA adapters.
        case lora
        /// With clusters.
        case mesh
        /// With clusters, once per cluster (`cluster.<name>.`).
        case cluster
        /// With prefill/decode disaggregation.
        case disaggregation
        /// When a pool keeps a CPU tier of KV blocks (`kv-offloading-size`), fleet-wide and per workload when
        /// there are several.
        case offload

        /// When a run reports the metrics of this scope, for `infermesh list metrics`.
        public var reported: String {
            switch self {
            case .run: return "every run"
            case .requests: return "every run; per workload too"
            case .autoscaling: return "with an autoscaler"
            case .sessions: return "with sessions; per session workload too"
            case .spike: return "with a spike window"
            case .lora: return "with LoRA adapters"
            case .mesh: return "with clusters"
            case .cluster: return "with clusters, per cluster"
            case .disaggregation: return "with prefill/decode disaggregation"
            case .offload: return "with a CPU KV tier; per workload too"
            }
        }
    }

    /// The name, or the family's stem for a latency.
    public let name: String
    /// The unit, as docs/metrics.md writes it.
    public let unit: String
    public let scope: Scope
    /// Whether `name` is a latency family (mean, percentiles, max).
    public let isLatency: Bool

    public init(_ name: String, _ unit: String, _ scope: Scope, isLatency: Bool = false) {
        self.name = name
        self.unit = unit
        self.scope = scope
        self.isLatency = isLatency
    }

    /// The suffixes of a latency family, in order.
    public static let latencySuffixes = ["mean"] + RunSummary.percentiles.map(\.suffix) + ["max"]

    /// The stored names: the family expanded, or the name itself.
    public var names: [String] { isLatency ? Self.latencySuffixes.map { "\(name)_\($0)" } : [name] }
}

/// Every summary metric, in the order a run stores and prints them: the one list that `infermesh list metrics`,
/// docs/metrics.md and the accumulators are checked against (see the registry consistency tests).
public enum SummaryMetrics {
    /// The metrics, in summary order.
    public static let registry: [SummaryMetric] =
        [
            .init("requests_total", "count", .run),
            .init("window_s", "s", .run),
            .init("requests_measured", "count", .requests),
        ]
        + RequestStatus.allCases.map { SummaryMetric($0.rawValue, "count", .requests) }
        + [
            .init("offered_rps", "req/s", .requests),
            .init("throughput_rps", "req/s", .requests),
            .init("goodput_rps", "req/s", .requests),
            .init("slo_attainment", "0–1", .requests),
            .init("output_tokens_per_second", "tok/s", .requests),
            .init("e2e_ms", "ms", .requests, isLatency: true),
            .init("ttft_ms", "ms", .requests, isLatency: true),
            .init("tpot_ms", "ms", .requests, isLatency: true),
            .init("queue_ms", "ms", .requests, isLatency: true),
            .init("utilization", "0–1", .run),
            .init("utilization_max", "0–1", .run),
            .init("utilization_min", "0–1", .run),
            .init("mean_in_system", "requests", .run),
            .init("events", "count", .run),
            .init("preemptions", "count", .run),
            .init("prefix_cache_hit_rate", "0–1", .run),
            .init("kv_cache_usage_mean", "0–1", .run),
            .init("kv_cache_usage_max", "0–1", .run),
            .init("itl_ms", "ms", .run, isLatency: true),
            .init("itl_max_ms", "ms", .run, isLatency: true),
            .init("gateway_queued", "count", .run),
            .init("gateway_shed", "count", .run),
            .init("gateway_expired", "count", .run),
            .init("gateway_overflowed", "count", .run),
            .init("gateway_wait_ms", "ms", .run, isLatency: true),
            .init("replicas_mean", "replicas", .autoscaling),
            .init("replicas_max", "replicas", .autoscaling),
            .init("scale_ups", "count", .autoscaling),
            .init("scale_downs", "count", .autoscaling),
            .init("sessions_started", "count", .sessions),
            .init("sessions_completed", "count", .sessions),
            .init("sessions_failed", "count", .sessions),
            .init("sessions_unfinished", "count", .sessions),
            .init("session_turns", "count", .sessions),
            .init("session_timed_out_turns", "count", .sessions),
            .init("session_failed_turns", "count", .sessions),
            .init("session_retries", "count", .sessions),
            .init("session_reconnects", "count", .sessions),
            .init("session_subagent_calls", "count", .sessions),
            .init("session_compactions", "count", .sessions),
            .init("session_duration_ms", "ms", .sessions, isLatency: true),
            .init("turn_ttft_ms", "ms", .sessions, isLatency: true),
            .init("gpu_prefix_cache_hit_rate", "0–1", .offload),
            .init("cpu_prefix_cache_hit_rate", "0–1", .offload),
            .init("spike_start_s", "s", .spike),
            .init("spike_end_s", "s", .spike),
            .init("spike_requests", "count", .spike),
            .init("spike_slo_attainment", "0–1", .spike),
            .init("spike_ttft_ms", "ms", .spike, isLatency: true),
            .init("spike_e2e_ms", "ms", .spike, isLatency: true),
            .init("baseline_ttft_ms_p99", "ms", .spike),
            .init("recovery_s", "s", .spike),
            .init("lora_loads", "count", .lora),
            .init("cross_cluster_share", "0–1", .mesh),
            .init("network_ms", "ms", .mesh, isLatency: true),
            .init("network_share_of_ttft", "0–1", .mesh),
            .init("network_share_of_e2e", "0–1", .mesh),
            .init("requests_retried", "count", .mesh),
            .init("retries", "count", .mesh),
            .init("connections_opened", "count", .mesh),
            .init("connections_reused", "count", .mesh),
            .init("ejections", "count", .mesh),
            .init("failovers", "count", .mesh),
            .init("ew_gateway_utilization_max", "0–1", .mesh),
            .init("ew_gateway_queued", "count", .mesh),
            .init("served_share", "0–1", .cluster),
            .init("requests_split", "count", .disaggregation),
            .init("kv_transfer_gb", "GB", .disaggregation),
            .init("kv_transfer_ms", "ms", .disaggregation, isLatency: true),
        ]

    /// Every stored name with its metric, latency families expanded, in order; per-cluster metrics under
    /// `cluster.<name>.`.
    public static var expanded: [(name: String, metric: SummaryMetric)] {
        registry.flatMap { metric in
            metric.names.map { (metric.scope == .cluster ? "cluster.<name>.\($0)" : $0, metric) }
        }
    }

    /// Every stored name, latency families expanded, in order; per-cluster metrics under `cluster.<name>.`.
    public static var names: [String] { expanded.map(\.name) }

    /// The names of the metrics in `scopes`, latency families expanded, in order.
    static func names(in scopes: Set<SummaryMetric.Scope>) -> [String] {
        registry.filter { scopes.contains($0.scope) }.flatMap(\.names)
    }

    /// The names a run of `spec` reports, in the order it stores them.
    public static func names(for spec: FleetSpec) -> [String] {
        let sessions = spec.workloads.contains { $0.session != nil }
        var scopes: Set<SummaryMetric.Scope> = [.run, .requests]
        if spec.pools.contains(where: { $0.autoscaler != nil }) { scopes.insert(.autoscaling) }
        if sessions { scopes.insert(.sessions) }
        if SpikeMetrics.window(spec) != nil { scopes.insert(.spike) }
        if !spec.adapterNames.isEmpty { scopes.insert(.lora) }
        if spec.mesh != nil { scopes.insert(.mesh) }
        let offload = spec.pools.contains(where: \.hasKVOffload)
        if offload { scopes.insert(.offload) }
        var names = Self.names(in: scopes)
        for cluster in spec.mesh?.clusters ?? [] {
            names += Self.names(in: [.cluster]).map { "cluster.\(cluster.name).\($0)" }
        }
        if spec.disaggregation != nil { names += Self.names(in: [.disaggregation]) }
        guard spec.workloads.count > 1 else { return names }
        for workload in spec.workloads {
            var scopes: Set<SummaryMetric.Scope> = workload.session != nil ? [.requests, .sessions] : [.requests]
            if offload { scopes.insert(.offload) }
            names += Self.names(in: scopes).map { "workload.\(workload.name).\($0)" }
        }
        return names
    }
}
