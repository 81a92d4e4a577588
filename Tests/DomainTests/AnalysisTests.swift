import Analysis
import Fleet
import SimKernel
import Testing

/// Statistics, theory formulas and the run summary, against values computed by hand.
@Suite struct AnalysisTests {
    @Test func quantilesInterpolateLinearlyLikeNumpy() {
        let sorted = [1.0, 2, 3, 4]
        #expect(Statistics.quantile(sorted: sorted, 0.5) == 2.5)
        #expect(abs(Statistics.quantile(sorted: sorted, 0.9) - 3.7) < 1e-12)
        #expect(Statistics.quantile(sorted: sorted, 1) == 4)
        #expect(Statistics.quantile(sorted: [], 0.5).isNaN)
    }

    @Test func interTokenLatencyBucketsAreLogSpacedAndInclusive() {
        let bounds = InterTokenLatency.bucketBounds
        #expect(bounds.first == 1_000 && bounds.dropLast().last == 1_000_000_000_000 && bounds.last == .max)
        #expect(zip(bounds.dropFirst(), bounds).allSatisfy { $0 > $1 })
        // 20 buckets per decade: 10 ms is a bound, and the bound after it is 10^(1/20) ≈ 12.2% higher.
        let tenMs = InterTokenLatency.bucket(of: 10_000_000)
        #expect(bounds[tenMs] == 10_000_000 && bounds[tenMs + 1] == 11_220_185)
        #expect(InterTokenLatency.bucket(of: 10_000_001) == tenMs + 1)
        #expect(InterTokenLatency.bucket(of: 0) == 0 && InterTokenLatency.bucket(of: .max) == bounds.count - 1)
    }

    @Test func confidenceIntervalUsesStudentT() {
        // Mean 3, sample sd √2.5, t(0.975, 4) = 2.776445: half-width 2.776445 · √2.5 / √5 = 1.963243.
        let interval = Statistics.confidenceInterval([1, 2, 3, 4, 5])
        #expect(interval.mean == 3)
        #expect(abs(interval.halfWidth - 1.963243) < 1e-6)
        #expect(abs(Statistics.studentT(0.975, degreesOfFreedom: 19) - 2.093024) < 1e-6)
        #expect(Statistics.confidenceInterval([7]).halfWidth.isNaN)
    }

    @Test func batchMeansDropTheRemainder() {
        #expect(Statistics.batchMeans([1, 2, 3, 4, 5, 6, 7], batches: 3) == [1.5, 3.5, 5.5])
    }

    @Test func theoryMatchesPublishedValues() {
        // M/M/8 at λ = 7.2, μ = 1: mean wait 0.876916 (the SimPy baseline's Erlang-C figure).
        let mmc = QueueingTheory.erlangC(servers: 8, arrivalRate: 7.2, serviceRate: 1)
        #expect(abs(mmc.meanWait - 0.876916) < 1e-6)
        // M/M/1 at ρ = 0.5: P(wait) = ρ, Wq = ρ / (μ − λ) = 1.
        let mm1 = QueueingTheory.erlangC(servers: 1, arrivalRate: 0.5, serviceRate: 1)
        #expect(abs(mm1.probabilityOfWaiting - 0.5) < 1e-12 && abs(mm1.meanWait - 1) < 1e-12)
        // M/D/1 at ρ = 0.7 with 1 s service: 0.7 / (2 · 0.3).
        let md1 = QueueingTheory.pollaczekKhinchine(arrivalRate: 0.7, serviceMean: 1, serviceVariance: 0)
        #expect(abs(md1 - 0.7 / 0.6) < 1e-12)
    }

    static func twoWorkloadRun() throws -> RunOutput {
        let spec = FleetSpec(
            pools: [
                PoolSpec(
                    name: "pool", replicas: 2,
                    replica: .station(StationSpec(servers: 1, serviceSeconds: .exponential(mean: 0.5), maxQueue: 3)))
            ],
            workloads: [
                WorkloadSpec(name: "chat", ratePerSecond: 2, pool: "pool", slo: SLO(e2e: .seconds(2))),
                WorkloadSpec(name: "batch", ratePerSecond: 1.5, pool: "pool", timeout: .seconds(2)),
            ],
            horizon: .seconds(2_000), warmup: .seconds(100))
        return try FleetRun.execute(spec, policy: "least-connections", seed: 4)
    }

    @Test func perWorkloadMetricsAddUpToTheFleetTotals() throws {
        let summary = RunSummary.of(try Self.twoWorkloadRun())
        for metric in ["requests_measured", "completed", "rejected", "timed_out", "throughput_rps"] {
            let parts = summary["workload.chat.\(metric)"]! + summary["workload.batch.\(metric)"]!
            #expect(abs(parts - summary[metric]!) < 1e-9, "\(metric)")
        }
        // Only chat has an objective: batch has no goodput and no attainment, and the fleet's are chat's.
        #expect(summary["workload.batch.goodput_rps"]!.isNaN && summary["workload.batch.slo_attainment"]!.isNaN)
        #expect(summary["goodput_rps"] == summary["workload.chat.goodput_rps"])
        #expect(summary["slo_attainment"] == summary["workload.chat.slo_attainment"])
        #expect(summary["goodput_rps"]! > 0 && summary["goodput_rps"]! <= summary["workload.chat.throughput_rps"]!)
        #expect(summary["workload.chat.timed_out"] == 0)
        #expect(summary["workload.batch.timed_out"]! > 0)
    }

    /// The metric names and their order are a contract (docs/metrics.md); this pins the fleet-wide ones.
    @Test func metricNamesArePinned() throws {
        let names = RunSummary.of(try Self.twoWorkloadRun()).metrics.map(\.name).filter { !$0.hasPrefix("workload.") }
        let latencies = ["e2e_ms", "ttft_ms", "tpot_ms", "queue_ms"].flatMap { base in
            ["mean", "p50", "p90", "p99", "p999", "max"].map { "\(base)_\($0)" }
        }
        #expect(
            names
                == [
                    "requests_total", "window_s", "requests_measured", "completed", "rejected", "timed_out", "failed",
                    "unfinished", "offered_rps", "throughput_rps", "goodput_rps", "slo_attainment",
                    "output_tokens_per_second",
                ] + latencies
                + [
                    "utilization", "utilization_max", "utilization_min", "mean_in_system", "events", "preemptions",
                    "prefix_cache_hit_rate", "kv_cache_usage_mean", "kv_cache_usage_max",
                ]
                + ["itl_ms", "itl_max_ms"].flatMap { base in
                    ["mean", "p50", "p90", "p99", "p999", "max"].map { "\(base)_\($0)" }
                } + ["gateway_queued", "gateway_shed", "gateway_expired", "gateway_overflowed"]
                + ["mean", "p50", "p90", "p99", "p999", "max"].map { "gateway_wait_ms_\($0)" })
    }
}
