import Analysis
import Fleet
import Testing

/// What the router's knowledge does to a fleet: stale metrics herd, and prefix affinity without a load term
/// concentrates.
@Suite struct RouterBehaviorTests {
    static func spec(
        refresh: SimTime, sharedPrefix: Int = 0, picker: EndpointPickerConfig? = nil, rate: Double = 120,
        horizon: SimTime = .seconds(60)
    ) -> FleetSpec {
        var workload = WorkloadSpec(
            name: "chat", ratePerSecond: rate, inputTokens: .lognormal(mean: 600, cv: 1),
            outputTokens: .lognormal(mean: 150, cv: 1), pool: "gpu")
        workload.sharedPrefixTokens = sharedPrefix
        workload.maxInputTokens = 8_000
        workload.maxOutputTokens = 2_000
        return FleetSpec(
            pools: [
                PoolSpec(
                    name: "gpu", replicas: 4,
                    replica: .gpu(
                        GPUReplicaSpec(
                            engine: EngineSettings(maxNumSeqs: 64), kvBlocks: 4_000,
                            timing: .linear(fixed: .milliseconds(5), perTokenNanoseconds: 30_000))))
            ],
            workloads: [workload], horizon: horizon, warmup: .seconds(5), sampleInterval: nil,
            router: RouterSpec(refreshInterval: refresh, metricsStaleness: .seconds(10)), endpointPicker: picker)
    }

    /// With metrics read live, inference-aware spreads load; scraped every 2 s, the requests between two
    /// scrapes of a replica go by what it looked like at the last one, and queues build on whichever looked
    /// best: a worse TTFT tail in the same scenario and seed.
    @Test func staleMetricsMakeInferenceAwareRoutingHerd() throws {
        let live = RunSummary.of(
            try FleetRun.execute(Self.spec(refresh: .zero, rate: 100), policy: "inference-aware", seed: 3))
        let stale = RunSummary.of(
            try FleetRun.execute(Self.spec(refresh: .seconds(2), rate: 100), policy: "inference-aware", seed: 3))
        #expect(
            stale["ttft_ms_p99"]! > 1.5 * live["ttft_ms_p99"]!,
            "live \(live["ttft_ms_p99"]!), stale \(stale["ttft_ms_p99"]!)")
    }

    /// Every request shares one 2,000-token root prefix. Scored on prefix alone, the replica that served the
    /// first request matches every later one fully and takes nearly all the traffic; inference-aware's queue and
    /// KV terms spread it.
    @Test func prefixAffinityWithoutALoadTermConcentratesTraffic() throws {
        let prefixOnly = EndpointPickerConfig(
            plugins: [PluginSpec(type: "prefix-cache-scorer"), PluginSpec(type: "max-score-picker")],
            schedulingProfiles: [
                SchedulingProfileSpec(
                    name: "prefix-only",
                    plugins: [.init(pluginRef: "prefix-cache-scorer"), .init(pluginRef: "max-score-picker")])
            ])
        let spec = Self.spec(
            refresh: .milliseconds(50), sharedPrefix: 2_000, picker: prefixOnly, rate: 40, horizon: .seconds(20))
        func topShare(_ policy: String) throws -> Double {
            let output = try FleetRun.execute(spec, policy: policy, seed: 4)
            var counts = [0, 0, 0, 0]
            for record in output.requests { counts[record.replica!.index] += 1 }
            return Double(counts.max()!) / Double(output.requests.count)
        }
        #expect(try topShare("prefix-only") > 0.95)
        #expect(try topShare("inference-aware") < 0.5)
    }
}
