public import Fleet

/// Builds a run's summary as the run goes: it takes each request as it ends and each sample as it is taken,
/// keeping counts, sums and latency sketches, so the summary of a million-request run costs no more memory
/// than that of a small one.
///
/// Hand it to ``FleetRun/execute`` as a sink, then ask for ``summary(of:)`` with the run's output.
public final class SummaryAccumulator: RunSink {
    let spec: FleetSpec
    /// Each workload's objectives, resolved once.
    private let slos: [SLO]
    private var requestsTotal = 0
    private var fleet = RequestStats()
    /// Per workload, when there are several.
    private var workloads: [RequestStats]
    private var preemptions = 0
    private var promptTokens = 0
    private var cachedTokens = 0
    /// With a CPU tier of KV blocks: prompt tokens by tier, fleet-wide and per workload (when several).
    private let hasOffload: Bool
    private var fleetTiers = TierTokens()
    private var workloadTiers: [TierTokens]
    private var itlMax = LatencySketch()
    private var gatewayWait = LatencySketch()
    private var spike: SpikeAccumulator?
    private var mesh = MeshAccumulator()
    private var kvTransfer = LatencySketch()
    private var kvTransferBytes = 0.0
    private var requestsSplit = 0
    private var turnTTFT = LatencySketch()
    private var workloadTurnTTFT: [LatencySketch]
    private var kvUsageSum = 0.0
    private var kvUsageCount = 0
    private var kvUsageMax = -Double.infinity

    /// Measures over `spec`'s window, [warmup, horizon). With a window other than the run's (zooming into a
    /// part of it), the replica-level metrics, integrals over the run's own window, are NaN.
    public init(spec: FleetSpec) {
        self.spec = spec
        self.slos = spec.workloads.indices.map { spec.slo(for: WorkloadID($0)) }
        let perWorkload = spec.workloads.count > 1 ? spec.workloads.count : 0
        self.workloads = Array(repeating: RequestStats(), count: perWorkload)
        self.workloadTurnTTFT = Array(repeating: LatencySketch(), count: perWorkload)
        self.hasOffload = spec.pools.contains(where: \.hasKVOffload)
        self.workloadTiers = Array(repeating: TierTokens(), count: hasOffload ? perWorkload : 0)
        self.spike = SpikeMetrics.window(spec).map {
            SpikeAccumulator(start: $0.start, end: $0.end, horizon: spec.horizon)
        }
    }

    /// Whether a request arriving at `arrival` counts in metrics.
    private func isMeasured(_ arrival: SimTime) -> Bool { arrival >= spec.warmup && arrival < spec.horizon }

    public func accept(_ request: FinishedRequest) {
        requestsTotal += 1
        let record = request.record
        if let link = request.session, !link.subagent, let start = request.sessionStart, isMeasured(start),
            let ttft = record.ttft
        {
            turnTTFT.record(ttft)
            if !workloadTurnTTFT.isEmpty { workloadTurnTTFT[record.workload.index].record(ttft) }
        }
        let slo = slos[record.workload.index]
        // Delivered: completions counted by when they complete, whenever the request arrived (as benchmark
        // clients count them), so an overloaded fleet's throughput is what it served, not what it was offered.
        if record.status == .completed, let end = record.end, end >= spec.warmup, end < spec.horizon {
            fleet.deliver(record, slo: slo)
            if !workloads.isEmpty { workloads[record.workload.index].deliver(record, slo: slo) }
        }
        guard isMeasured(record.arrival) else { return }
        fleet.add(record, slo: slo)
        if !workloads.isEmpty { workloads[record.workload.index].add(record, slo: slo) }
        preemptions += record.preemptions
        promptTokens += record.inputTokens
        cachedTokens += record.cachedTokens
        if hasOffload {
            fleetTiers.add(record)
            if !workloadTiers.isEmpty { workloadTiers[record.workload.index].add(record) }
        }
        if record.status == .completed, let latency = record.maxInterTokenLatency { itlMax.record(latency) }
        if let wait = record.gatewayWait { gatewayWait.record(wait) }
        spike?.add(record, slo: slo)
        if let path = request.path { mesh.add(record, path: path) }
        if let split = request.disaggregation {
            requestsSplit += 1
            kvTransferBytes += Double(split.kvTransferBytes)
            if let ns = split.kvTransferNanoseconds { kvTransfer.record(SimTime(nanoseconds: ns)) }
        }
    }

    public func accept(_ sample: GaugeSample) {
        guard sample.time > spec.warmup && sample.time <= spec.horizon, let usage = sample.gauges.kvCacheUsagePerc
        else { return }
        kvUsageSum += usage
        kvUsageCount += 1
        kvUsageMax = Swift.max(kvUsageMax, usage)
    }

