import Analysis
import Fleet
import Testing

/// The kernel, the station and the statistics checked against queueing theory.
///
/// One run's mean wait at high load is noisy, so each check builds a 95% confidence interval from independent
/// replications (different run seeds) and asks that it contains the analytic value and is tight (half-width at
/// most 3% of it). Seeds are fixed, so the outcome is deterministic; the tolerance is the interval itself.
@Suite struct QueueingTheoryTests {
    static func stationSpec(
        servers: Int, service: Distribution, rate: Double, horizon: SimTime, warmup: SimTime
    )
        -> FleetSpec
    {
        FleetSpec(
            pools: [
                PoolSpec(
                    name: "station", replicas: 1,
                    replica: .station(StationSpec(servers: servers, serviceSeconds: service)))
            ],
            workloads: [WorkloadSpec(name: "customers", ratePerSecond: rate, pool: "station")],
            horizon: horizon, warmup: warmup, sampleInterval: nil)
    }

    /// Mean queueing delay (seconds) of the measured, completed requests of one replication.
    static func meanWait(_ spec: FleetSpec, seed: UInt64) throws -> Double {
        let output = try FleetRun.execute(spec, policy: "round-robin", seed: seed)
        let waits = output.requests.filter { output.isMeasured($0) && $0.status == .completed }
            .compactMap(\.queueTime).map(\.seconds)
        return Statistics.mean(waits)
    }

    static func replicationInterval(_ spec: FleetSpec, replications: Int) throws -> ConfidenceInterval {
        let means = try (0..<replications).map { try meanWait(spec, seed: 1_000 + UInt64($0)) }
        return Statistics.confidenceInterval(means)
    }

    @Test func mmcMeanWaitMatchesErlangC() throws {
        // M/M/8 at load 0.8: λ = 6.4/s, μ = 1/s.
        let theory = QueueingTheory.erlangC(servers: 8, arrivalRate: 6.4, serviceRate: 1).meanWait
        let spec = Self.stationSpec(
            servers: 8, service: .exponential(mean: 1), rate: 6.4,
            horizon: .seconds(20_000), warmup: .seconds(200))
        let interval = try Self.replicationInterval(spec, replications: 20)
        print("M/M/8 Erlang C \(theory), CI \(interval), rel \(interval.relativeHalfWidth)")
        #expect(interval.contains(theory), "Erlang C \(theory) outside \(interval)")
        #expect(interval.relativeHalfWidth <= 0.03, "interval too wide: \(interval)")
    }

    @Test func md1MeanWaitMatchesPollaczekKhinchine() throws {
        // M/D/1 at load 0.7: λ = 0.7/s, service exactly 1 s.
        let theory = QueueingTheory.pollaczekKhinchine(arrivalRate: 0.7, serviceMean: 1, serviceVariance: 0)
        let spec = Self.stationSpec(
            servers: 1, service: .constant(1), rate: 0.7,
            horizon: .seconds(40_000), warmup: .seconds(1_000))
        let interval = try Self.replicationInterval(spec, replications: 20)
        print("M/D/1 P-K \(theory), CI \(interval), rel \(interval.relativeHalfWidth)")
        #expect(interval.contains(theory), "Pollaczek-Khinchine \(theory) outside \(interval)")
        #expect(interval.relativeHalfWidth <= 0.03, "interval too wide: \(interval)")
    }
}
