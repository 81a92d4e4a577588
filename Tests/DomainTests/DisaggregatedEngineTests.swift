import Fleet
import Testing

/// The engine's two halves of a disaggregated request: a prefill-only sequence that holds its KV for the
/// transfer, and a transferred sequence that decodes without prefilling.
@Suite struct DisaggregatedEngineTests {
    /// A timing model that keeps every step's shape.
    final class RecordingTiming: StepTimingModel, @unchecked Sendable {
        var shapes: [StepShape] = []
        func stepDuration(_ shape: StepShape) -> SimTime {
            shapes.append(shape)
            return .milliseconds(5) + SimTime(nanoseconds: 10_000 * Int64(shape.batchTokens))
        }
    }

    /// Fires the engine's step timers until it is idle; returns every outcome with its time.
    static func runToIdle(
        _ engine: GPUReplica, from effects: ReplicaEffects, at start: SimTime
    ) -> [(time: SimTime, outcome: ReplicaOutcome)] {
        var log = effects.outcomes.map { (start, $0) }
        var pending = effects.timers.last
        while let (at, timer) = pending {
            var next = ReplicaEffects()
            engine.fire(timer, now: at, effects: &next)
            log += next.outcomes.map { (at, $0) }
            pending = next.timers.last
        }
        return log
    }

    static func request(_ id: Int, input: Int, output: Int, prefix: PromptPrefix? = nil) -> ServingRequest {
        ServingRequest(id: RequestID(id), inputTokens: input, outputTokens: output, prefix: prefix)
    }

    @Test func aDecodeOnlyReplicasStepsCarryNoPrefillChunks() {
        let timing = RecordingTiming()
        let engine = GPUReplica(settings: EngineSettings(), kvBlocks: 1_000, timing: timing)
        var log: [(time: SimTime, outcome: ReplicaOutcome)] = []
        for id in 0..<3 {
            let request = Self.request(id, input: 900 + 100 * id, output: 4 + id)
            #expect(engine.reserve(request, now: .zero) == 0)
            var effects = ReplicaEffects()
            engine.receive(request.id, now: .zero, effects: &effects)
            log += Self.runToIdle(engine, from: effects, at: .zero)
        }
        #expect(!timing.shapes.isEmpty)
        #expect(timing.shapes.allSatisfy { $0.prefillTokens == 0 && $0.decodeSequences > 0 })
        #expect(log.filter { if case .completed = $0.outcome { true } else { false } }.count == 3)
        #expect(engine.integrals(now: .seconds(1)).promptTokens == 0)
        #expect(engine.kvCache.heldBlocks == 0 && engine.kvCache.conservationViolation() == nil)
    }

    @Test func aTransferredSequencesFirstTokenIsItsFirstDecodeIteration() {
        let timing = RecordingTiming()
        let engine = GPUReplica(settings: EngineSettings(), kvBlocks: 1_000, timing: timing)
        let request = Self.request(0, input: 1_000, output: 3)
        _ = engine.reserve(request, now: .zero)
        var effects = ReplicaEffects()
        engine.receive(request.id, now: .milliseconds(2), effects: &effects)
        let log = Self.runToIdle(engine, from: effects, at: .milliseconds(2))
        // One decode token per step at 5.01 ms: the first token ends the first step, then two more.
        let step = SimTime(nanoseconds: 5_010_000)
        #expect(log.first { $0.outcome == .firstToken(request.id) }?.time == .milliseconds(2) + step)
        #expect(log.first { $0.outcome == .completed(request.id) }?.time == .milliseconds(2) + step + step + step)
        #expect(timing.shapes.map(\.decodeContextTokens) == [1_001, 1_002, 1_003])
    }

    @Test func aPrefillOnlySequenceHoldsItsKVUntilReleased() {
        let engine = GPUReplica(settings: EngineSettings(), kvBlocks: 1_000, timing: RecordingTiming())
        var request = Self.request(0, input: 1_000, output: 50, prefix: PromptPrefix(key: 7, tokens: 1_000))
        request.prefillOnly = true
        var effects = ReplicaEffects()
        engine.enqueue(request, now: .zero, effects: &effects)
        let log = Self.runToIdle(engine, from: effects, at: .zero)
        #expect(log.map(\.outcome) == [.started(request.id), .prefilled(request.id)])
        let held = engine.kvCache.heldBlocks
        #expect(held == engine.kvCache.blocks(forTokens: 1_000))
        #expect(engine.gauges(now: .seconds(1)).numRequestsRunning == 0)
        #expect(engine.gauges(now: .seconds(1)).numRequestsWaiting == 0)
        engine.releaseTransferred(request.id, now: .seconds(1))
        #expect(engine.kvCache.heldBlocks == 0)
        // The prompt's full blocks stay cached, so the next prompt with the same prefix reuses them.
        #expect(engine.cachedPrefixBlocks(PromptPrefix(key: 7, tokens: 1_000), limit: 100) == 1_000 / 16)
        #expect(engine.kvCache.conservationViolation() == nil)
    }

    @Test func aHeldPrefillCanDecodeWhereItIs() {
        let engine = GPUReplica(settings: EngineSettings(), kvBlocks: 1_000, timing: RecordingTiming())
        var request = Self.request(0, input: 500, output: 3)
        request.prefillOnly = true
        var effects = ReplicaEffects()
        engine.enqueue(request, now: .zero, effects: &effects)
        _ = Self.runToIdle(engine, from: effects, at: .zero)
        var resumed = ReplicaEffects()
        engine.decodeHeld(request.id, now: .milliseconds(20), effects: &resumed)
        let log = Self.runToIdle(engine, from: resumed, at: .milliseconds(20))
        #expect(log.first?.outcome == .firstToken(request.id) && log.first?.time == .milliseconds(20))
        #expect(log.last?.outcome == .completed(request.id))
        #expect(engine.kvCache.heldBlocks == 0)
    }

    @Test func aReservationThatDoesNotFitTakesNothing() {
        let engine = GPUReplica(settings: EngineSettings(), kvBlocks: 100, timing: RecordingTiming())
        #expect(engine.reserve(Self.request(0, input: 1_200, output: 10), now: .zero) == 0)  // 75 of 100 blocks
        #expect(engine.reserve(Self.request(1, input: 800, output: 10), now: .zero) == nil)  // 50 more: no room
        #expect(engine.kvCache.heldBlocks == 75)
        var effects = ReplicaEffects()
        #expect(engine.abort(RequestID(0), now: .zero, effects: &effects))
        #expect(engine.kvCache.heldBlocks == 0)
        #expect(engine.reserve(Self.request(1, input: 800, output: 10), now: .zero) == 0)
    }
}
