import Analysis
import Fleet
import Testing

/// Drives one LoRA engine without the fleet: its step timer and its adapter loads, arrivals fixed in advance or
/// sent one after another (each when the previous completes).
struct LoRADriver {
    let engine: GPUReplica
    var now = SimTime.zero
    private var timers: [(at: SimTime, order: Int, timer: ReplicaTimer)] = []
    private var scheduled = 0
    /// When each request started, and whether its adapter was loaded then.
    var started: [(time: SimTime, id: RequestID, adapterLoaded: Bool)] = []
    var completed: [RequestID: SimTime] = [:]
    var rejected: [RequestID] = []
    /// Each load: its adapter, when it started and when it ended.
    var loads: [(adapter: Int32, start: SimTime, end: SimTime)] = []
    var adapterOf: [RequestID: Int32] = [:]

    static let loraTimer: UInt32 = 2

    init(maxLoras: Int, stepCostPerAdapter: SimTime = .zero, settings: EngineSettings = EngineSettings()) {
        // 25 MB at 25 GB/s: a load takes exactly 1 ms.
        let lora = LoRASettings(
            maxLoras: maxLoras, adapterBytes: 25_000_000, loadBytesPerSecond: 25e9,
            stepCostPerAdapter: stepCostPerAdapter)
        engine = GPUReplica(
            settings: settings, kvBlocks: 1_000,
            timing: LinearStepTiming(fixed: .milliseconds(5), perTokenNanoseconds: 10_000), lora: lora)
    }

    /// Runs `arrivals` (sorted by time), then, if `sequential` is not empty, sends those one at a time, each when
    /// the one before it completes; until the engine is idle.
    mutating func run(_ arrivals: [(SimTime, ServingRequest)], sequential: [ServingRequest] = []) {
        var pending = arrivals[...]
        var queue = sequential[...]
        if pending.isEmpty, let first = queue.popFirst() { pending.append((.zero, first)) }
        while true {
            let next = timers.indices.min { (timers[$0].at, timers[$0].order) < (timers[$1].at, timers[$1].order) }
            if let (time, request) = pending.first, next == nil || time <= timers[next!].at {
                pending = pending.dropFirst()
                now = time
                adapterOf[request.id] = request.adapter
                call { engine, effects in engine.enqueue(request, now: time, effects: &effects) }
            } else if let next {
                let due = timers.remove(at: next)
                now = due.at
                let completedBefore = completed.count
                call { engine, effects in engine.fire(due.timer, now: due.at, effects: &effects) }
                if completed.count > completedBefore, let request = queue.popFirst() {
                    pending.append((now, request))
                }
            } else {
                return
            }
        }
    }

    private mutating func call(_ body: (GPUReplica, inout ReplicaEffects) -> Void) {
        let before = engine.heldAdapters
        var effects = ReplicaEffects()
        body(engine, &effects)
        let after = engine.heldAdapters
        for (at, timer) in effects.timers {
            timers.append((at, scheduled, timer))
            scheduled += 1
            if timer.code == Self.loraTimer {
                let slot = after.indices.first { after[$0] != before[$0] }!
                loads.append((after[slot], now, at))
            }
        }
        for outcome in effects.outcomes {
            switch outcome {
            case .started(let id):
                let adapter = adapterOf[id]!
                started.append((now, id, adapter < 0 || engine.isAdapterLoaded(adapter)))
            case .completed(let id): completed[id] = now
            case .rejected(let id): rejected.append(id)
            default: break
            }
        }
    }

    /// Adapter switches in start order: how often a started request's adapter differs from the one before.
    var switches: Int {
        let order = started.map { adapterOf[$0.id]! }
        return zip(order, order.dropFirst()).filter { $0 != $1 }.count
    }
}

@Suite struct LoRAAdapterTests {
    static func request(_ id: Int, adapter: Int32, input: Int = 100, output: Int = 10) -> ServingRequest {
        ServingRequest(id: RequestID(id), inputTokens: input, outputTokens: output, adapter: adapter)
    }

