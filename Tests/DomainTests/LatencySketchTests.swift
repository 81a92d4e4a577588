import Analysis
import Fleet
import SimKernel
import Testing

/// The summary's latency sketch against exact order statistics.
@Suite struct LatencySketchTests {
    @Test func percentilesAreWithinTheHistogramsPrecisionOfTheExactNearestRank() {
        // 200k lognormal latencies (median about 100 ms, heavy tail), fixed seed. Three significant digits
        // put every value within 1/1024 of its bucket's top (buckets of 1,024 to 2,048 steps); the sketch reports that top (clamped to the
        // maximum), so it may be above the nearest-rank value by at most that, and never below it.
        let stream = RandomStreams(runSeed: 11).stream("test/sketch")
        let latencies = Distribution.lognormal(mean: 0.15, cv: 1.5)
        var values: [Int64] = []
        var sketch = LatencySketch()
        for _ in 0..<200_000 {
            let ns = Int64(stream.sample(latencies) * 1e9)
            values.append(ns)
            sketch.record(SimTime(nanoseconds: ns))
        }
        values.sort()
        #expect(sketch.count == values.count)
        let exactMean = values.reduce(0.0) { $0 + Double($1) / 1e6 } / Double(values.count)
        #expect(abs(sketch.meanMilliseconds - exactMean) < 1e-9 * exactMean)
        #expect(sketch.maxMilliseconds == Double(values.last!) / 1e6)
        for p in [0.5, 0.9, 0.99, 0.999, 1.0] {
            let rank = max(1, Int((p * Double(values.count)).rounded()))
            let exact = Double(values[rank - 1]) / 1e6
            let reported = sketch.quantileMilliseconds(p)
            #expect(reported >= exact * (1 - 1e-12) && reported <= exact * (1 + 1.0 / 1024), "p\(p)")
        }
    }

    @Test func smallValuesAreExactAndAnEmptySketchIsNaN() {
        var sketch = LatencySketch()
        #expect(sketch.quantileMilliseconds(0.5).isNaN && sketch.meanMilliseconds.isNaN && sketch.maxMilliseconds.isNaN)
        // Below 2,048 ns every nanosecond has its own bucket; zero (no queueing) stays zero.
        for ns in [0, 0, 0, 1_500, 2_000] as [Int64] { sketch.record(SimTime(nanoseconds: ns)) }
        #expect(sketch.quantileMilliseconds(0.5) == 0)
        #expect(sketch.quantileMilliseconds(0.8) == 0.0015)
        #expect(sketch.quantileMilliseconds(1) == 0.002)
    }
}