    /// Feeds every request and sample an output kept (a run with `keepRequests`).
    public func replay(_ output: RunOutput) {
        var links = [SessionLink?](repeating: nil, count: output.requests.count)
        for link in output.sessionLinks { links[link.request.index] = link }
        for record in output.requests {
            let index = record.id.index
            let path = output.mesh.flatMap { mesh in
                index < mesh.origin.count
                    ? RequestPath(
                        origin: Int(mesh.origin[index]), networkNanoseconds: mesh.networkNanoseconds[index],
                        attempts: Int(mesh.attempts[index]), crossCluster: mesh.crossCluster[index]) : nil
            }
            let link = links[index]
            accept(
                FinishedRequest(
                    record: record, session: link, sessionStart: link.map { output.sessions[$0.session].start },
                    path: path, disaggregation: output.splits.isEmpty ? nil : output.splits[record.id]))
        }
        for sample in output.samples { accept(sample) }
    }

    /// The summary: what was accumulated, with what `output` holds of replicas, sessions and the mesh.
    public func summary(of output: RunOutput) -> RunSummary {
        var summary = RunSummary()
        // A run that ends when done measures until its last response (the output's horizon), not its cap.
        let horizon = spec.endsWhenDone ? Swift.min(spec.horizon, output.spec.horizon) : spec.horizon
        let windowSeconds = (horizon - spec.warmup).seconds
        let anySLO = !slos.allSatisfy(\.isEmpty)

        summary.append("requests_total", Double(requestsTotal))
        summary.append("window_s", windowSeconds)
        fleet.append(prefix: "", windowSeconds: windowSeconds, hasSLO: anySLO, to: &summary)

        let windowNs = Double((horizon - spec.warmup).nanoseconds)
        // The replicas' integrals cover the run's own window; over another window they are not known.
        let runWindow = spec.warmup == output.spec.warmup && horizon == output.spec.horizon
        // Under an autoscaler a replica counts only for the time it was provisioned.
        let active = ReplicaActivity.activeNanoseconds(output, from: spec.warmup, to: horizon)
        let utilizations = output.replicas.indices.filter { runWindow && active[$0] > 0 }.map { index in
            output.replicas[index].window.busy / (Double(output.replicas[index].capacity) * Double(active[index]))
        }
        summary.append("utilization", Statistics.mean(utilizations))
        summary.append("utilization_max", utilizations.max() ?? .nan)
        summary.append("utilization_min", utilizations.min() ?? .nan)
        summary.append(
            "mean_in_system", runWindow ? output.replicas.reduce(0) { $0 + $1.window.occupancy } / windowNs : .nan)
        summary.append("events", Double(output.events))
        summary.append("preemptions", Double(preemptions))
        summary.append(
            "prefix_cache_hit_rate", promptTokens > 0 ? Double(cachedTokens) / Double(promptTokens) : .nan)
        summary.append("kv_cache_usage_mean", kvUsageCount > 0 ? kvUsageSum / Double(kvUsageCount) : .nan)
        summary.append("kv_cache_usage_max", kvUsageCount > 0 ? kvUsageMax : .nan)

        // Token-weighted inter-token latencies of the whole fleet, and each completed request's longest gap.
        let itl = InterTokenLatency.fleet(output)
        summary.append("itl_ms_mean", (itl?.meanNanoseconds ?? .nan) / 1e6)
        for (suffix, p) in RunSummary.percentiles {
            summary.append("itl_ms_\(suffix)", (itl?.quantileNanoseconds(p) ?? .nan) / 1e6)
        }
        summary.append("itl_ms_max", (itl?.quantileNanoseconds(1) ?? .nan) / 1e6)
        summary.appendLatency("itl_max_ms", itlMax)
        // Flow control at the gateway, over the whole run.
        summary.append("gateway_queued", Double(output.gateway.queued))
        summary.append("gateway_shed", Double(output.gateway.shed))
        summary.append("gateway_expired", Double(output.gateway.expired))
        summary.append("gateway_overflowed", Double(output.gateway.overflowed))
        summary.appendLatency("gateway_wait_ms", gatewayWait)

        if output.spec.pools.contains(where: { $0.autoscaler != nil }) {
            summary.append("replicas_mean", Double(active.reduce(0, +)) / windowNs)
            summary.append("replicas_max", Double(ReplicaActivity.peakReplicas(output)))
            summary.append(
                "scale_ups", Double(output.scalingEvents.filter { $0.state == .provisioning }.count))
            summary.append("scale_downs", Double(output.scalingEvents.filter { $0.state == .draining }.count))
        }
        if !output.sessions.isEmpty {
            SessionMetrics.append(
                prefix: "", output: output, window: (spec.warmup, horizon), workload: nil, turnTTFT: turnTTFT,
                to: &summary)
        }
        if hasOffload { fleetTiers.append(prefix: "", to: &summary) }
        spike?.append(to: &summary)
        if !output.spec.adapterNames.isEmpty {
            // Loads over the run's window; over another window they are not known.
            summary.append(
                "lora_loads",
                runWindow ? Double(output.replicas.reduce(Int64(0)) { $0 + $1.window.loraLoads }) : .nan)
        }
        if let meshOutput = output.mesh { mesh.append(meshOutput, to: &summary) }
        if spec.disaggregation != nil {
            summary.append("requests_split", Double(requestsSplit))
            summary.append("kv_transfer_gb", kvTransferBytes / 1e9)
            summary.appendLatency("kv_transfer_ms", kvTransfer)
        }

        // With several workloads, the same request metrics per workload, prefixed `workload.<name>.`.
        for (index, stats) in workloads.enumerated() {
            let workload = output.spec.workloads[index]
            stats.append(
                prefix: "workload.\(workload.name).", windowSeconds: windowSeconds, hasSLO: !slos[index].isEmpty,
                to: &summary)
            if workload.session != nil {
                SessionMetrics.append(
                    prefix: "workload.\(workload.name).", output: output, window: (spec.warmup, horizon),
                    workload: WorkloadID(index), turnTTFT: workloadTurnTTFT[index], to: &summary)
            }
            if hasOffload { workloadTiers[index].append(prefix: "workload.\(workload.name).", to: &summary) }
        }
        return summary
    }
}

