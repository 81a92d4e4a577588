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
