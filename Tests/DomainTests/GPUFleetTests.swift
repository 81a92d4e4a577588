import Analysis
import Fleet
import Testing

/// GPU replicas inside the fleet.
@Suite struct GPUFleetTests {
    static let timing = StepTimingSpec.linear(fixed: .milliseconds(5), perTokenNanoseconds: 10_000)

    /// With `max-num-seqs: 1` an engine serves one request at a time: an M/G/1 queue whose service time is
    /// one 100-token prefill step (6 ms) plus `output − 1` decode steps (5.01 ms each). Outputs of 5, 10 or 20
    /// tokens, equally likely, make the service time general. The 95% interval of the mean wait over 10
    /// replications must contain Pollaczek–Khinchine and be within 3% of it.
    @Test func oneSequenceAtATimeIsAnMG1Queue() throws {
        let outputs = [5.0, 10, 20]
        let services = outputs.map { 0.006 + ($0 - 1) * 0.00501 }
        let mean = Statistics.mean(services)
        let variance = services.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(services.count)
        let lambda = 0.7 / mean
        let theory = QueueingTheory.pollaczekKhinchine(
            arrivalRate: lambda, serviceMean: mean, serviceVariance: variance)

        let spec = FleetSpec(
            pools: [
                PoolSpec(
                    name: "gpu", replicas: 1,
                    replica: .gpu(
                        GPUReplicaSpec(engine: EngineSettings(maxNumSeqs: 1), kvBlocks: 1_000, timing: Self.timing)))
            ],
            workloads: [
                WorkloadSpec(
                    name: "chat", ratePerSecond: lambda, inputTokens: .constant(100),
                    outputTokens: .empirical(EmpiricalTable(values: outputs)!), pool: "gpu")
            ],
            horizon: .seconds(1_500), warmup: .seconds(50), sampleInterval: nil)
        let waits = try (0..<10).map { replication in
            let output = try FleetRun.execute(spec, policy: "round-robin", seed: 500 + UInt64(replication))
            return Statistics.mean(
                output.requests.filter { output.isMeasured($0) && $0.status == .completed }.compactMap(\.queueTime)
                    .map(\.seconds))
        }
        let interval = Statistics.confidenceInterval(waits)
        #expect(interval.contains(theory), "P-K \(theory) outside \(interval)")
        #expect(interval.relativeHalfWidth <= 0.03, "interval too wide: \(interval)")
    }

    @Test func gpuRunsAreDeterministicAndConserveRequests() throws {
        let spec = FleetSpec(
            pools: [
                PoolSpec(
                    name: "gpu", replicas: 3,
                    replica: .gpu(
                        GPUReplicaSpec(engine: EngineSettings(maxNumSeqs: 8), kvBlocks: 200, timing: Self.timing)))
            ],
            workloads: [
                WorkloadSpec(
                    name: "chat", ratePerSecond: 40,
                    inputTokens: .truncatedNormal(mean: 400, sd: 100, lower: 1, upper: 2_000),
                    outputTokens: .truncatedNormal(mean: 60, sd: 20, lower: 1, upper: 300), pool: "gpu",
                    timeout: .seconds(5))
            ],
            horizon: .seconds(120), warmup: .seconds(10), sampleInterval: .seconds(1))
        let a = try FleetRun.execute(spec, policy: "least-connections", seed: 3)
        let b = try FleetRun.execute(spec, policy: "least-connections", seed: 3)
        #expect(a.digest == b.digest)
        #expect(a.requests == b.requests)
        // A small KV cache under load: some requests are preempted, every request still ends exactly once.
        #expect(a.requests.contains { $0.preemptions > 0 })
        #expect(a.requests.allSatisfy { $0.status != nil && $0.status != .unfinished })
        #expect(
            a.requests.allSatisfy {
                $0.status != .completed || ($0.firstToken! <= $0.end! && $0.start! <= $0.firstToken!)
            })
        #expect(a.samples.allSatisfy { ($0.gauges.kvCacheUsagePerc ?? -1) >= 0 && $0.gauges.kvCacheUsagePerc! <= 1 })
    }
}

