public import Fleet

/// A run's summary metrics, in a fixed order, under stable names (see docs/metrics.md).
public struct RunSummary: Sendable, Equatable {
    /// `(name, value)` pairs in the order they are stored and printed.
    public private(set) var metrics: [(name: String, value: Double)] = []

    public init() {}

    /// A summary read back from storage, in its stored order.
    public init(metrics: [(name: String, value: Double)]) { self.metrics = metrics }

    /// The value of `name`, if present.
    public subscript(name: String) -> Double? { metrics.first { $0.name == name }?.value }

    mutating func append(_ name: String, _ value: Double) { metrics.append((name, value)) }

    public static func == (a: Self, b: Self) -> Bool {
        a.metrics.count == b.metrics.count
            && zip(a.metrics, b.metrics).allSatisfy { $0.name == $1.name && $0.value.bitPattern == $1.value.bitPattern }
    }

    /// The percentiles reported for each latency, with their metric suffixes.
    public static let percentiles: [(suffix: String, p: Double)] = [
        ("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p999", 0.999),
    ]

    /// Computes the summary of `output` over its measurement window [warmup, horizon).
    public static func of(_ output: RunOutput) -> RunSummary {
        var summary = RunSummary()
        let measured = output.requests.filter(output.isMeasured)
        let windowSeconds = (output.spec.horizon - output.spec.warmup).seconds

        summary.append("requests_total", Double(output.requests.count))
        appendRequestMetrics(prefix: "", measured, output: output, windowSeconds: windowSeconds, to: &summary)

        let windowNs = Double((output.spec.horizon - output.spec.warmup).nanoseconds)
        // Under an autoscaler a replica counts only for the time it was provisioned.
        let active = ReplicaActivity.activeNanoseconds(output)
        let utilizations = output.replicas.indices.filter { active[$0] > 0 }.map { index in
            output.replicas[index].window.busy / (Double(output.replicas[index].capacity) * Double(active[index]))
        }
        summary.append("utilization", Statistics.mean(utilizations))
        summary.append("utilization_max", utilizations.max() ?? .nan)
        summary.append("utilization_min", utilizations.min() ?? .nan)
        summary.append("mean_in_system", output.replicas.reduce(0) { $0 + $1.window.occupancy } / windowNs)
        summary.append("events", Double(output.events))
        summary.append("preemptions", Double(measured.reduce(0) { $0 + $1.preemptions }))
        let promptTokens = measured.reduce(0) { $0 + $1.inputTokens }
        summary.append(
            "prefix_cache_hit_rate",
            promptTokens > 0 ? Double(measured.reduce(0) { $0 + $1.cachedTokens }) / Double(promptTokens) : .nan)
        let kvUsage = output.samples.filter { $0.time > output.spec.warmup && $0.time <= output.spec.horizon }
            .compactMap(\.gauges.kvCacheUsagePerc)
        summary.append("kv_cache_usage_mean", Statistics.mean(kvUsage))
        summary.append("kv_cache_usage_max", kvUsage.max() ?? .nan)

        // Token-weighted inter-token latencies of the whole fleet, and each completed request's longest gap.
        let itl = InterTokenLatency.fleet(output)
        summary.append("itl_ms_mean", (itl?.meanNanoseconds ?? .nan) / 1e6)
        for (suffix, p) in percentiles {
            summary.append("itl_ms_\(suffix)", (itl?.quantileNanoseconds(p) ?? .nan) / 1e6)
        }
        summary.append("itl_ms_max", (itl?.quantileNanoseconds(1) ?? .nan) / 1e6)
        appendLatency(
            "itl_max_ms", measured.compactMap { $0.status == .completed ? $0.maxInterTokenLatency : nil },
            to: &summary)
        // Flow control at the gateway, over the whole run.
        summary.append("gateway_queued", Double(output.gateway.queued))
        summary.append("gateway_shed", Double(output.gateway.shed))
        summary.append("gateway_expired", Double(output.gateway.expired))
        summary.append("gateway_overflowed", Double(output.gateway.overflowed))
        appendLatency("gateway_wait_ms", measured.compactMap(\.gatewayWait), to: &summary)

        if output.spec.pools.contains(where: { $0.autoscaler != nil }) {
            summary.append("replicas_mean", Double(active.reduce(0, +)) / windowNs)
            summary.append("replicas_max", Double(ReplicaActivity.peakReplicas(output)))
            summary.append(
                "scale_ups", Double(output.scalingEvents.filter { $0.state == .provisioning }.count))
            summary.append("scale_downs", Double(output.scalingEvents.filter { $0.state == .draining }.count))
        }
        if !output.sessions.isEmpty {
            SessionMetrics.append(prefix: "", output: output, workload: nil, to: &summary)
        }
        SpikeMetrics.append(output, to: &summary)
        MeshMetrics.append(output, to: &summary)

        // With several workloads, the same request metrics per workload, prefixed `workload.<name>.`.
        if output.spec.workloads.count > 1 {
            for (index, workload) in output.spec.workloads.enumerated() {
                let own = measured.filter { $0.workload.index == index }
                appendRequestMetrics(
                    prefix: "workload.\(workload.name).", own, output: output, windowSeconds: windowSeconds,
                    to: &summary)
                if workload.session != nil {
                    SessionMetrics.append(
                        prefix: "workload.\(workload.name).", output: output, workload: WorkloadID(index), to: &summary)
                }
            }
        }
        return summary
    }

