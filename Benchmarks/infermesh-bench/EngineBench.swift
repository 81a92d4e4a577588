import ArgumentParser
import Fleet
import Foundation

/// The GPU engine: steps per second at two batch sizes, and a fleet of GPU replicas end to end.
struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "GPU engine: decode steps/s at batch 8 and 256, then 8 replicas serving Poisson traffic.",
        discussion: """
            The fleet part is the bench-8xh100-llama3-8b shape: 8 replicas, Poisson arrivals at 250/s, prompts
            normal(1000, 250), outputs normal(200, 50). Until the calibrated H100 profile is wired in, steps are
            timed by a linear model (fixed + per-token) of the same order as Llama-3-8B on H100.
            """)

    @Option(help: "Requests in the fleet run.") var requests = 50_000
    @Option(help: "Decode steps in each batch-size run.") var steps = 200_000
    @Option(help: "Run seed.") var seed: UInt64 = 42

    func run() throws {
        for batch in [8, 256] { runFixedBatch(batch) }
        for policy in ["round-robin", "least-connections"] { try runFleet(policy: policy) }
        print("max_rss_mb=\(String(format: "%.1f", maxResidentMegabytes()))")
    }

    /// `batch` sequences that decode for `steps` steps: the cost of a step must not grow with the batch.
    private func runFixedBatch(_ batch: Int) {
        let engine = GPUReplica(
            settings: EngineSettings(maxNumSeqs: batch), kvBlocks: batch * (steps / 16 + 4),
            timing: LinearStepTiming(fixed: .milliseconds(5), perTokenNanoseconds: 20_000))
        engine.setMeasuring(true)  // inter-token latencies are recorded, as in a run's measurement window
        var effects = ReplicaEffects()
        for id in 0..<batch {
            engine.enqueue(
                ServingRequest(id: RequestID(id), inputTokens: 16, outputTokens: steps + 1), now: .zero,
                effects: &effects)
        }
        var timer = effects.timers.first!
        var fired = 0
        let start = DispatchTime.now().uptimeNanoseconds
        while fired < steps {
            effects.removeAll()
            engine.fire(timer.timer, now: timer.at, effects: &effects)
            fired += 1
            guard let next = effects.timers.first else { break }
            timer = next
        }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("batch_\(batch)_steps=\(fired)")
        print("batch_\(batch)_steps_per_second=\(Int(Double(fired) / wall))")
    }

    private func runFleet(policy: String) throws {
        let spec = FleetSpec(
            pools: [
                PoolSpec(
                    name: "h100", replicas: 8,
                    replica: .gpu(
                        GPUReplicaSpec(
                            kvBlocks: 30_000,
                            timing: .linear(fixed: .milliseconds(6), perTokenNanoseconds: 60_000))))
            ],
            workloads: [
                WorkloadSpec(
                    name: "chat", ratePerSecond: 250,
                    inputTokens: .truncatedNormal(mean: 1_000, sd: 250, lower: 1, upper: .infinity),
                    outputTokens: .truncatedNormal(mean: 200, sd: 50, lower: 1, upper: .infinity), pool: "h100",
                    maxRequests: requests)
            ],
            horizon: .seconds(Int64(Double(requests) / 250 + 60)), sampleInterval: .seconds(1))
        let start = DispatchTime.now().uptimeNanoseconds
        let output = try FleetRun.execute(spec, policy: policy, seed: seed)
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let completed = output.requests.filter { $0.status == .completed }.count
        print("fleet_\(policy)_requests=\(output.requests.count)")
        print("fleet_\(policy)_completed=\(completed)")
        print("fleet_\(policy)_events=\(output.events)")
        print("fleet_\(policy)_wall_seconds=\(String(format: "%.3f", wall))")
        print("fleet_\(policy)_requests_per_second=\(Int(Double(output.requests.count) / wall))")
        print("fleet_\(policy)_digest=\(output.digest.hex)")
    }
}
