import Analysis
import Foundation
import Scenarios

/// The side-by-side comparison `infermesh run` prints: one column per policy.
///
/// With several replications each cell is the mean over replications, with the 95% Student-t half-width.
struct ComparisonReport {
    let scenario: Scenario
    let runs: [CompletedRun]
    let policies: [String]
    let replications: Int
    let seed: UInt64
    /// With a baseline, each other policy's cells show the relative difference from it, starred when Welch's
    /// t-test over replications finds it significant at 95%.
    var baseline: String?
    /// Every percentile (p50, p90, p99, p99.9) of TTFT, TPOT and E2E, as `infermesh compare` shows them.
    var detailed = false

    /// The rows of the table: label, metric name, digits, and whether the row is about tokens and the KV cache
    /// (shown only when the fleet has GPU replicas; a station has neither).
    static let rows: [(label: String, metric: String, digits: Int, gpuOnly: Bool)] = [
        ("e2e p50 (ms)", "e2e_ms_p50", 1, false), ("e2e p90 (ms)", "e2e_ms_p90", 1, false),
        ("e2e p99 (ms)", "e2e_ms_p99", 1, false), ("ttft p50 (ms)", "ttft_ms_p50", 1, true),
        ("ttft p90 (ms)", "ttft_ms_p90", 1, true), ("ttft p99 (ms)", "ttft_ms_p99", 1, false),
        ("tpot p50 (ms)", "tpot_ms_p50", 2, true),
        ("tpot p99 (ms)", "tpot_ms_p99", 2, true), ("itl p99 (ms)", "itl_ms_p99", 2, true),
        ("queue p99 (ms)", "queue_ms_p99", 1, false),
        ("offered (req/s)", "offered_rps", 2, false), ("throughput (req/s)", "throughput_rps", 2, false),
        ("goodput (req/s)", "goodput_rps", 2, false),
        ("output tokens/s", "output_tokens_per_second", 0, true),
        ("SLO attainment", "slo_attainment", 4, false), ("utilization", "utilization", 4, false),
        ("kv cache use mean", "kv_cache_usage_mean", 4, true), ("kv cache use max", "kv_cache_usage_max", 4, true),
        ("prefix hit rate", "prefix_cache_hit_rate", 4, true),
        ("GPU-tier hit rate", "gpu_prefix_cache_hit_rate", 4, true),
        ("CPU-tier hit rate", "cpu_prefix_cache_hit_rate", 4, true), ("preemptions", "preemptions", 0, true),
        ("lora loads", "lora_loads", 0, true),
        ("gateway queued", "gateway_queued", 0, false), ("gateway shed", "gateway_shed", 0, false),
        ("gateway expired", "gateway_expired", 0, false), ("gateway wait p99 (ms)", "gateway_wait_ms_p99", 1, false),
        ("completed", "completed", 0, false), ("rejected", "rejected", 0, false), ("timed out", "timed_out", 0, false),
        ("failed", "failed", 0, false), ("unfinished", "unfinished", 0, false),
        ("spike ttft p99 (ms)", "spike_ttft_ms_p99", 1, false), ("spike e2e p99 (ms)", "spike_e2e_ms_p99", 1, false),
        ("spike SLO attainment", "spike_slo_attainment", 4, false), ("recovery (s)", "recovery_s", 0, false),
        ("cross-cluster share", "cross_cluster_share", 4, false), ("network p99 (ms)", "network_ms_p99", 2, false),
        ("network share of ttft", "network_share_of_ttft", 4, false), ("retries", "retries", 0, false),
        ("ejections", "ejections", 0, false), ("failovers", "failovers", 0, false),
        ("connections opened", "connections_opened", 0, false),
        ("ew gateway utilization max", "ew_gateway_utilization_max", 4, false),
        ("requests split", "requests_split", 0, true), ("kv transfer p50 (ms)", "kv_transfer_ms_p50", 2, true),
        ("kv transfer p99 (ms)", "kv_transfer_ms_p99", 2, true), ("kv transferred (GB)", "kv_transfer_gb", 1, true),
        ("replicas mean", "replicas_mean", 2, false), ("replicas max", "replicas_max", 0, false),
        ("scale-ups", "scale_ups", 0, false),
        ("sessions started", "sessions_started", 0, false), ("sessions completed", "sessions_completed", 0, false),
        ("sessions failed", "sessions_failed", 0, false), ("turns timed out", "session_timed_out_turns", 0, false),
        ("turn ttft p50 (ms)", "turn_ttft_ms_p50", 1, false), ("turn ttft p99 (ms)", "turn_ttft_ms_p99", 1, false),
    ]