/// A workload whose requests share a 2,000-token system prompt.
@Suite struct SharedPrefixTests {
    static func run(prefixCaching: Bool) throws -> RunOutput {
        var workload = WorkloadSpec(
            name: "assistant", ratePerSecond: 2, inputTokens: .constant(500), outputTokens: .constant(20), pool: "gpu")
        workload.sharedPrefixTokens = 2_000
        let spec = FleetSpec(
            pools: [
                PoolSpec(
                    name: "gpu", replicas: 1,
                    replica: .gpu(
                        GPUReplicaSpec(
                            engine: EngineSettings(enablePrefixCaching: prefixCaching), kvBlocks: 5_000,
                            timing: GPUFleetTests.timing)))
            ],
            workloads: [workload], horizon: .seconds(600), warmup: .seconds(10), sampleInterval: nil)
        return try FleetRun.execute(spec, policy: "round-robin", seed: 8)
    }

    @Test func theSharedPromptIsServedFromTheCache() throws {
        let cached = try Self.run(prefixCaching: true)
        let uncached = try Self.run(prefixCaching: false)
        let summary = RunSummary.of(cached), baseline = RunSummary.of(uncached)
        // Every request after the first finds the 125 full blocks of the 2,000-token prompt: 2,000 of its
        // 2,500 prompt tokens. At 2 req/s with ~0.1 s of service, none arrives before the first has
        // published its blocks.
        #expect(cached.requests.dropFirst().allSatisfy { $0.cachedTokens == 2_000 })
        #expect(cached.requests.first?.cachedTokens == 0)
        #expect(abs(summary["prefix_cache_hit_rate"]! - 0.8) < 0.001)
        #expect(baseline["prefix_cache_hit_rate"] == 0)
        // Prefill of 500 instead of 2,500 tokens: 5 + 5 ms against 5 + 25 ms for the first token.
        #expect(abs(summary["ttft_ms_p50"]! - 10) < 0.5, "\(summary["ttft_ms_p50"]!)")
        #expect(abs(baseline["ttft_ms_p50"]! - 30) < 0.5, "\(baseline["ttft_ms_p50"]!)")
    }
}

/// Per-token metrics of GPU replicas reconciled with the request records they summarize.
@Suite struct TokenMetricsTests {
    /// 400 requests on two engines, all finished well before the horizon, with a shared prompt prefix and a
    /// KV cache large enough that nothing is preempted.
    static func run() throws -> RunOutput {
        var workload = WorkloadSpec(
            name: "chat", ratePerSecond: 20, inputTokens: .uniform(lower: 100, upper: 900),
            outputTokens: .uniform(lower: 2, upper: 120), pool: "gpu")
        workload.sharedPrefixTokens = 256
        workload.maxRequests = 400
        let spec = FleetSpec(
            pools: [
                PoolSpec(
                    name: "gpu", replicas: 2,
                    replica: .gpu(
                        GPUReplicaSpec(
                            engine: EngineSettings(maxNumSeqs: 16), kvBlocks: 10_000, timing: GPUFleetTests.timing)))
            ],
            workloads: [workload], horizon: .seconds(60), warmup: .zero, sampleInterval: .milliseconds(500))
        return try FleetRun.execute(spec, policy: "round-robin", seed: 21)
    }

