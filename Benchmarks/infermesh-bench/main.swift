import Analysis
import ArgumentParser
import Fleet
import Foundation

/// Release-build benchmarks. Each prints one `key=value` per line, for scripts and `make bench`.
@main
struct InferMeshBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infermesh-bench",
        abstract: "InferMesh benchmarks (run with: swift run -c release infermesh-bench ...).",
        subcommands: [KernelBench.self])
}

/// M/M/8 at load 0.9 (the SimPy baseline's model) and the classic hold model.
struct KernelBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel",
        abstract: "M/M/8 station at load 0.9 (λ = 7.2, μ = 1) through the full fleet, then the hold model.")

    @Option(help: "Customers to simulate in the M/M/8 model.") var customers = 1_000_000
    @Option(help: "Run seed.") var seed: UInt64 = 42
    @Option(help: "Pending events in the hold model.") var holdSize = 1_000
    @Option(help: "Events to process in the hold model.") var holdEvents = 10_000_000

    func validate() throws {
        guard customers > 0, holdSize > 0, holdEvents > 0 else {
            throw ValidationError("--customers, --hold-size and --hold-events must be positive")
        }
    }

    func run() throws {
        try runStation()
        runHold()
        print("max_rss_mb=\(String(format: "%.1f", maxResidentMegabytes()))")
    }

    private func runStation() throws {
        let lambda = 7.2, servers = 8
        let spec = FleetSpec(
            pools: [
                PoolSpec(
                    name: "station", replicas: 1,
                    replica: .station(StationSpec(servers: servers, serviceSeconds: .exponential(mean: 1))))
            ],
            workloads: [
                WorkloadSpec(
                    name: "customers", ratePerSecond: lambda, pool: "station",
                    maxRequests: customers)
            ],
            horizon: .seconds(Int64(Double(customers) / lambda * 2 + 3_600)), sampleInterval: nil)
        let start = DispatchTime.now().uptimeNanoseconds
        let output = try FleetRun.execute(spec, policy: "round-robin", seed: seed)
        let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let wall = output.loopWallSeconds

        let waits = output.requests.compactMap(\.queueTime).map(\.seconds)
        let theory = QueueingTheory.erlangC(servers: servers, arrivalRate: lambda, serviceRate: 1).meanWait
        let interval = Statistics.confidenceInterval(Statistics.batchMeans(waits, batches: 20))
        print("model=mmc")
        print("customers=\(output.requests.count)")
        print("servers=\(servers)")
        print("lambda=\(lambda)")
        print("mu=1.0")
        print("seed=\(seed)")
        print("mean_wait=\(fixed(Statistics.mean(waits)))")
        print("erlang_c_mean_wait=\(fixed(theory))")
        print("mean_wait_ci_low=\(fixed(interval.lower))")
        print("mean_wait_ci_high=\(fixed(interval.upper))")
        print("erlang_c_in_ci=\(interval.contains(theory))")
        print("events=\(output.events)")
        print("digest=\(output.digest.hex)")
        print("wall_seconds=\(fixed(wall))")
        print("total_seconds=\(fixed(total))")
        print("customers_per_second=\(Int(Double(output.requests.count) / wall))")
        print("events_per_second=\(Int(Double(output.events) / wall))")
    }

    /// The hold model: `holdSize` pending events; each one processed schedules one more after an Exp(1) delay.
    private func runHold() {
        var model = HoldModel(stream: RandomStream(name: "bench/hold", runSeed: seed), remaining: holdEvents)
        var sim = Simulator<HoldModel.Tick>()
        for _ in 0..<holdSize { sim.schedule(.init(), after: model.delay()) }
        let start = DispatchTime.now().uptimeNanoseconds
        sim.run(&model, horizon: .max)
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("hold_size=\(holdSize)")
        print("hold_events=\(sim.processedEvents)")
        print("hold_wall_seconds=\(fixed(wall))")
        print("hold_events_per_second=\(Int(Double(sim.processedEvents) / wall))")
    }

    private func fixed(_ value: Double) -> String { String(format: "%.6f", value) }
}

struct HoldModel: SimulationModel {
    struct Tick: DigestibleEvent { var digestCode: UInt64 { 1 } }
    let stream: RandomStream
    var remaining: Int

    func delay() -> SimTime { SimTime(nanoseconds: Int64(stream.exponential(mean: 1e9))) }

    mutating func handle(_ event: Tick, in simulator: inout Simulator<Tick>) {
        remaining -= 1
        if remaining > 0 { simulator.schedule(event, after: delay()) }
    }
}

func maxResidentMegabytes() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024
}