    /// Counts, rates, SLO attainment and latency percentiles of `measured`, with names prefixed by `prefix`.
    private static func appendRequestMetrics(
        prefix: String, _ measured: [RequestRecord], output: RunOutput, windowSeconds: Double,
        to summary: inout RunSummary
    ) {
        var counts = Array(repeating: 0, count: RequestStatus.allCases.count)
        for record in measured where record.statusIndex >= 0 { counts[record.statusIndex] += 1 }
        let completed = measured.filter { $0.status == .completed }
        let metSLO = completed.filter { meets(output.spec.slo(for: $0.workload), $0) }

        summary.append(prefix + "requests_measured", Double(measured.count))
        for status in RequestStatus.allCases { summary.append(prefix + status.rawValue, Double(counts[status.index])) }
        summary.append(prefix + "offered_rps", Double(measured.count) / windowSeconds)
        summary.append(prefix + "throughput_rps", Double(completed.count) / windowSeconds)
        summary.append(prefix + "goodput_rps", Double(metSLO.count) / windowSeconds)
        summary.append(
            prefix + "slo_attainment", measured.isEmpty ? .nan : Double(metSLO.count) / Double(measured.count))
        summary.append(
            prefix + "output_tokens_per_second",
            Double(completed.reduce(0) { $0 + $1.outputTokens }) / windowSeconds)
        appendLatency(prefix + "e2e_ms", completed.compactMap(\.e2e), to: &summary)
        appendLatency(prefix + "ttft_ms", completed.compactMap(\.ttft), to: &summary)
        appendLatency(prefix + "tpot_ms", completed.compactMap(\.tpot), to: &summary)
        appendLatency(prefix + "queue_ms", measured.compactMap(\.queueTime), to: &summary)
    }

    /// Whether a completed request met every objective that is set.
    static func meets(_ slo: SLO, _ record: RequestRecord) -> Bool {
        if let target = slo.e2e, let e2e = record.e2e, e2e > target { return false }
        if let target = slo.ttft, let ttft = record.ttft, ttft > target { return false }
        if let target = slo.tpot, let tpot = record.tpot, tpot > target { return false }
        return true
    }

    static func appendLatency(_ name: String, _ times: [SimTime], to summary: inout RunSummary) {
        let sorted = times.map(\.milliseconds).sorted()
        summary.append("\(name)_mean", Statistics.mean(sorted))
        for (suffix, p) in percentiles { summary.append("\(name)_\(suffix)", Statistics.quantile(sorted: sorted, p)) }
        summary.append("\(name)_max", sorted.last ?? .nan)
    }
}