    /// What serving benchmarks (`vllm bench serve`, AIPerf) print besides: the duration and mean latencies,
    /// shown first for a scenario that ends when its requests are done.
    static let benchmarkRows: [(label: String, metric: String, digits: Int, gpuOnly: Bool)] = [
        ("duration (s)", "window_s", 2, false), ("e2e mean (ms)", "e2e_ms_mean", 1, false),
        ("ttft mean (ms)", "ttft_ms_mean", 1, true), ("tpot mean (ms)", "tpot_ms_mean", 2, true),
        ("itl mean (ms)", "itl_ms_mean", 2, true), ("itl p50 (ms)", "itl_ms_p50", 2, true),
    ]

    /// A benchmark's rows per workload when it has several. No rates: those divide by the run's one window,
    /// which ends with the slowest workload; a closed-loop workload's own rate is its clients over its mean E2E.
    static let perWorkloadBenchmarkRows: [(label: String, metric: String, digits: Int, gpuOnly: Bool)] = [
        ("ttft p50 (ms)", "ttft_ms_p50", 1, true), ("tpot p50 (ms)", "tpot_ms_p50", 2, true),
        ("tpot p99 (ms)", "tpot_ms_p99", 2, true), ("e2e mean (ms)", "e2e_ms_mean", 1, false),
    ]

    /// The rows only a fleet with a CPU KV tier shows.
    static let offloadMetrics = ["gpu_prefix_cache_hit_rate", "cpu_prefix_cache_hit_rate"]

    /// A workload's rows when some pool keeps a CPU KV tier and there are several workloads.
    static let perWorkloadOffloadRows: [(label: String, metric: String, digits: Int, gpuOnly: Bool)] = [
        ("ttft p50 (ms)", "ttft_ms_p50", 1, true), ("ttft p99 (ms)", "ttft_ms_p99", 1, true),
        ("throughput (req/s)", "throughput_rps", 2, false), ("output tokens/s", "output_tokens_per_second", 0, true),
        ("GPU-tier hit rate", "gpu_prefix_cache_hit_rate", 4, true),
        ("CPU-tier hit rate", "cpu_prefix_cache_hit_rate", 4, true),
    ]

    /// The latency rows of `infermesh compare`: every percentile of E2E, TTFT and TPOT.
    static let detailedLatencyRows: [(label: String, metric: String, digits: Int, gpuOnly: Bool)] =
        ["e2e", "ttft", "tpot"].flatMap { name in
            RunSummary.percentiles.map { suffix, p in
                let label = "p" + String(format: "%g", p * 100)
                return (
                    "\(name) \(label) (ms)", "\(name)_ms_\(suffix)", name == "tpot" ? 2 : 1,
                    name != "e2e"
                )
            }
        }

    /// The rows this scenario's table shows.
    var shownRows: [(label: String, metric: String, digits: Int, gpuOnly: Bool)] {
        guard detailed else { return standardRows }
        let latency = Set(Self.detailedLatencyRows.map(\.metric))
        return Self.detailedLatencyRows.filter { hasGPU || !$0.gpuOnly }
            + standardRows.filter { !latency.contains($0.metric) }
    }

    /// Whether some pool is of GPU replicas (the token-level rows apply).
    var hasGPU: Bool { scenario.fleet.pools.contains { if case .gpu = $0.replica { true } else { false } } }