    @Test func interTokenLatenciesAddUpToEachRequestsDecodeTime() throws {
        let output = try Self.run()
        let completed = output.requests.filter { $0.status == .completed }
        #expect(completed.count == 400 && output.requests.allSatisfy { $0.preemptions == 0 })
        let summary = RunSummary.of(output)
        // Token-weighted mean ITL = Σ(last − first token) / Σ(output − 1), both exact sums over requests.
        let tokens = completed.reduce(0) { $0 + $1.outputTokens - 1 }
        let decodeMs = completed.reduce(0.0) { $0 + ($1.end! - $1.firstToken!).milliseconds }
        #expect(abs(summary["itl_ms_mean"]! - decodeMs / Double(tokens)) < 1e-9 * decodeMs)
        #expect(InterTokenLatency.histogram(output).reduce(0) { $0 + $1.tokens } == Int64(tokens))
        // A request's longest gap is at least its mean gap and at most its whole decode time.
        for record in completed where record.outputTokens > 1 {
            let maxITL = try #require(record.maxInterTokenLatency)
            #expect(maxITL >= record.tpot! && maxITL <= record.end! - record.firstToken!)
        }
        #expect(completed.allSatisfy { $0.outputTokens > 1 || $0.maxInterTokenLatency == nil })
        #expect(summary["itl_max_ms_max"] == completed.compactMap(\.maxInterTokenLatency).max()!.milliseconds)
        #expect(summary["itl_ms_p50"]! <= summary["itl_ms_p99"]! && summary["itl_ms_p99"]! <= summary["itl_ms_max"]!)
    }

    /// Inter-token latencies are recorded only in [warmup, horizon): the same run with a 10 s warm-up records
    /// fewer tokens, exactly the decode tokens produced from then on; replicas that do not time tokens have none.
    @Test func interTokenLatenciesAreRecordedOnlyInTheWindow() throws {
        let whole = try Self.run()
        var spec = whole.spec
        spec.warmup = .seconds(10)
        let windowed = try FleetRun.execute(spec, policy: "round-robin", seed: 21)
        let all = InterTokenLatency.fleet(whole)!.tokens, late = InterTokenLatency.fleet(windowed)!.tokens
        #expect(late > 0 && late < all)
        let stations = try AnalysisTests.twoWorkloadRun()
        #expect(stations.interTokenLatencies.allSatisfy { $0 == nil } && InterTokenLatency.fleet(stations) == nil)
        #expect(RunSummary.of(stations)["itl_ms_p99"]!.isNaN)
    }

    @Test func sampledTokenRatesAddUpToTheTokensServed() throws {
        let output = try Self.run()
        let completed = output.requests.filter { $0.status == .completed }
        let interval = 0.5
        let generated = output.samples.reduce(0.0) { $0 + $1.generationTokensPerSecond! * interval }
        let processed = output.samples.reduce(0.0) { $0 + $1.tokensPerSecond! * interval }
        // Every output token is generated once; every prompt token not found in the cache is prefilled once.
        #expect(abs(generated - Double(completed.reduce(0) { $0 + $1.outputTokens })) < 1e-6)
        // A request's input includes the shared prefix.
        let prefilled = completed.reduce(0) { $0 + $1.inputTokens - $1.cachedTokens }
        #expect(abs(processed - generated - Double(prefilled)) < 1e-6)
        // The replicas' window totals count the same tokens (the window is the whole run here).
        #expect(output.replicas.allSatisfy { $0.countsTokens && $0.hasPrefixCache && $0.kvCacheBlocks == 10_000 })
        #expect(
            output.replicas.reduce(0) { $0 + $1.window.generationTokens }
                == Int64(completed.reduce(0) { $0 + $1.outputTokens }))
        #expect(
            output.replicas.reduce(0) { $0 + $1.window.prefixCacheHits }
                == Int64(completed.reduce(0) { $0 + $1.cachedTokens }))
        #expect(
            output.replicas.reduce(0) { $0 + $1.window.prefixCacheQueries }
                == Int64(completed.reduce(0) { $0 + $1.inputTokens }))
        let rates = output.samples.compactMap(\.prefixCacheHitRate)
        #expect(!rates.isEmpty && rates.allSatisfy { $0 >= 0 && $0 <= 1 } && rates.contains { $0 > 0 })
    }
}
