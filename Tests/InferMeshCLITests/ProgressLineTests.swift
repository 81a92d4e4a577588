import Foundation
import Testing

@testable import InferMeshCLI

/// The progress line's figures, on a clock the test drives.
@Suite struct ProgressLineTests {
    final class Capture: @unchecked Sendable {
        var text = ""
    }

    @Test func ratesAndETAAreMeasuredFromARunsFirstReport() {
        let capture = Capture()
        let io = CommandIO(out: { _ in }, err: { capture.text += $0 }, errIsTerminal: true)
        let second: UInt64 = 1_000_000_000
        let line = ProgressLine(io: io, totalRuns: 2, horizonSeconds: 600, now: 0)
        // A run's first report starts its clock and prints nothing, however late it comes.
        line.update(label: "a", fraction: 0.1, now: 2 * second)
        #expect(capture.text.isEmpty)
        // 1.5 s and one report (65,536 events) later, 15% more of the horizon: 44k events/s, 10 s per run,
        // so 7.5 s for this run's remaining 75% plus 10 s for the run not started.
        line.update(label: "a", fraction: 0.25, now: 3_500_000_000)
        #expect(capture.text.hasSuffix("[1/2] a: 2m30s of 10m0s simulated · 44k events/s · ETA 18s"))
        // Reports closer than 200 ms apart are not printed.
        let printed = capture.text
        line.update(label: "a", fraction: 0.26, now: 3_600_000_000)
        #expect(capture.text == printed)
        // The next run restarts the measurement.
        line.update(label: "b", fraction: 0.01, now: 12 * second)
        #expect(capture.text == printed)
        line.update(label: "b", fraction: 0.51, now: 17 * second)
        #expect(capture.text.hasSuffix("[2/2] b: 5m6s of 10m0s simulated · 13k events/s · ETA 5s"))
    }

    @Test func runsOfOneLabelAreToldApartByTheirProgressGoingBack() {
        // A sweep runs many points under the same policy label.
        let capture = Capture()
        let io = CommandIO(out: { _ in }, err: { capture.text += $0 }, errIsTerminal: true)
        let second: UInt64 = 1_000_000_000
        let line = ProgressLine(io: io, totalRuns: 3, horizonSeconds: 100, now: 0)
        line.update(label: "round-robin", fraction: 0.2, now: 2 * second)
        line.update(label: "round-robin", fraction: 0.9, now: 3 * second)
        #expect(capture.text.hasSuffix("[1/3] round-robin: 1m30s of 1m40s simulated · 66k events/s · ETA 3s"))
        line.update(label: "round-robin", fraction: 0.1, now: 4 * second)
        line.update(label: "round-robin", fraction: 0.6, now: 5 * second)
        #expect(capture.text.hasSuffix("[2/3] round-robin: 1m0s of 1m40s simulated · 66k events/s · ETA 3s"))
    }
}