    /// The rows of `infermesh run`'s table.
    var standardRows: [(label: String, metric: String, digits: Int, gpuOnly: Bool)] {
        let hasFlowControl = scenario.fleet.router.flowControl != nil
        let hasAutoscaler = scenario.fleet.pools.contains { $0.autoscaler != nil }
        let hasSessions = scenario.fleet.workloads.contains { $0.session != nil }
        let hasSpike = SpikeMetrics.window(scenario.fleet) != nil
        let hasOffload = scenario.fleet.pools.contains(where: \.hasKVOffload)
        let meshMetrics = [
            "cross_cluster_share", "network_ms_p99", "network_share_of_ttft", "retries", "ejections", "failovers",
            "connections_opened", "ew_gateway_utilization_max",
        ]
        // With several workloads, each session workload's own outcome, since they usually differ on purpose.
        let sessionWorkloads =
            scenario.fleet.workloads.count > 1 ? scenario.fleet.workloads.filter { $0.session != nil }.map(\.name) : []
        var perWorkload = sessionWorkloads.flatMap { name in
            [
                ("\(name): sessions failed", "workload.\(name).sessions_failed", 0, false),
                ("\(name): turns timed out", "workload.\(name).session_timed_out_turns", 0, false),
                ("\(name): turn ttft p99 (ms)", "workload.\(name).turn_ttft_ms_p99", 1, false),
            ]
        }
        // With a CPU KV tier and several workloads (pools with and without a tier side by side): each one's
        // latency, throughput and hit rate per tier.
        if hasOffload && scenario.fleet.workloads.count > 1 {
            perWorkload += scenario.fleet.workloads.flatMap { workload in
                Self.perWorkloadOffloadRows.map { label, metric, digits, gpuOnly in
                    ("\(workload.name): \(label)", "workload.\(workload.name).\(metric)", digits, gpuOnly)
                }
            }
        }
        var benchmark = scenario.fleet.endsWhenDone ? Self.benchmarkRows.filter { hasGPU || !$0.gpuOnly } : []
        // A benchmark of several workloads (models, pools or client counts side by side): each one's own figures.
        if scenario.fleet.endsWhenDone && scenario.fleet.workloads.count > 1 {
            benchmark += scenario.fleet.workloads.flatMap { workload in
                Self.perWorkloadBenchmarkRows.filter { hasGPU || !$0.gpuOnly }.map { label, metric, digits, gpuOnly in
                    ("\(workload.name): \(label)", "workload.\(workload.name).\(metric)", digits, gpuOnly)
                }
            }
        }
        return benchmark
            + Self.rows.filter { row in
                (hasGPU || !row.gpuOnly) && (hasFlowControl || !row.metric.hasPrefix("gateway_"))
                    && (hasAutoscaler || !(row.metric.hasPrefix("replicas_") || row.metric.hasPrefix("scale_")))
                    && (hasSessions || !(row.metric.contains("session") || row.metric.hasPrefix("turn_")))
                    && (hasSpike || !(row.metric.hasPrefix("spike_") || row.metric == "recovery_s"))
                    && (scenario.fleet.mesh != nil || !meshMetrics.contains(row.metric))
                    && (scenario.fleet.disaggregation != nil
                        || !(row.metric == "requests_split" || row.metric.hasPrefix("kv_transfer")))
                    && (!scenario.fleet.adapterNames.isEmpty || row.metric != "lora_loads")
                    && (hasOffload || !Self.offloadMetrics.contains(row.metric))
            } + perWorkload
    }

    func runs(of policy: String) -> [CompletedRun] { runs.filter { $0.policy == policy } }

    /// The mean and 95% interval of `metric` over `policy`'s replications where it is defined.
    func interval(_ metric: String, policy: String) -> ConfidenceInterval {
        Statistics.confidenceInterval(ofDefined: runs(of: policy).map { $0.summary[metric] ?? .nan })
    }