/// The prompt tokens of measured requests by where their KV came from: the GPU's prefix cache, the CPU tier
/// (loaded), or neither (computed).
struct TierTokens {
    var prompt = 0
    var gpu = 0
    var cpu = 0

    mutating func add(_ record: RequestRecord) {
        prompt += record.inputTokens
        gpu += record.cachedTokens
        cpu += record.loadedTokens
    }

    /// Each tier's hit rate: its tokens over all prompt tokens, NaN without any.
    func append(prefix: String, to summary: inout RunSummary) {
        summary.append(prefix + "gpu_prefix_cache_hit_rate", prompt > 0 ? Double(gpu) / Double(prompt) : .nan)
        summary.append(prefix + "cpu_prefix_cache_hit_rate", prompt > 0 ? Double(cpu) / Double(prompt) : .nan)
    }
}

/// Counts, rates, SLO attainment and latencies of the measured requests of a fleet or a workload.
///
/// Latencies, counts and SLO attainment are of the requests that *arrived* in the window; throughput, goodput
/// and output tokens per second are of the completions that *ended* in it (docs/metrics.md).
struct RequestStats {
    var measured = 0
    var counts = Array(repeating: 0, count: RequestStatus.allCases.count)
    /// Measured requests with an objective, and those of them that completed within it.
    var measuredWithSLO = 0
    var metSLO = 0
    /// Completions that ended in the window, their output tokens, and those that met their objective.
    var delivered = 0
    var deliveredOutputTokens = 0
    var deliveredMetSLO = 0
    var e2e = LatencySketch()
    var ttft = LatencySketch()
    var tpot = LatencySketch()
    var queue = LatencySketch()

    mutating func add(_ record: RequestRecord, slo: SLO) {
        measured += 1
        if record.statusIndex >= 0 { counts[record.statusIndex] += 1 }
        if let wait = record.queueTime { queue.record(wait) }
        if !slo.isEmpty { measuredWithSLO += 1 }
        guard record.status == .completed else { return }
        if !slo.isEmpty && RunSummary.meets(slo, record) { metSLO += 1 }
        if let value = record.e2e { e2e.record(value) }
        if let value = record.ttft { ttft.record(value) }
        if let value = record.tpot { tpot.record(value) }
    }

    /// A completion that ended in the window.
    mutating func deliver(_ record: RequestRecord, slo: SLO) {
        delivered += 1
        deliveredOutputTokens += record.outputTokens
        if !slo.isEmpty && RunSummary.meets(slo, record) { deliveredMetSLO += 1 }
    }

    /// Without an objective (`hasSLO` false) there is no goodput and no attainment: NaN, shown as a dash.
    func append(prefix: String, windowSeconds: Double, hasSLO: Bool, to summary: inout RunSummary) {
        summary.append(prefix + "requests_measured", Double(measured))
        for status in RequestStatus.allCases { summary.append(prefix + status.rawValue, Double(counts[status.index])) }
        summary.append(prefix + "offered_rps", Double(measured) / windowSeconds)
        summary.append(prefix + "throughput_rps", Double(delivered) / windowSeconds)
        summary.append(prefix + "goodput_rps", hasSLO ? Double(deliveredMetSLO) / windowSeconds : .nan)
        summary.append(
            prefix + "slo_attainment",
            hasSLO && measuredWithSLO > 0 ? Double(metSLO) / Double(measuredWithSLO) : .nan)
        summary.append(prefix + "output_tokens_per_second", Double(deliveredOutputTokens) / windowSeconds)
        summary.appendLatency(prefix + "e2e_ms", e2e)
        summary.appendLatency(prefix + "ttft_ms", ttft)
        summary.appendLatency(prefix + "tpot_ms", tpot)
        summary.appendLatency(prefix + "queue_ms", queue)
    }
}