    /// Random arrivals naming 6 adapters on a replica holding 2: every request starts only once its adapter is
    /// loaded, after a load of it ended, and everything completes. (Debug builds also check at every step that
    /// the batch's adapters are loaded and the per-adapter counts match a recount.)
    @Test(arguments: 0..<20)
    func anAdapterIsNeverUsedBeforeItHasLoaded(seed: UInt64) {
        let stream = RandomStreams(runSeed: seed).stream("test/lora")
        var time = SimTime.zero
        let arrivals = (0..<60).map { id -> (SimTime, ServingRequest) in
            time = time + .seconds(stream.exponential(mean: 0.01))
            return (
                time,
                Self.request(
                    id, adapter: Int32(stream.integer(below: 7)) - 1, input: 50 + stream.integer(below: 400),
                    output: 1 + stream.integer(below: 60))
            )
        }
        var driver = LoRADriver(maxLoras: 2)
        driver.run(arrivals)
        #expect(driver.completed.count == 60 && driver.rejected.isEmpty)
        for start in driver.started {
            let adapter = driver.adapterOf[start.id]!
            #expect(start.adapterLoaded, "request \(start.id.index) started before adapter \(adapter) was loaded")
            if adapter >= 0 {
                #expect(driver.loads.contains { $0.adapter == adapter && $0.end <= start.time })
            }
        }
        // Loads run one at a time.
        for (a, b) in zip(driver.loads, driver.loads.dropFirst()) { #expect(b.start >= a.end) }
    }

    /// `max-loras: 1`, requests alternating between two adapters, each sent when the previous one completes:
    /// every request switches the adapter, so every one pays a load, and starts exactly when its load ends.
    @Test func withOneSlotEverySwitchPaysALoad() {
        var driver = LoRADriver(maxLoras: 1)
        driver.run([], sequential: (0..<8).map { Self.request($0, adapter: Int32($0 % 2)) })
        #expect(driver.completed.count == 8)
        #expect(driver.switches == 7)
        #expect(driver.loads.count == driver.switches + 1)
        #expect(driver.loads.map(\.adapter) == [0, 1, 0, 1, 0, 1, 0, 1])
        for (index, start) in driver.started.enumerated() {
            #expect(start.time == driver.loads[index].end)
            #expect(driver.loads[index].end - driver.loads[index].start == .milliseconds(1))
            if index > 0 { #expect(start.time >= driver.completed[RequestID(index - 1)]!) }
        }
    }

    /// Arriving together, alternating requests are grouped: one slot serves every request of an adapter it
    /// holds before the other is loaded, so loads follow switches in start order, not in arrival order.
    @Test func requestsWaitingTogetherAreGroupedByAdapter() {
        var driver = LoRADriver(maxLoras: 1)
        driver.run((0..<8).map { (.zero, Self.request($0, adapter: Int32($0 % 2))) })
        #expect(driver.completed.count == 8)
        #expect(driver.switches == 1 && driver.loads.count == 2)
        #expect(driver.started.map { driver.adapterOf[$0.id]! } == [0, 0, 0, 0, 1, 1, 1, 1])
        // The second adapter is loaded once the first has no request running, and its requests start then.
        let lastOfFirst = (0..<8).filter { $0 % 2 == 0 }.map { driver.completed[RequestID($0)]! }.max()!
        #expect(driver.loads[1].start == lastOfFirst)
        #expect(driver.started[4].time == lastOfFirst + .milliseconds(1))
    }

    /// A load is the adapter's bytes over the bandwidth, and each distinct adapter in a step adds its cost.
    @Test func loadsAndMixedBatchesCostWhatTheSettingsSay() {
        var driver = LoRADriver(maxLoras: 2, stepCostPerAdapter: .milliseconds(1))
        driver.run([(.zero, Self.request(0, adapter: 0))])
        // Load 1 ms; prefill 5 + 1 + 1 (one adapter) ms; 9 decode steps of 5.01 + 1 ms.
        #expect(driver.started[0].time == .milliseconds(1))
        #expect(driver.completed[RequestID(0)] == .milliseconds(8) + SimTime(nanoseconds: 9 * 6_010_000))
        // A base-model request on the same engine pays no adapter cost and no load.
        var base = LoRADriver(maxLoras: 2, stepCostPerAdapter: .milliseconds(1))
        base.run([(.zero, Self.request(0, adapter: -1))])
        #expect(base.loads.isEmpty && base.started[0].time == .zero)
        #expect(base.completed[RequestID(0)] == .milliseconds(6) + SimTime(nanoseconds: 9 * 5_010_000))
        // Two adapters in one batch: each decode step pays 2 ms once both run.
        var mixed = LoRADriver(maxLoras: 2, stepCostPerAdapter: .milliseconds(1))
        mixed.run([(.zero, Self.request(0, adapter: 0, output: 50)), (.zero, Self.request(1, adapter: 1, output: 50))])
        let oneAdapter = driver.completed[RequestID(0)]!
        #expect(mixed.completed[RequestID(0)]! > oneAdapter)
        #expect(mixed.loads.count == 2 && mixed.loads[1].start == mixed.loads[0].end)
    }

    @Test func aReplicaWithoutLoRARefusesAnAdapter() {
        let engine = GPUReplica(
            settings: EngineSettings(), kvBlocks: 100,
            timing: LinearStepTiming(fixed: .milliseconds(5), perTokenNanoseconds: 10_000))
        var effects = ReplicaEffects()
        engine.enqueue(Self.request(0, adapter: 3), now: .zero, effects: &effects)
        #expect(Array(effects.outcomes) == [.rejected(RequestID(0))])
        #expect(engine.gauges(now: .zero).lora == nil)
    }

    /// `vllm:lora_requests_info`: adapters with requests waiting, then running once loaded.
    @Test func theGaugesListRunningAndWaitingAdapters() {
        let engine = LoRADriver(maxLoras: 1).engine
        var effects = ReplicaEffects()
        engine.enqueue(Self.request(0, adapter: 4), now: .zero, effects: &effects)
        engine.enqueue(Self.request(1, adapter: 2), now: .zero, effects: &effects)
        #expect(engine.gauges(now: .zero).lora == LoRARequestsInfo(running: [], waiting: [2, 4], maxLora: 1))
        let load = effects.timers[0]
        effects.removeAll()
        engine.fire(load.timer, now: load.at, effects: &effects)
        #expect(engine.gauges(now: load.at).lora == LoRARequestsInfo(running: [4], waiting: [2], maxLora: 1))
        #expect(engine.integrals(now: load.at).loraLoads == 1)
    }

    /// The inference extension's scores: running 1, room 0.8, waiting only 0.6, else 0.
    @Test func theAffinityScorerHasTheExtensionsLevels() {
        let full = LoRARequestsInfo(running: [1, 2], waiting: [5], maxLora: 2)
        #expect(LoRAAffinityScorer.score(adapter: 2, full) == 1)
        #expect(LoRAAffinityScorer.score(adapter: 5, full) == 0.6)
        #expect(LoRAAffinityScorer.score(adapter: 7, full) == 0)
        // Room: running and waiting counted once each (adapter 1 is in both).
        let room = LoRARequestsInfo(running: [1], waiting: [1], maxLora: 2)
        #expect(LoRAAffinityScorer.score(adapter: 9, room) == 0.8)
        #expect(LoRAAffinityScorer.score(adapter: 9, nil) == 0)
        #expect(LoRAAffinityScorer.score(adapter: -1, full) == 1)
        // The router fills each view's standing for the request's adapter from what the replica reported.
        var views = [ReplicaView(id: ReplicaID(0), outstanding: 0), ReplicaView(id: ReplicaID(1), outstanding: 0)]
        var request = RoutingRequest(
            id: RequestID(0), workload: WorkloadID(0), inputTokens: 1, outputTokens: 1, criticality: .standard)
        request.adapter = 1
        views[0].loraAffinity = LoRAAffinity(adapter: 1, full)
        views[1].loraAffinity = LoRAAffinity(adapter: 1, room)
        var scores = [0.0, 0.0]
        LoRAAffinityScorer().score(request, views, into: &scores)
        #expect(scores == [1, 1])
        request.adapter = 3
        views[0].loraAffinity = LoRAAffinity(adapter: 3, full)
        views[1].loraAffinity = LoRAAffinity(adapter: 3, room)
        LoRAAffinityScorer().score(request, views, into: &scores)
        #expect(scores == [0, 0.8])
        #expect(PluginRegistry.type(named: "lora-affinity-scorer")?.kind == .scorer)
    }

    /// Adapters come from their own stream: naming them changes no size, and Zipf popularity is followed.
    @Test func adapterDrawsLeaveSizesAloneAndFollowZipf() {
        var spec = WorkloadSpec(
            name: "w", ratePerSecond: 1, inputTokens: .exponential(mean: 100), outputTokens: .exponential(mean: 50),
            pool: "p")
        let plain = WorkloadGenerator(spec: spec, streams: RandomStreams(runSeed: 9))
        spec.lora = WorkloadSpec.LoRAWorkload(adapters: WorkloadSpec.LoRAWorkload.names(count: 4), zipf: 1)
        let named = WorkloadGenerator(spec: spec, streams: RandomStreams(runSeed: 9))
        var counts = [0, 0, 0, 0]
        for _ in 0..<20_000 {
            let a = plain.nextRequest(), b = named.nextRequest()
            #expect(a.input == b.input && a.output == b.output)
            counts[named.nextAdapter()!] += 1
        }
        #expect(plain.nextAdapter() == nil)
        // 1/k normalized over 4: 0.48, 0.24, 0.16, 0.12.
        for (count, share) in zip(counts, [0.48, 0.24, 0.16, 0.12]) {
            #expect(abs(Double(count) / 20_000 - share) < 0.015)
        }
    }

    /// In the fleet: requests carry their adapter to their record, the run is reproducible, and loads are counted.
    @Test func aFleetRunCarriesAdaptersAndCountsLoads() throws {
        let lora = LoRASettings(maxLoras: 2, adapterBytes: 25_000_000, loadBytesPerSecond: 25e9)
        var workload = WorkloadSpec(
            name: "tenants", ratePerSecond: 40, inputTokens: .constant(200), outputTokens: .constant(20), pool: "gpu")
        workload.lora = WorkloadSpec.LoRAWorkload(adapters: ["a", "b", "c", "d", "e"], zipf: 1)
        var other = WorkloadSpec(
            name: "base", ratePerSecond: 5, inputTokens: .constant(100), outputTokens: .constant(5), pool: "gpu")
        other.lora = WorkloadSpec.LoRAWorkload(adapters: ["e", "f"])
        let spec = FleetSpec(
            pools: [
                PoolSpec(
                    name: "gpu", replicas: 2,
                    replica: .gpu(
                        GPUReplicaSpec(kvBlocks: 2_000, timing: GPUFleetTests.timing, lora: lora)))
            ],
            workloads: [workload, other], horizon: .seconds(20), warmup: .seconds(2))
        #expect(spec.adapterNames == ["a", "b", "c", "d", "e", "f"])
        let first = try FleetRun.execute(spec, policy: "round-robin", seed: 4)
        let second = try FleetRun.execute(spec, policy: "round-robin", seed: 4)
        #expect(first.digest == second.digest)
        #expect(first.requests.allSatisfy { $0.adapter != nil })
        #expect(first.requests.filter { $0.workload == WorkloadID(1) }.allSatisfy { $0.adapter! >= 4 })
        #expect(first.requests.allSatisfy { $0.status == .completed })
        let loads = first.replicas.reduce(Int64(0)) { $0 + $1.window.loraLoads }
        #expect(loads > 0)
        #expect(RunSummary.of(first)["lora_loads"] == Double(loads))
    }
}