    /// The plain-text table.
    func table() -> String {
        var lines = [headline()]
        let grid = [["metric"] + policies] + gridRows().map { [$0.label] + $0.cells }
        let widths = (0..<grid[0].count).map { column in grid.map { $0[column].count }.max() ?? 0 }
        for row in grid {
            let cells = row.enumerated().map { column, text in
                column == 0
                    ? text.padding(toLength: widths[0], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - text.count) + text
            }
            lines.append(cells.joined(separator: "  "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// How long the runs go: their horizon, or until their requests are done (with the horizon as a cap).
    var extent: String {
        let fleet = scenario.fleet
        guard fleet.endsWhenDone else { return "horizon \(fleet.horizon)" }
        return fleet.horizon == FleetSpec.untilDoneHorizon
            ? "until its requests are done" : "until its requests are done, at most \(fleet.horizon)"
    }

    /// What was compared: the scenario, seed, replications, horizon and warm-up; the text table's first line.
    func headline() -> String {
        "scenario \(scenario.name) (sha256 \(scenario.sha256.prefix(12))) · seed \(seed) · "
            + "\(replications) replication\(replications == 1 ? "" : "s") · \(extent), "
            + "warm-up \(scenario.fleet.warmup)\(replications > 1 ? " · mean ± 95% CI" : "")"
    }

    /// The table's body, one row per line below the header: the label, the metric (nil for the run ids and
    /// digests that close it) and one cell per policy. The text table and the HTML report both show these.
    func gridRows() -> [(label: String, metric: String?, cells: [String])] {
        shownRows.map { row in
            (row.label, row.metric, policies.map { cell(row.metric, policy: $0, digits: row.digits) })
        } + [
            ("run ids", nil, policies.map { runs(of: $0).map { String($0.runID) }.joined(separator: ",") }),
            ("digest", nil, policies.map { runs(of: $0).map(\.digest).joined(separator: ",") }),
        ]
    }

    /// One cell: the mean (± the 95% half-width with replications), and with a baseline the relative
    /// difference from it, starred when significant.
    func cell(_ metric: String, policy: String, digits: Int) -> String {
        let ci = interval(metric, policy: policy)
        var text = Self.format(ci.mean, digits: digits)
        if replications > 1 && ci.halfWidth.isFinite { text += " ± \(Self.format(ci.halfWidth, digits: digits))" }
        if let delta = difference(metric, policy: policy) {
            text += " (\(Self.signed(delta.relative))\(delta.significant == true ? "*" : ""))"
        }
        return text
    }

    /// `policy`'s mean relative to the baseline's, and whether Welch's test finds it significant (nil with
    /// one replication); nil for the baseline itself or without one.
    func difference(_ metric: String, policy: String) -> (relative: Double, significant: Bool?)? {
        guard let baseline, policy != baseline, policies.contains(baseline) else { return nil }
        let base = interval(metric, policy: baseline).mean, own = interval(metric, policy: policy).mean
        guard base.isFinite, own.isFinite, base != 0 else { return nil }
        let values = { (name: String) in runs(of: name).map { $0.summary[metric] ?? .nan }.filter(\.isFinite) }
        return ((own - base) / abs(base), Statistics.welchDiffers(values(policy), values(baseline)))
    }

    static func signed(_ fraction: Double) -> String {
        (fraction >= 0 ? "+" : "−") + String(format: "%.1f%%", abs(fraction) * 100)
    }

    /// The same table in Markdown.
    func markdown() -> String {
        var lines = [
            "**\(scenario.name)** (sha256 \(scenario.sha256.prefix(12))) · \(replications) replication(s)"
                + (baseline.map { " · relative to `\($0)`; * significant at 95% (Welch)" } ?? ""),
            "", "| metric | " + policies.joined(separator: " | ") + " |",
            "| --- |" + String(repeating: " ---: |", count: policies.count),
        ]
        for row in shownRows {
            lines.append(
                "| \(row.label) | "
                    + policies.map { cell(row.metric, policy: $0, digits: row.digits) }.joined(separator: " | ")
                    + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Long-format CSV (RFC 4180, ``CSV``'s quoting and numbers): one row per metric shown and policy; an
    /// undefined value is an empty field.
    func csv() -> String {
        var lines = ["metric,policy,mean,ci95_half_width,n,relative_to_baseline,significant"]
        for row in shownRows {
            for policy in policies {
                let ci = interval(row.metric, policy: policy)
                let delta = difference(row.metric, policy: policy)
                let fields = [
                    CSV.field(row.metric), CSV.field(policy), CSV.number(ci.mean), CSV.number(ci.halfWidth),
                    String(ci.count), delta.map { CSV.number($0.relative) } ?? "",
                    delta?.significant.map { $0 ? "true" : "false" } ?? "",
                ]
                lines.append(fields.joined(separator: ","))
            }
        }
        return lines.joined(separator: CSV.lineEnd) + CSV.lineEnd
    }

    /// The same comparison as JSON, with every summary metric, for scripts. Keys are sorted.
    func json() throws -> String {
        let runObjects: [[String: Any]] = runs.map { run in
            [
                "run_id": run.runID, "policy": run.policy, "seed": String(run.seed), "replication": run.replication,
                "digest": run.digest, "events": run.events, "wall_seconds": run.wallSeconds,
                "summary": Self.object(run.summary.metrics.map { ($0.name, $0.value) }),
            ]
        }
        let metricNames = runs.first?.summary.metrics.map(\.name) ?? []
        let policyObjects: [[String: Any]] = policies.map { policy in
            let intervals = metricNames.map { ($0, interval($0, policy: policy)) }
            var object: [String: Any] = [
                "policy": policy, "run_ids": runs(of: policy).map(\.runID),
                "mean": Self.object(intervals.map { ($0.0, $0.1.mean) }),
                "ci95_half_width": Self.object(intervals.map { ($0.0, $0.1.halfWidth) }),
            ]
            if baseline != nil && policy != baseline {
                let deltas = metricNames.compactMap { name in difference(name, policy: policy).map { (name, $0) } }
                object["relative_to_baseline"] = Self.object(deltas.map { ($0.0, $0.1.relative) })
                object["significant"] = Dictionary(
                    deltas.compactMap { name, delta in delta.significant.map { (name, $0) } },
                    uniquingKeysWith: { a, _ in a })
            }
            return object
        }
        let document: [String: Any] = [
            "scenario": ["name": scenario.name, "sha256": scenario.sha256, "file": scenario.file],
            "seed": String(seed), "replications": replications, "policies": policyObjects, "runs": runObjects,
            "baseline": baseline ?? NSNull(),
        ]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// JSON has no NaN: undefined values (no completed requests, one replication) become null.
    static func object(_ pairs: [(String, Double)]) -> [String: Any] {
        Dictionary(pairs.map { ($0.0, $0.1.isFinite ? $0.1 as Any : NSNull()) }, uniquingKeysWith: { a, _ in a })
    }

    static func format(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return "-" }
        return String(format: "%.\(digits)f", value)
    }
}
