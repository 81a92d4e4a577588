import ArgumentParser
import Fleet
import Foundation

/// Trace replay: the reader alone (streamed, so memory must not grow with the trace or with loops), then the
/// whole fleet replaying it.
struct ReplayBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Stream a Mooncake trace through the reader (once, then looped), then replay it through a fleet.",
        discussion: """
            The default trace is scenarios/traces/conversation_trace.jsonl. The fleet part is
            scenarios/mooncake-replay.yaml's: 8 H100s serving Llama-3.1-8B (roofline), the trace at 2x, with
            round-robin. `rss_after_*` is the process's peak resident set after each part: it must not grow with
            the number of loops.
            """)

    @Option(help: "A Mooncake JSON-lines trace.") var trace = "scenarios/traces/conversation_trace.jsonl"
    @Option(help: "Passes over the trace in the looped read.") var loops = 20
    @Option(help: "Routing policy of the fleet replay.") var policy = "round-robin"
    @Flag(help: "Skip the fleet replay.") var readerOnly = false

    func run() throws {
        let spec = TraceReplaySpec(path: trace, format: .mooncake)
        var start = DispatchTime.now().uptimeNanoseconds
        let stats = try TraceReplay.scan(spec)
        print("trace=\(trace)")
        print("requests=\(stats.count)")
        print("scan_seconds=\(seconds(since: start))")

        start = DispatchTime.now().uptimeNanoseconds
        let once = try TraceReader(spec: spec, stats: stats)
        var tokens = 0
        var read = 0
        while let request = once.next() {
            tokens &+= request.inputTokens &+ (request.prefix?.tokens ?? 0)
            read += 1
        }
        let onceWall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("read_seconds=\(String(format: "%.3f", onceWall))")
        print("read_requests_per_second=\(Int(Double(read) / onceWall))")
        print("rss_after_one_pass_mb=\(String(format: "%.1f", maxResidentMegabytes()))")

        var looped = spec
        looped.loop = true
        let reader = try TraceReader(spec: looped, stats: stats)
        start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<(stats.count * loops) { tokens &+= reader.next()?.inputTokens ?? 0 }
        print("looped_requests=\(stats.count * loops)")
        print("looped_seconds=\(seconds(since: start))")
        print("rss_after_\(loops)_loops_mb=\(String(format: "%.1f", maxResidentMegabytes()))")
        print("checksum=\(tokens)")
        guard !readerOnly else { return }

        var replay = spec
        replay.speedUp = 2
        var workload = WorkloadSpec(name: "kimi-conversation", ratePerSecond: stats.meanRatePerSecond * 2, pool: "h100")
        workload.trace = TraceWorkload(replay: replay, stats: stats)
        let gpu = GPUSpec.named("H100-80GB")!, model = LLMSpec.named("Llama-3.1-8B")!
        let blocks = GPUReplicaSpec.kvBlocks(
            gpu: gpu, model: model, tensorParallelSize: 1, gpuMemoryUtilization: 0.9, blockSize: 16)!
        let fleet = FleetSpec(
            pools: [
                PoolSpec(
                    name: "h100", replicas: 8,
                    replica: .gpu(
                        GPUReplicaSpec(
                            kvBlocks: blocks,
                            timing: .roofline(ModelDeployment(gpu: gpu, model: model)))))
            ],
            workloads: [workload], horizon: .seconds(1_800), warmup: .seconds(60))
        start = DispatchTime.now().uptimeNanoseconds
        let output = try FleetRun.execute(fleet, policy: policy, seed: 5)
        let wall = seconds(since: start)
        print("fleet_policy=\(policy)")
        print("fleet_requests=\(output.requests.count)")
        print("fleet_events=\(output.events)")
        print("fleet_seconds=\(wall)")
        print("fleet_events_per_second=\(Int(Double(output.events) / output.loopWallSeconds))")
        print("fleet_digest=\(output.digest.hex)")
        print("rss_after_fleet_mb=\(String(format: "%.1f", maxResidentMegabytes()))")
    }

    private func seconds(since start: UInt64) -> String {
        String(format: "%.3f", Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}
