public import ResultsStore

// Rows for the results store: a run description and varied result sets, for the store's tests and the CLI's.

/// A run description; `seed` defaults to one above Int64.max to exercise the bit-pattern rule.
public func newRun(
    scenario: String = "smoke", policy: String = "round_robin",
    seed: UInt64 = UInt64(Int64.max) + 12_345, replication: Int = 0, files: [RunFileRow] = []
) -> NewRun {
    NewRun(
        scenarioName: scenario,
        scenarioSHA256: String(repeating: "ab", count: 32),
        scenarioText: "name: \(scenario)\nfleet:\n  pools: []\n",
        policy: policy, seed: seed, replication: replication, toolVersion: "0.1.0-test",
        createdAt: "2025-01-02T03:04:05Z", horizonNs: 60_000_000_000, warmupNs: 5_000_000_000, files: files)
}

/// A request row whose fields are all derived from `id`, with NULLs sprinkled by status.
public func requestRow(_ id: Int64, status: RequestStatus? = nil) -> RequestRow {
    let status = status ?? [.completed, .completed, .rejected, .timedOut, .unfinished, .failed][Int(id % 6)]
    let arrival = id * 1_000
    let routed = status != .rejected
    let started = routed && status != .unfinished
    var row = RequestRow(
        requestID: id, workload: id % 2 == 0 ? "chat" : "batch",
        replica: routed ? Int(id % 4) : nil,
        arrivalNs: arrival,
        startNs: started ? arrival + 10 : nil,
        firstTokenNs: status == .completed ? arrival + 20 : nil,
        endNs: status == .unfinished ? nil : arrival + 30,
        inputTokens: Int(id % 1_000) + 1, outputTokens: Int(id % 500),
        status: status.rawValue, cachedTokens: Int(id % 7) * 16, preemptions: Int(id % 3),
        itlMaxNs: status == .completed && id % 5 != 0 ? 20_000_000 + id : nil, routedNs: routed ? arrival + 3 : nil,
        sessionID: id % 3 == 0 ? id / 30 : nil, turn: id % 3 == 0 ? Int(id % 7) + 1 : nil,
        subagent: id % 3 == 0 ? id % 2 == 0 : nil, originCluster: id % 4 == 0 ? "us-east" : nil,
        networkNs: id % 4 == 0 ? 310_556 + id : nil, attempts: id % 4 == 0 ? Int(id % 3) + 1 : nil,
        crossCluster: id % 4 == 0 ? id % 8 == 0 : nil,
        // Split requests only from id 120 on, so the first insert of a run leaves these columns out entirely.
        prefillReplica: id >= 120 && id % 5 == 0 ? Int(id % 3) : nil,
        kvTransferNs: id >= 120 && id % 10 == 0 ? 2_000_000 + id : nil,
        kvTransferBytes: id >= 120 && id % 5 == 0 ? 1_310_720_000 + id : nil)
    // Loaded from a CPU KV tier; NULL (no tier) in the first rows, so an insert leaves the column out.
    row.loadedTokens = id < 150 ? nil : started && id % 4 == 1 ? Int(id % 5) * 16 : 0
    return row
}

/// A complete, varied result set with `requestCount` requests.
public func results(requestCount: Int, digest: String = "0123456789abcdef") -> RunResults {
    let replicas = (0..<4).map { index in
        guard index >= 2 else { return ReplicaRow(replica: index, pool: "a", kind: "station", busyFraction: 0.5) }
        var row = ReplicaRow(
            replica: index, pool: "b", kind: "gpu", numGPUBlocks: 27_000 + index, busyFraction: 0.875,
            promptTokens: 1_000_000, generationTokens: 200_000 + Int64(index), prefixCacheQueries: 900_000,
            prefixCacheHits: index == 3 ? 0 : 450_000, preemptions: Int64(index))
        if index == 3 {  // with a CPU KV tier
            row.externalPrefixCacheQueries = 900_000
            row.externalPrefixCacheHits = 300_000
        }
        return row
    }
    let requests = (0..<Int64(requestCount)).map { requestRow($0) }
    // Deliberately not alphabetical, so insertion order is distinguishable from name order.
    let summaries = [
        SummaryRow(metric: "ttft_ms_p50", value: 0.125),
        SummaryRow(metric: "e2e_ms_p99", value: 2.5),
        SummaryRow(metric: "throughput_rps", value: 41.75),
        SummaryRow(metric: "abandon_rate", value: 0),
    ]
    var samples: [SampleRow] = []
    for tick in 0..<10 {
        for replica in 0..<4 {
            let kvCache: Double? = replica == 3 ? nil : Double(tick * 10 + replica)
            samples.append(
                SampleRow(
                    timeNs: Int64(tick) * 1_000_000_000, replica: replica,
                    numRequestsWaiting: tick + replica, numRequestsRunning: replica,
                    kvCacheUsagePerc: kvCache, busyFraction: Double(replica) / 4,
                    tokensPerSecond: kvCache.map { $0 * 100 }, generationTokensPerSecond: kvCache.map { $0 * 10 },
                    prefixCacheHitRate: replica == 2 ? 0.25 : nil))
        }
    }
    let histogram = (0..<3).flatMap { replica in
        [5_011_872, 5_623_413, 100_000_000].map {
            ITLHistogramRow(replica: replica, leNs: $0, tokens: Int64(replica + 1) * $0 % 97 + 1)
        }
    }
    var results = RunResults(
        replicas: replicas, requests: requests, summaries: summaries, samples: samples, itlHistogram: histogram,
        digest: digest, events: 123_456, wallSeconds: 1.5)
    results.sessions = (0..<Int64(requestCount / 30 + 1)).map { id in
        let status = ["completed", "failed", "unfinished"][Int(id % 3)]
        return SessionRow(
            sessionID: id, workload: "agents", workloadSession: Int(id), startNs: id * 5_000,
            endNs: status == "unfinished" ? nil : id * 5_000 + 900, status: status, plannedTurns: 7, turns: 3,
            timedOutTurns: Int(id % 2), failedTurns: 0, retries: Int(id % 2), reconnects: 1, subagentCalls: 4,
            compactions: 0)
    }
    results.meshEvents = [
        MeshEventRow(timeNs: 60_000, kind: "fault_start", subject: "us-east<->eu-west", detail: "link down"),
        MeshEventRow(timeNs: 61_000, kind: "ejected", subject: "h100/5", detail: ""),
    ]
    results.replicas[3].cluster = "eu-west"
    results.scalingEvents = [
        ScalingEventRow(
            timeNs: 15_000, pool: "b", replica: 4, state: "provisioning", desiredReplicas: 3, metricValue: 7.5),
        ScalingEventRow(timeNs: 105_000, pool: "b", replica: 4, state: "ready", desiredReplicas: 3, metricValue: nil),
        ScalingEventRow(
            timeNs: 105_000, pool: "b", replica: 3, state: "draining", desiredReplicas: 2, metricValue: 0.5),
    ]
    return results
}
