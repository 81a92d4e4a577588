import Foundation
import Scenarios
import Testing

/// `scenarios/single-replica-knee.yaml` swept over load: TPOT stays nearly flat until the batch fills, then
/// TTFT rises steeply from queueing.
@Suite struct KneeTests {
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
    }

    /// Median TTFT and TPOT (ms) of the measured, completed requests at `rate` requests per second.
    static func point(_ scenario: Scenario, rate: Double) throws -> (ttft: Double, tpot: Double) {
        var fleet = scenario.fleet
        fleet.workloads[0].ratePerSecond = rate
        let output = try FleetRun.execute(fleet, policy: "round-robin", seed: scenario.seed)
        let done = output.requests.filter { output.isMeasured($0) && $0.status == .completed }
        return (
            median(done.compactMap(\.ttft).map(\.milliseconds)), median(done.compactMap(\.tpot).map(\.milliseconds))
        )
    }

    @Test func tpotIsFlatUntilTheBatchFillsThenTTFTRisesSharply() throws {
        let file = Support.repositoryRoot.appendingPathComponent("scenarios/single-replica-knee.yaml").path
        let scenario = try ScenarioLoader.load(path: file)
        let light = try Self.point(scenario, rate: 2)
        let busy = try Self.point(scenario, rate: 12)
        let overloaded = try Self.point(scenario, rate: 40)
        // Below the knee a 6x load raises TPOT by well under 2x (the weights dominate a small batch's step).
        #expect(busy.tpot < 2 * light.tpot, "TPOT \(light.tpot) → \(busy.tpot) ms")
        // Past the knee requests wait for a slot: median TTFT grows by more than 10x.
        #expect(overloaded.ttft > 10 * busy.ttft, "TTFT \(busy.ttft) → \(overloaded.ttft) ms")
    }
}
