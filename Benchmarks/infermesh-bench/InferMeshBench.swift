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
        subcommands: [KernelBench.self, EngineBench.self, RoutingBench.self, ReplayBench.self])
}

/// M/M/8 at load 0.9 (the SimPy baseline's model) and the classic hold model.
struct KernelBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel",
        abstract: "M/M/8 at load 0.9 (λ = 7.2, μ = 1) on the kernel, then through the full fleet, then the hold model.",
        discussion: """
            Wall times cover the event loop only, as the SimPy baseline's do. Keys without a prefix are the
            kernel-level model (the like-for-like comparison with SimPy); `fleet_` keys are the same model through
            the workload generator, router, station replica and request records; `hold_` keys are the hold model.
            """)

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
        runKernelStation()
        try runFleetStation()
        runHold()
        print("max_rss_mb=\(String(format: "%.1f", maxResidentMegabytes()))")
    }

    static let lambda = 7.2, servers = 8

    /// The M/M/8 model on the kernel alone (the like-for-like comparison with SimPy).
    private func runKernelStation() {
        var model = KernelStation(
            servers: Self.servers, arrivalRate: Self.lambda, serviceRate: 1, customers: customers, seed: seed)
        var sim = Simulator<KernelStation.Event>()
        sim.schedule(.arrival, after: model.gap())
        let start = DispatchTime.now().uptimeNanoseconds
        sim.run(&model, horizon: .max)
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("model=mmc")
        print("customers=\(model.waits.count)")
        print("servers=\(Self.servers)")
        print("lambda=\(Self.lambda)")
        print("mu=1.0")
        print("seed=\(seed)")
        print("erlang_c_mean_wait=\(fixed(theory))")
        report(prefix: "", waits: model.waits, events: sim.processedEvents, wall: wall)
        print("digest=\(sim.digest.hex)")
    }

    /// The same model through the whole fleet: workload generator, router, station replica, request records.
    private func runFleetStation() throws {
        let spec = FleetSpec(
            pools: [
                PoolSpec(
                    name: "station", replicas: 1,
                    replica: .station(StationSpec(servers: Self.servers, serviceSeconds: .exponential(mean: 1))))
            ],
            workloads: [
                WorkloadSpec(
                    name: "customers", ratePerSecond: Self.lambda, pool: "station",
                    maxRequests: customers)
            ],
            horizon: .seconds(Int64(Double(customers) / Self.lambda * 2 + 3_600)), sampleInterval: nil)
        let output = try FleetRun.execute(spec, policy: "round-robin", seed: seed)
        let waits = output.requests.compactMap(\.queueTime).map(\.seconds)
        report(prefix: "fleet_", waits: waits, events: output.events, wall: output.loopWallSeconds)
        print("fleet_digest=\(output.digest.hex)")
    }

    private var theory: Double {
        QueueingTheory.erlangC(servers: Self.servers, arrivalRate: Self.lambda, serviceRate: 1).meanWait
    }

    /// Mean wait with its 95% batch-means interval (20 batches, as the SimPy model), and speed.
    private func report(prefix: String, waits: [Double], events: UInt64, wall: Double) {
        let interval = Statistics.confidenceInterval(Statistics.batchMeans(waits, batches: 20))
        print("\(prefix)mean_wait=\(fixed(Statistics.mean(waits)))")
        print("\(prefix)mean_wait_ci_low=\(fixed(interval.lower))")
        print("\(prefix)mean_wait_ci_high=\(fixed(interval.upper))")
        print("\(prefix)erlang_c_in_ci=\(interval.contains(theory))")
        print("\(prefix)events=\(events)")
        print("\(prefix)wall_seconds=\(fixed(wall))")
        print("\(prefix)customers_per_second=\(Int(Double(waits.count) / wall))")
        print("\(prefix)events_per_second=\(Int(Double(events) / wall))")
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
